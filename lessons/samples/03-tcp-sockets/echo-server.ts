// A TCP echo server: every byte a client sends comes straight back.
// To show it working, the program then connects a client to itself,
// checks the echo, and shuts everything down.
import net from 'node:net';
import { once } from 'node:events';

const host = process.env.HOST ?? '127.0.0.1';

const server = net.createServer((socket) => {
  const who = `${socket.remoteAddress}:${socket.remotePort}`;
  console.log(`server: ${who} connected`);

  socket.on('data', (chunk: Buffer) => {
    // write() returns false when data piles up faster than the client
    // reads it. Then stop reading until the queue has drained, so the
    // memory used for this client stays bounded.
    if (!socket.write(chunk)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  });
  socket.on('error', (err) => {
    console.log(`server: ${who} error: ${err.message}`);
  });
  socket.on('close', () => console.log(`server: ${who} disconnected`));
});

server.on('error', (err) => {
  // e.g. EADDRINUSE when the port is taken
  console.log(`server error: ${err.message}`);
  process.exitCode = 1;
});

server.listen(Number(process.env.PORT ?? 0), host, () => {
  const { port } = server.address() as net.AddressInfo;
  console.log(`server: listening on ${host}:${port}`);
});
await once(server, 'listening');

// --- a quick test client ---------------------------------------------
const { port } = server.address() as net.AddressInfo;
const client = net.connect(port, host);
client.on('error', (err) => console.log(`client error: ${err.message}`));

await once(client, 'connect');
const text = Buffer.from('Hello, echo!\n');
const bytes = Buffer.from([0x00, 0xff, 0x10]); // not text: TCP does not care
client.write(text);
client.end(bytes); // send the last piece and say "I'm done sending"

const received: Buffer[] = [];
for await (const chunk of client) received.push(chunk as Buffer);
const echoed = Buffer.concat(received);
const start = JSON.stringify(echoed.toString('utf8', 0, text.length));
console.log(`client: got back ${echoed.length} bytes, starting with ${start}`);
const same = echoed.equals(Buffer.concat([text, bytes]));
console.log(`client: identical to what was sent? ${same}`);

server.close(() => console.log('server: closed'));
