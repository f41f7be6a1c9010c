// Rooms from the server's side: a client asks to join or leave, the server decides; socket.rooms,
// the adapter's map of rooms and fetchSockets() say who is where; the adapter's events show rooms
// coming and going; and a disconnect leaves every room by itself ('disconnecting' still sees them).
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

const io = new Server(0, { transports: ['websocket'] });
const url = `http://127.0.0.1:${(io.httpServer.address() as AddressInfo).port}`;
const main = io.of('/');

/** Room names, less the room every socket has to itself (named after its id). */
const shared = (rooms: Iterable<string>) => [...rooms].filter((room) => !main.sockets.has(room));
const nameOf = (id: string) => main.sockets.get(id)?.data.name ?? id;

for (const event of ['create-room', 'delete-room'] as const) {
  main.adapter.on(event, (room: string) => shared([room]).length && console.log(`  adapter: ${event} ${room}`));
}
main.adapter.on('join-room', (room: string, id: string) => shared([room]).length && console.log(`  adapter: join-room ${room} <- ${nameOf(id)}`));
main.adapter.on('leave-room', (room: string, id: string) => shared([room]).length && console.log(`  adapter: leave-room ${room} -> ${nameOf(id)}`));

io.on('connection', (socket) => {
  socket.data.name = String(socket.handshake.auth.name);
  console.log(`server: ${socket.data.name} connected, socket.rooms = ${JSON.stringify([...socket.rooms])} (its id: ${socket.id})`);
  socket.on('join', async (room: unknown, ack: (members: string[]) => void) => {
    // At most 16 characters: never a socket's own room (ids are 20). A real server answers a refusal.
    if (typeof room !== 'string' || !/^[a-z]{1,16}$/.test(room)) return;
    socket.join(room);
    const members = (await io.in(room).fetchSockets()).map((s) => s.data.name as string);
    if (typeof ack === 'function') ack(members);
  });
  socket.on('leave', (room: unknown, ack: () => void) => {
    if (typeof room === 'string') socket.leave(room);
    if (typeof ack === 'function') ack();
  });
  socket.on('disconnecting', (reason) => console.log(`server: ${socket.data.name} disconnecting (${reason}), still in ${JSON.stringify(shared(socket.rooms))}`));
  socket.on('disconnect', () => console.log(`server: ${socket.data.name} disconnected, socket.rooms = ${JSON.stringify([...socket.rooms])}`));
});

async function client(name: string): Promise<Socket> {
  const socket = connect(url, { auth: { name }, transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return socket;
}
const rooms = () => JSON.stringify(Object.fromEntries(shared(main.adapter.rooms.keys()).map((room) => [room, [...main.adapter.rooms.get(room)!].map(nameOf)])));

const alice = await client('alice');
const bob = await client('bob');
console.log(`alice: join lobby -> members ${JSON.stringify(await alice.emitWithAck('join', 'lobby'))}`);
console.log(`bob: join lobby -> members ${JSON.stringify(await bob.emitWithAck('join', 'lobby'))}`);
console.log(`bob: join kitchen -> members ${JSON.stringify(await bob.emitWithAck('join', 'kitchen'))}`);
console.log(`server: adapter.rooms = ${rooms()}`);
await alice.emitWithAck('leave', 'lobby');
console.log(`server: after alice left lobby, adapter.rooms = ${rooms()}`);

/** Disconnects a client and waits until the server has seen it go. */
async function leave(client: Socket): Promise<void> {
  const onServer = main.sockets.get(client.id!)!;
  const gone = new Promise<void>((resolve) => onServer.once('disconnect', () => resolve()));
  client.disconnect();
  await gone;
}
await leave(bob);
console.log(`server: after bob disconnected, adapter.rooms = ${rooms()}`);
await leave(alice);
io.close();
