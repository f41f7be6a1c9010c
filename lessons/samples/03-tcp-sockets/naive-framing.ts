// What goes wrong when a server treats every 'data' event as one message.
import net from 'node:net';
import { once } from 'node:events';

const host = process.env.HOST ?? '127.0.0.1';

// The naive server: one data event = one message (this is the bug).
let count = 0;
let chunkArrived = () => {};
const server = net.createServer((socket) => {
  socket.on('data', (data: Buffer) => {
    count++;
    const message = JSON.stringify(data.toString());
    console.log(`naive server, message ${count}: ${message}`);
    chunkArrived();
  });
  socket.on('error', (err) => console.log(`server: ${err.message}`));
});
server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');

const client = net.connect((server.address() as net.AddressInfo).port, host);
client.on('error', (err) => console.log(`client: ${err.message}`));
await once(client, 'connect');

/** Writes, then waits until the server has read it, so pieces stay apart. */
async function send(piece: string | Buffer): Promise<void> {
  const arrived = new Promise<void>((resolve) => (chunkArrived = resolve));
  client.write(piece);
  await arrived;
}

console.log('1) two lines in one write:');
await send('Hello\nWorld\n');

console.log('2) one line in two writes:');
await send('How are ');
await send('you?\n');

console.log('3) "café" split in the middle of the two bytes of é:');
const cafe = Buffer.from('café\n'); // c a f 0xc3 0xa9 \n
await send(cafe.subarray(0, 4));
await send(cafe.subarray(4));

console.log(
  `the client sent 4 lines; the naive server counted ${count} messages, ` +
    'and mangled é',
);
client.end();
server.close();
