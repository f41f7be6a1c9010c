// The mistake: each chunk is turned into a string and back. Text survives, but bytes that are not
// valid UTF-8 (binary data, or a character cut between two chunks) come back as U+FFFD.
import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer((socket) => {
  socket.on('data', (chunk) => {
    const text = chunk.toString();
    socket.write(text);
  });
  socket.on('error', (err) => {
    console.error(`client error: ${err.message}`);
  });
});

server.listen(port, () => {
  console.log(`echo server listening on port ${port}`);
});
