// Reconnecting in outline: a client that comes back after the server dropped it, waiting a little
// longer each time (with jitter), and that does not come back after a close it asked for. The
// server here is a local one that restarts twice (closes with 1012) before it serves.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(server, 'listening');
let connections = 0;
server.on('connection', (ws) => {
  if (++connections <= 2) return ws.close(1012, 'restarting'); // 1012: service restart, try again
  ws.on('message', (data) => ws.send(`echo: ${data.toString()}`));
});
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;

/** Waits before attempt n: 100 ms, 200 ms, 400 ms… at most 5 s, each with up to 50 % jitter so that many clients do not all come back at once. */
function backoff(attempt: number): number {
  const base = Math.min(5000, 100 * 2 ** (attempt - 1));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

let attempt = 0;
let stopping = false;

function connect(): void {
  attempt++;
  const ws = new WebSocket(url);
  ws.on('open', () => {
    console.log(`attempt ${attempt}: open`);
    ws.send('hello');
  });
  ws.on('message', (data) => {
    console.log(`attempt ${attempt}: ${data.toString()}`);
    attempt = 0; // a healthy connection resets the backoff
    stopping = true;
    ws.close(1000, 'done');
  });
  ws.on('error', (err) => console.log(`attempt ${attempt}: error ${err.message}`));
  // 'close' comes once per connection, also after 'error': reconnect from here only.
  ws.on('close', (code, reason) => {
    if (stopping) {
      console.log(`closed by us (${code} ${reason.toString()}): not reconnecting`);
      server.close();
      return;
    }
    const wait = backoff(attempt);
    console.log(`attempt ${attempt}: closed ${code} "${reason.toString()}", reconnecting in ${wait} ms`);
    setTimeout(connect, wait);
  });
}

connect();
