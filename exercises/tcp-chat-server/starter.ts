// A TCP chat server. See the instructions for the exact protocol.
import net from 'node:net';

const PORT = Number(process.env.PORT);

const server = net.createServer((socket) => {
  socket.write('Welcome to TCP Chat!\n');
  socket.write('Please enter your username:\n');

  socket.on('data', (chunk: Buffer) => {
    // TODO: turn the chunks into lines (a chunk is not a line!), then for each line:
    //   - before the client has a name: check the name, welcome it, tell the others it joined
    //   - after: broadcast a message, or handle /users, /help, /whisper, /pm, /quit
  });

  // TODO: when the connection ends, tell the others "* <name> left the chat" (once!).
  // TODO: handle 'error', or one reset connection will crash the server.
});

server.listen(PORT, () => console.log(`chat server listening on port ${PORT}`));
