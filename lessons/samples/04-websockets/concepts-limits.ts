// Two limits every WebSocket server needs. maxPayload: a message over it closes the connection
// with 1009 before the server buffers it. Backpressure: ws.send() never refuses data, it queues it
// (bufferedAmount), so a server that broadcasts must notice a client that stopped reading.
import net from 'node:net';
import { once } from 'node:events';
import { WebSocketServer, WebSocket } from 'ws';

const host = process.env.HOST ?? '127.0.0.1';
const MAX_MESSAGE_BYTES = 4096;
const MAX_QUEUED_BYTES = 1024 * 1024; // per client: past this, skip it (or drop it)

const wss = new WebSocketServer({ host, port: Number(process.env.PORT ?? 0), maxPayload: MAX_MESSAGE_BYTES });
wss.on('connection', (ws) => {
  ws.on('error', (err) => console.log(`server: error: ${err.message}`)); // the 1009 comes with an 'error'
  ws.on('message', (data: Buffer) => console.log(`server: got a message of ${data.length} bytes`));
});
await once(wss, 'listening');
const { port } = wss.address() as net.AddressInfo;
const url = `ws://${host}:${port}/`;

// 1. maxPayload
const big = new WebSocket(url);
big.on('error', () => {});
await once(big, 'open');
big.send('x'.repeat(MAX_MESSAGE_BYTES)); // exactly the limit: fine
big.send('x'.repeat(MAX_MESSAGE_BYTES + 1)); // one byte more: closed
const [code] = (await once(big, 'close')) as [number];
console.log(`client: closed with ${code} after a message of ${MAX_MESSAGE_BYTES + 1} bytes`);

// 2. backpressure: a client whose socket we stop reading, like a phone on a bad network
let slowSocket: net.Socket | undefined;
const slow = new WebSocket(url, {
  // Our own TCP connection under the WebSocket, so that we can stop reading it.
  createConnection: () => (slowSocket = net.createConnection(port, host)),
});
const fast = new WebSocket(url);
const fastGot: number[] = [];
fast.on('message', () => fastGot.push(1));
for (const ws of [slow, fast]) ws.on('error', () => {});
await Promise.all([once(slow, 'open'), once(fast, 'open')]);
slowSocket?.pause();

const update = Buffer.alloc(64 * 1024, 'u'); // one 64 KiB update per tick
let skipped = 0;
let peak = 0;
for (let tick = 0; tick < 200 && skipped === 0; tick++) {
  for (const client of wss.clients) {
    // bufferedAmount: bytes handed to send() that have not reached the network yet.
    peak = Math.max(peak, client.bufferedAmount);
    if (client.bufferedAmount > MAX_QUEUED_BYTES) {
      skipped++; // a real server might terminate() it, or send it only the latest state later
      continue;
    }
    client.send(update);
  }
  await new Promise((resolve) => setImmediate(resolve)); // let the sockets write
}
console.log(`server: one client had more than ${MAX_QUEUED_BYTES / 1024} KiB queued (peak ${Math.round(peak / 1024)} KiB): skipped it ${skipped} time(s)`);
while (fastGot.length < 2) await once(fast, 'message');
console.log('client: the fast client kept receiving meanwhile');

// The send callback says when a message has been written to the socket (or why not).
fast.send('last one', (err) => console.log(`client: "last one" ${err ? `failed: ${err.message}` : 'was written to the socket'}`));

for (const ws of [slow, fast]) ws.terminate();
wss.close();
