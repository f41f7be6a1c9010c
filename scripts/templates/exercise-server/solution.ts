import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer((socket) => {
  // Strings instead of Buffers; a character cut between two chunks is held back until it is whole.
  socket.setEncoding('utf8');
  // What arrived after the last "\n": the start of a line still to come (one per client).
  let rest = '';
  socket.on('data', (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) socket.write(`you said: ${line}\n`);
  });
  socket.on('error', (err) => {
    console.error(`client error: ${err.message}`);
  });
});

server.listen(port, () => {
  console.log(`listening on port ${port}`);
});
