// Broadcasts that collect answers, broadcasts that may be dropped, and a look at who is connected:
// io.timeout(ms).emit with an ack gathers one answer per client (and says who did not answer in
// time), volatile emits are skipped for a client that cannot take them right now, and
// fetchSockets() lists the sockets a broadcast would reach.
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

const io = new Server(0, { transports: ['websocket'] });
const url = `http://127.0.0.1:${(io.httpServer.address() as AddressInfo).port}`;
io.on('connection', (socket) => {
  socket.data.name = String(socket.handshake.auth.name);
  if (socket.data.name !== 'dave') socket.join('team');
});

const clients = new Map<string, Socket>();
for (const name of ['alice', 'bob', 'carol', 'dave']) {
  const socket = connect(url, { auth: { name }, transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  // carol never answers a vote; the others answer with their choice.
  socket.on('vote', (question: string, ack: (answer: string) => void) => {
    if (name !== 'carol') ack(`${name}: ${name === 'bob' ? 'no' : 'yes'}`);
  });
  clients.set(name, socket);
}
const carolId = clients.get('carol')!.id!;

// 1. Acks from a broadcast: one answer per client; after the timeout, an error and the answers that came.
await new Promise<void>((resolve) =>
  io.timeout(500).emit('vote', 'pizza?', (err: Error | null, answers: string[]) => {
    console.log(`1. io.timeout(500).emit: ${err ? `error "${err.message}", ` : ''}${answers.length} answers: ${JSON.stringify(answers.sort())}`);
    resolve();
  }),
);
// Everyone asked answers here, so the promise resolves as soon as they have: the timeout costs nothing.
const team = await io.to('team').except(carolId).timeout(2000).emitWithAck('vote', 'pasta?');
console.log(`1. io.to('team').except(carol).timeout(2000).emitWithAck: ${JSON.stringify(team.sort())}`);

// 2. Volatile: a packet for a client whose connection is busy writing is dropped, not queued.
/** Resolves with how many ticks each client receives before its next marker. */
async function ticksBeforeMarker(): Promise<string> {
  const counts = await Promise.all(
    [...clients.values()].map(
      (socket) =>
        new Promise<number>((resolve) => {
          let count = 0;
          const onTick = () => count++;
          socket.on('tick', onTick);
          socket.once('marker', () => {
            socket.off('tick', onTick);
            resolve(count);
          });
        }),
    ),
  );
  return counts.join(', ');
}
const volatileTicks = ticksBeforeMarker();
for (let i = 0; i < 10; i++) io.volatile.emit('tick', i);
io.emit('marker');
console.log(`2. ten io.volatile.emit in a row: each client received ${await volatileTicks}`);
const ordinaryTicks = ticksBeforeMarker();
for (let i = 0; i < 10; i++) io.emit('tick', i);
io.emit('marker');
console.log(`2. ten io.emit in a row: each client received ${await ordinaryTicks}`);

// 3. Who is there: the sockets of the main namespace, or of a room, with their data and rooms.
for (const socket of await io.in('team').fetchSockets()) {
  console.log(`3. in team: ${socket.data.name} (rooms: ${[...socket.rooms].filter((room) => room !== socket.id).join(', ')})`);
}
console.log(`3. connected in all: ${(await io.fetchSockets()).length}`);

for (const socket of clients.values()) socket.close();
io.close();
