// The mistake: `once` instead of `on` for 'connection'. The first client is served; every later
// client is accepted by the operating system but nobody ever reads from or writes to its socket.
import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer();

server.once('connection', (socket) => {
  socket.pipe(socket);
  socket.on('error', (err) => {
    console.error(`client error: ${err.message}`);
  });
});

server.listen(port, () => {
  console.log(`echo server listening on port ${port}`);
});
