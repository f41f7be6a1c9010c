// Two Socket.IO servers that act as one through Redis: each has the Redis adapter (a publishing
// and a subscribing connection of its own), so a broadcast on one reaches the clients of the
// other. Both servers run in this one process to keep the demo short; in production they are
// separate processes or machines, and nothing below would change. Needs the run's own Redis
// (REDIS_URL), which the Run button provides for this lesson.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { io as connect, type Socket } from 'socket.io-client';

const host = process.env.HOST ?? '127.0.0.1';
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) throw new Error('REDIS_URL is not set: run this with a Redis (the lesson\'s Run button gives it one)');

interface ServerToClientEvents {
  message: (text: string) => void;
}
interface ClientToServerEvents {
  say: (text: string) => void;
}
interface InterServerEvents {
  hello: (from: string) => void;
  count: (ack: (connected: number) => void) => void;
}
interface SocketData {
  name: string;
}

/** One server: its own HTTP server, its own Redis connections, the adapter in between. */
async function startServer(label: string, port: number) {
  const pubClient = createClient({ url: redisUrl });
  const subClient = pubClient.duplicate(); // a subscribed connection can do nothing but receive
  pubClient.on('error', (err) => console.log(`${label}: redis: ${err.message}`));
  subClient.on('error', (err) => console.log(`${label}: redis: ${err.message}`));
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const httpServer = http.createServer();
  const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer, {
    adapter: createAdapter(pubClient, subClient),
  });
  io.on('connection', (socket) => {
    socket.data.name = String(socket.handshake.auth.name);
    socket.join('lobby');
    socket.on('say', (text) => io.to('lobby').emit('message', `${socket.data.name} (via ${label}): ${text}`));
  });
  // Events from the other servers (io.serverSideEmit), not from clients.
  io.on('hello', (from) => console.log(`${label}: the other server says hello from ${from}`));
  io.on('count', (ack) => ack(io.of('/').sockets.size));

  httpServer.listen(port, host);
  await once(httpServer, 'listening');
  const url = `http://${host}:${(httpServer.address() as AddressInfo).port}`;
  return {
    io,
    url,
    async stop() {
      await io.close();
      await Promise.all([pubClient.close(), subClient.close()]);
    },
  };
}

const serverA = await startServer('A', Number(process.env.PORT ?? 0));
const serverB = await startServer('B', 0);

const received = new Map<string, number>();
/** A client of one server, printing and counting what it receives. */
async function client(name: string, url: string): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = connect(url, { auth: { name }, transports: ['websocket'] });
  received.set(name, 0);
  socket.on('message', (text) => {
    received.set(name, received.get(name)! + 1);
    console.log(`  ${name} got: ${text}`);
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}
const alice = await client('alice', serverA.url);
const bob = await client('bob', serverB.url);

/** Resolves once `socket` has received `count` more messages. */
const messages = (socket: Socket<ServerToClientEvents, ClientToServerEvents>, count: number) =>
  new Promise<void>((resolve) => {
    let left = count;
    const onMessage = () => {
      if (--left === 0) {
        socket.off('message', onMessage);
        resolve();
      }
    };
    socket.on('message', onMessage);
  });

console.log('alice (on A) says hi to the lobby:');
let arrived: Promise<unknown> = Promise.all([messages(alice, 1), messages(bob, 1)]);
alice.emit('say', 'hi');
await arrived;

console.log('bob (on B) answers:');
arrived = Promise.all([messages(alice, 1), messages(bob, 1)]);
bob.emit('say', 'hello alice');
await arrived;

// Asking the whole cluster: fetchSockets() answers for every server, each socket with its data.
const inLobby = await serverA.io.in('lobby').fetchSockets();
console.log(`A: in the lobby, on all servers: ${inLobby.map((s) => s.data.name).sort().join(', ')}`);
console.log(`A: connected to A itself: ${serverA.io.of('/').sockets.size} (local state is not shared)`);
const counts = await serverA.io.serverSideEmitWithAck('count'); // one answer per other server
console.log(`A: the other servers report ${counts.join(', ')} connected`);
const helloReachedB = new Promise<void>((resolve) => serverB.io.on('hello', () => resolve()));
serverA.io.serverSideEmit('hello', 'A');

// io.local skips the adapter: only A's own clients get this.
console.log('A broadcasts locally:');
arrived = messages(alice, 1);
serverA.io.local.emit('message', 'server A only');
await arrived;

await helloReachedB; // before closing: it comes through Redis like the rest
console.log(`bob got ${received.get('bob')} messages, alice ${received.get('alice')}`);
alice.disconnect();
bob.disconnect();
await Promise.all([serverA.stop(), serverB.stop()]);
