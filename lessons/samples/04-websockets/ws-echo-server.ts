// A WebSocket echo server with ws 8, and a client that talks to it: text stays text, binary stays
// binary, and the close code and reason come back. The program ends by itself.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

const host = process.env.HOST ?? '127.0.0.1';
const wss = new WebSocketServer({ host, port: Number(process.env.PORT ?? 0) });

wss.on('connection', (ws, request) => {
  // A random id per connection; crypto is a global in Node (no uuid package needed).
  const id = crypto.randomUUID().slice(0, 8);
  console.log(`server: ${id} connected from ${request.socket.remoteAddress}, path ${request.url}`);

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // Every message arrives as a Buffer: isBinary says what it was. A Buffer sent back would be
    // binary, so text goes back as a string.
    console.log(`server: ${id} sent ${isBinary ? 'binary' : 'text'} (${data.length} bytes)`);
    ws.send(isBinary ? data : data.toString());
  });

  // 'error' is followed by 'close': log it here, clean up in 'close' only.
  ws.on('error', (err) => console.log(`server: ${id} error: ${err.message}`));

  // The reason is a Buffer in ws 8 (UTF-8 bytes of at most 123 bytes).
  ws.on('close', (code: number, reason: Buffer) => {
    console.log(`server: ${id} closed with ${code} "${reason.toString()}"`);
  });
});

await once(wss, 'listening');
const { port } = wss.address() as AddressInfo;
console.log(`server: listening on ws://${host}:${port}`);

// --- a client ---------------------------------------------------------
const client = new WebSocket(`ws://${host}:${port}/echo`);
client.on('error', (err) => console.log(`client error: ${err.message}`));
await once(client, 'open');

const replies: Array<[Buffer, boolean]> = [];
client.on('message', (data: Buffer, isBinary: boolean) => replies.push([data, isBinary]));

client.send('héllo ✓'); // a string: a text message
client.send(Buffer.from([0xff, 0x00, 0xfe])); // a Buffer: a binary message, not valid UTF-8
client.send('and a second one'); // a second message, never merged with the first

while (replies.length < 3) await once(client, 'message');
for (const [data, isBinary] of replies) {
  console.log(`client: got ${isBinary ? 'binary' : 'text'} ${isBinary ? data.toString('hex') : JSON.stringify(data.toString())}`);
}

client.close(4001, 'done here');
const [code, reason] = (await once(client, 'close')) as [number, Buffer];
console.log(`client: the server answered the close with ${code} "${reason.toString()}"`);
wss.close();
