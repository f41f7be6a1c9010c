// Back-pressure: socket.write() returns false when data piles up because
// the other side reads more slowly than we write. The fix: wait for
// 'drain' before writing more.
import net from 'node:net';
import { once } from 'node:events';

const host = process.env.HOST ?? '127.0.0.1';
const CHUNK = Buffer.alloc(64 * 1024, 'x'); // 64 KiB
const CHUNKS = 256; // 16 MiB in total
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const server = net.createServer((socket) => {
  socket.on('error', (err) => console.log(`server: ${err.message}`));
  let sent = 0;
  let waits = 0;
  let mostQueued = 0;

  function writeMore(): void {
    while (sent < CHUNKS) {
      sent++;
      const ok = socket.write(CHUNK);
      mostQueued = Math.max(mostQueued, socket.writableLength);
      if (!ok) {
        if (waits === 0) {
          const soFar = mib(sent * CHUNK.length);
          console.log(
            `server: write() returned false after ${soFar}; waiting for 'drain'`,
          );
        }
        waits++;
        // The queue has emptied: continue where we stopped.
        socket.once('drain', writeMore);
        return;
      }
    }
    socket.end();
    const total = mib(sent * CHUNK.length);
    console.log(
      `server: all ${total} written; waited for 'drain' ${waits} time(s)`,
    );
    console.log(`server: at most ${mib(mostQueued)} was ever queued inside Node`);
  }
  writeMore();
});
server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');

// A slow client: it does not read at all for the first 300 ms.
const client = net.connect((server.address() as net.AddressInfo).port, host);
client.on('error', (err) => console.log(`client: ${err.message}`));
client.pause();
console.log('client: connected, not reading for 300 ms');
setTimeout(() => {
  console.log('client: reading now');
  client.resume();
}, 300);

let received = 0;
client.on('data', (chunk: Buffer) => {
  received += chunk.length;
});
await once(client, 'end');
console.log(`client: received ${mib(received)}`);
server.close();
