import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer((socket) => {
  // pipe() writes each chunk back as it arrives and pauses reading while the
  // client is slow to read its replies (back-pressure), ending when the client does.
  socket.pipe(socket);
  socket.on('error', (err) => {
    console.error(`client error: ${err.message}`);
  });
});

server.on('error', (err) => {
  console.error(`server error: ${err.message}`);
  process.exitCode = 1;
});

server.listen(port, () => {
  console.log(`echo server listening on port ${port}`);
});
