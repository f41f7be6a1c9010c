import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT);

// ws handles the opening handshake, frames, fragments, pings and the closing handshake; what is
// left is what to do with each message. (perMessageDeflate is off by default: messages go as sent.)
const wss = new WebSocketServer({ port });

wss.on('connection', (ws: WebSocket) => {
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // ws 8 gives every message as a Buffer. Sending a Buffer makes a binary message, so a text
    // message goes back as a string (decoding is safe: ws has already checked its UTF-8), and a
    // binary one goes back as the same bytes.
    if (isBinary) ws.send(data);
    else ws.send(data.toString('utf8'));
  });

  // A protocol error (e.g. a text message that is not valid UTF-8) makes ws close that connection
  // with the right code and emit 'error' here: without a listener, it would crash the server.
  ws.on('error', (err) => {
    console.error(`client error: ${err.message}`);
  });
});

wss.on('listening', () => {
  console.log(`WebSocket echo server listening on port ${port}`);
});

wss.on('error', (err) => {
  console.error(`server error: ${err.message}`);
  process.exitCode = 1;
});
