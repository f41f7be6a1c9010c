import net from 'node:net';

const port = Number(process.env.PORT);

const server = net.createServer((socket) => {
  // TODO: collect what the client sends, and for every complete line (ending in "\n")
  //       write back `you said: <the line>\n`.
  socket.on('error', (err) => {
    console.error(`client error: ${err.message}`);
  });
});

server.listen(port, () => {
  console.log(`listening on port ${port}`);
});
