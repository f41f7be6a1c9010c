// The mistake: one 'data' event taken for one line. It works while each line arrives in one piece,
// and breaks when TCP splits a line or delivers two lines together.
import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer((socket) => {
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    socket.write(`you said: ${text.replace(/\n$/, '')}\n`);
  });
  socket.on('error', (err) => {
    console.error(`client error: ${err.message}`);
  });
});

server.listen(port, () => {
  console.log(`listening on port ${port}`);
});
