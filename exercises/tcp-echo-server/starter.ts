import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer((socket) => {
  // TODO: send every chunk the client sends straight back to it.
  // TODO: handle the socket's 'error' event, so one broken client cannot crash the server.
});

server.listen(port, () => {
  console.log(`echo server listening on port ${port}`);
});
