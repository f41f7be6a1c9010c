// Two room patterns. Per-user rooms: every connection of a user joins "user:<name>", so one emit
// reaches all of that user's tabs and devices (and one call logs them all out). Per-document rooms:
// a connection joins "doc:<id>" once the server has checked it may, and edits go to that room only.
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

type Reply = { ok: true; editors?: string[] } | { ok: false; error: { code: string; message: string } };
const refusal = (code: string, message: string): Reply => ({ ok: false, error: { code, message } });

const tokens = new Map([
  ['t-ada', 'ada'],
  ['t-bob', 'bob'],
]);
const mayOpen = new Map([
  ['plan', ['ada', 'bob']],
  ['salaries', ['ada']],
]);

const io = new Server(0, { transports: ['websocket'] });
const url = `http://127.0.0.1:${(io.httpServer.address() as AddressInfo).port}`;

io.use((socket, next) => {
  const user = tokens.get(String(socket.handshake.auth.token));
  if (!user) return next(new Error('unknown token'));
  socket.data.user = user;
  next();
});

io.on('connection', (socket) => {
  const user: string = socket.data.user;
  socket.join(`user:${user}`); // all of this user's connections, whichever device

  socket.on('open', async (doc: unknown, ack: unknown) => {
    if (typeof ack !== 'function') return;
    if (typeof doc !== 'string' || !mayOpen.has(doc)) return ack(refusal('NO_SUCH_DOC', 'no such document'));
    if (!mayOpen.get(doc)!.includes(user)) return ack(refusal('FORBIDDEN', `${user} may not open ${doc}`));
    const room = `doc:${doc}`;
    socket.join(room); // the server decides who joins; a client cannot join a room by itself
    socket.to(room).emit('presence', doc, `${user} opened it`);
    const editors = new Set((await io.in(room).fetchSockets()).map((s) => s.data.user as string));
    ack({ ok: true, editors: [...editors].sort() });
  });

  socket.on('edit', (doc: unknown, text: unknown, ack: unknown) => {
    const reply = typeof ack === 'function' ? (ack as (r: Reply) => void) : () => {};
    // Being in the room is the permission: it was checked when the document was opened.
    if (typeof doc !== 'string' || !socket.rooms.has(`doc:${doc}`)) return reply(refusal('NOT_OPEN', 'open the document first'));
    socket.to(`doc:${doc}`).emit('edited', doc, user, String(text));
    reply({ ok: true });
  });
});

// Four connections: ada on a laptop and a phone, bob on a laptop, and someone with a bad token.
const clients = new Map<string, Socket>();
const heard = new Map<string, string[]>();
for (const [label, token] of [
  ['ada-laptop', 't-ada'],
  ['ada-phone', 't-ada'],
  ['bob', 't-bob'],
]) {
  const socket = connect(url, { auth: { token }, transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  heard.set(label, []);
  // onAny: one listener for every event, handy to log them.
  socket.onAny((event: string, ...args: unknown[]) => event !== 'marker' && heard.get(label)!.push(`${event} ${JSON.stringify(args)}`));
  clients.set(label, socket);
}
const intruder = connect(url, { auth: { token: 'guess' }, transports: ['websocket'], reconnection: false });
console.log(`intruder: ${await new Promise((resolve) => intruder.once('connect_error', (err) => resolve(`connect_error "${err.message}"`)))}`);

/** Prints what each client heard since the last call, once a marker sent after it has reached them all. */
async function whoHeard(what: string): Promise<void> {
  const markers = [...clients.values()].filter((s) => s.connected).map((s) => new Promise((resolve) => s.once('marker', resolve)));
  io.emit('marker');
  await Promise.all(markers);
  const lines = [...heard].map(([label, events]) => `${label}: ${events.splice(0).join('; ') || '-'}`);
  console.log(`${what}\n  ${lines.join('\n  ')}`);
}

io.to('user:ada').emit('notification', 'bob commented on your plan');
await whoHeard("io.to('user:ada').emit('notification', …)");

const [adaLaptop, adaPhone, bob] = ['ada-laptop', 'ada-phone', 'bob'].map((label) => clients.get(label)!);
console.log(`ada-laptop: open plan -> ${JSON.stringify(await adaLaptop.emitWithAck('open', 'plan'))}`);
console.log(`bob: open salaries -> ${JSON.stringify(await bob.emitWithAck('open', 'salaries'))}`);
console.log(`bob: open plan -> ${JSON.stringify(await bob.emitWithAck('open', 'plan'))}`);
console.log(`ada-phone: edit plan -> ${JSON.stringify(await adaPhone.emitWithAck('edit', 'plan', 'hello?'))}`);
console.log(`bob: edit plan -> ${JSON.stringify(await bob.emitWithAck('edit', 'plan', 'Step 1: coffee'))}`);
await whoHeard('after the opens and edits');

// Log ada out everywhere: every socket in her room is disconnected, on every device.
const adaGone = [adaLaptop, adaPhone].map((s) => new Promise((resolve) => s.once('disconnect', resolve)));
io.in('user:ada').disconnectSockets(true);
console.log(`io.in('user:ada').disconnectSockets(): ${(await Promise.all(adaGone)).join(', ')}; bob still connected: ${bob.connected}`);

bob.close();
io.close();
