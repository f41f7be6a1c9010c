// Who receives a broadcast: four clients, two rooms, and one emit for each way of choosing the
// recipients. After each emit the server sends everyone a marker; events on one connection arrive
// in order, so once a client has the marker, whatever the emit sent it has arrived too.
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

const io = new Server(0, { transports: ['websocket'] });
const url = `http://127.0.0.1:${(io.httpServer.address() as AddressInfo).port}`;
const rooms: Record<string, string[]> = { alice: [], bob: ['blue'], carol: ['blue', 'red'], dave: ['red'] };

// The server side of each client, by name, once it has joined its rooms.
const onServer = new Map<string, ServerSocket>();
io.on('connection', (socket) => {
  const name = String(socket.handshake.auth.name);
  socket.join(rooms[name]);
  onServer.set(name, socket);
});

const clients = new Map<string, Socket>();
for (const name of Object.keys(rooms)) {
  const socket = connect(url, { auth: { name }, transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  clients.set(name, socket);
}
const [alice, bob] = ['alice', 'bob'].map((name) => onServer.get(name)!);

/** Runs one emit of 'news' and prints who got it, once every client has seen the marker after it. */
async function show(what: string, emit: () => void): Promise<void> {
  const got: string[] = [];
  const everyoneDone = [...clients].map(
    ([name, socket]) =>
      new Promise<void>((resolve) => {
        const onNews = () => got.push(name);
        socket.on('news', onNews);
        socket.once('marker', () => {
          socket.off('news', onNews);
          resolve();
        });
      }),
  );
  emit();
  io.emit('marker');
  await Promise.all(everyoneDone);
  console.log(`${what.padEnd(38)} -> ${got.sort().join(', ') || 'nobody'}`);
}

await show('io.emit', () => io.emit('news'));
await show('alice.broadcast.emit', () => alice.broadcast.emit('news'));
await show("io.to('blue').emit", () => io.to('blue').emit('news'));
await show("bob.to('blue').emit", () => bob.to('blue').emit('news'));
await show("io.to(['blue', 'red']).emit", () => io.to(['blue', 'red']).emit('news'));
await show("io.except('red').emit", () => io.except('red').emit('news'));
await show("io.to('blue').except('red').emit", () => io.to('blue').except('red').emit('news'));
await show("bob.broadcast.except('red').emit", () => bob.broadcast.except('red').emit('news'));
await show("io.to(alice.id).emit", () => io.to(alice.id).emit('news'));
await show("io.to('green').emit", () => io.to('green').emit('news'));

for (const socket of clients.values()) socket.close();
io.close();
