import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT);

const wss = new WebSocketServer({ port });

wss.on('connection', (ws) => {
  // TODO: send each message back to the client that sent it, as the same kind of message:
  //       text as text, binary as binary. ('message' gives you (data, isBinary).)
  // TODO: listen for 'error' on each connection, so one misbehaving client cannot crash the server.
});

wss.on('listening', () => {
  console.log(`WebSocket echo server listening on port ${port}`);
});
