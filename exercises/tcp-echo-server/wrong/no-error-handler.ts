// The mistake: no 'error' listener on the client's socket. When a client resets its connection,
// the socket emits 'error' (ECONNRESET); with no listener that is an uncaught exception, and the
// whole server crashes for every other client.
import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer((socket) => {
  socket.pipe(socket);
});

server.listen(port, () => {
  console.log(`echo server listening on port ${port}`);
});
