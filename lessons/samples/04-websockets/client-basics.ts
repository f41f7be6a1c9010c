// A WebSocket client with ws 8, against the run's WebSocket echo server: the four events, a text
// and a binary message, and a close with a code and a reason.
import { WebSocket } from 'ws';

const url = `ws://${process.env.HOST}:${process.env.WS_ECHO_PORT}/`;
const ws = new WebSocket(url);
console.log(`connecting to ${url} (readyState ${ws.readyState}: CONNECTING)`);

ws.on('open', () => {
  console.log(`open (readyState ${ws.readyState}: OPEN)`);
  ws.send('Hello, WebSocket! ✓'); // a string goes as a text message
  ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef])); // a Buffer as a binary message
  ws.send(JSON.stringify({ type: 'greeting', from: 'client-basics' })); // JSON is text
});

let received = 0;
ws.on('message', (data, isBinary) => {
  // data is a Buffer either way; isBinary says which kind of message it was.
  const shown = isBinary ? `binary, ${(data as Buffer).toString('hex')}` : `text, ${data.toString()}`;
  console.log(`message ${++received}: ${shown}`);
  if (received === 3) ws.close(1000, 'all three came back');
});

// One 'close' per connection, however it ended. The reason is a Buffer in ws 8, not a string.
ws.on('close', (code, reason) => {
  console.log(`close: code ${code}, reason "${reason.toString()}" (readyState ${ws.readyState}: CLOSED)`);
});

// A failed connection or a protocol error; 'close' follows, so clean up there, not here.
ws.on('error', (err) => {
  console.error(`error: ${err.message}`);
  process.exitCode = 1;
});
