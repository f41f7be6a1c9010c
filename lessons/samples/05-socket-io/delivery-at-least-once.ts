// At-least-once delivery: the client sends each message with an id and sends it again until the
// server acknowledges it; the server remembers the ids it has stored and acknowledges a repeat
// without storing it twice. Here the connection is cut after message 3 reached the server but
// before its ack could come back, so message 3 arrives twice and is stored once.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';

interface Message {
  id: string;
  text: string;
}
interface SaveAck {
  ok: true;
  duplicate: boolean;
}

const host = process.env.HOST ?? '127.0.0.1';
const httpServer = http.createServer();
const io = new Server(httpServer);

const stored: Message[] = [];
const storedIds = new Set<string>(); // in a real server: a unique key in the database
let deliveries = 0;
let cutOnce = true;

io.on('connection', (socket) => {
  socket.on('save', (message: Message, ack: (reply: SaveAck) => void) => {
    deliveries++;
    const duplicate = storedIds.has(message.id);
    if (!duplicate) {
      storedIds.add(message.id);
      stored.push(message);
    }
    console.log(`server: got ${message.id}${duplicate ? ' again: already stored, acknowledged only' : ', stored'}`);
    if (message.id === 'm3' && cutOnce) {
      cutOnce = false;
      socket.conn.close(); // the connection dies before the ack is sent
      return;
    }
    ack({ ok: true, duplicate });
  });
});

httpServer.listen(Number(process.env.PORT ?? 0), host);
await once(httpServer, 'listening');
const url = `http://${host}:${(httpServer.address() as AddressInfo).port}`;

const client = connect(url, { transports: ['websocket'], reconnectionDelay: 100 });
client.on('disconnect', (reason) => console.log(`client: disconnected ("${reason}")`));

/** Sends until acknowledged: each try waits at most `ackTimeoutMs`, then the same message (same id) goes again. */
async function sendReliably(message: Message, ackTimeoutMs = 500, maxTries = 5): Promise<SaveAck> {
  for (let attempt = 1; ; attempt++) {
    try {
      // While the client is disconnected, socket.io buffers the emit and sends it after reconnecting.
      return (await client.timeout(ackTimeoutMs).emitWithAck('save', message)) as SaveAck;
    } catch (err) {
      // A timeout, or "socket has been disconnected": we cannot know whether the server got it.
      console.log(`client: no ack for ${message.id} (${(err as Error).message}), try ${attempt} of ${maxTries}`);
      if (attempt === maxTries) throw err;
    }
  }
}

for (let n = 1; n <= 5; n++) {
  const reply = await sendReliably({ id: `m${n}`, text: `message ${n}` });
  console.log(`client: m${n} acknowledged${reply.duplicate ? ' (the server already had it)' : ''}`);
}
console.log(`server: ${deliveries} deliveries, ${stored.length} stored: ${stored.map((m) => m.id).join(', ')}`);

client.disconnect();
await io.close();
