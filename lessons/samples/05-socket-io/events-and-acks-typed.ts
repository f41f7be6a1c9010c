// Typed events and acknowledgements, both ways: a seat-booking server whose every request is
// answered through its ack (a refusal included, never an exception), clients that emit with a
// callback or with emitWithAck, and the server asking a client something and awaiting its answer.
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

type Reply<T> = ({ ok: true } & T) | { ok: false; error: { code: string; message: string } };

/** What clients emit to the server: the last parameter of each is its acknowledgement. */
interface ClientToServerEvents {
  book: (request: { seat: string }, ack: (reply: Reply<{ seat: string }>) => void) => void;
  seats: (ack: (reply: Reply<{ taken: Record<string, string> }>) => void) => void;
}
/** What the server emits to clients. */
interface ServerToClientEvents {
  booked: (seat: string, by: string) => void;
  'still-there': (ack: (answer: string) => void) => void;
}
type InterServerEvents = Record<string, never>; // events between servers (several processes): none here
interface SocketData {
  name: string;
}

const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(0, { transports: ['websocket'] });
const url = `http://127.0.0.1:${(io.httpServer.address() as AddressInfo).port}`;
const taken = new Map<string, string>(); // seat -> who booked it

const refusal = (code: string, message: string) => ({ ok: false, error: { code, message } }) as const;

/** Calls the ack if the client sent one: a client may emit without a callback, or put something else there. */
function answer<T>(ack: unknown, reply: Reply<T>): void {
  if (typeof ack === 'function') ack(reply);
}

io.use((socket, next) => {
  socket.data.name = String(socket.handshake.auth.name ?? 'someone');
  next();
});

const byName = new Map<string, ServerSocket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>>();
io.on('connection', (socket) => {
  byName.set(socket.data.name, socket);
  socket.on('disconnect', () => byName.delete(socket.data.name));
  // The types say what a well-behaved client sends; nothing checks it. Parameters typed unknown
  // (which the typed listener accepts) make the handler check for itself.
  socket.on('book', (request: unknown, ack: unknown) => {
    const seat = (request as { seat?: unknown } | null)?.seat;
    if (typeof seat !== 'string' || !/^\d{1,2}[A-F]$/.test(seat)) return answer(ack, refusal('BAD_SEAT', 'a seat is a row and a letter, like 12A'));
    const holder = taken.get(seat);
    if (holder !== undefined) return answer(ack, refusal('SEAT_TAKEN', `seat ${seat} is taken by ${holder}`));
    taken.set(seat, socket.data.name);
    socket.broadcast.emit('booked', seat, socket.data.name);
    answer(ack, { ok: true, seat });
  });
  socket.on('seats', (ack: unknown) => answer(ack, { ok: true, taken: Object.fromEntries(taken) }));
});

/** A typed client: the generics are the server's, in the other order (what it listens to first). */
async function client(name: string): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = connect(url, { auth: { name }, transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return socket;
}
const ada = await client('ada');
const bob = await client('bob');
const bobHeard = new Promise<string>((resolve) => bob.once('booked', (seat, by) => resolve(`${by} booked ${seat}`)));
ada.on('still-there', (ack) => ack('yes, still here'));

// With a callback...
const first = await new Promise<Reply<{ seat: string }>>((resolve) => ada.emit('book', { seat: '12A' }, resolve));
console.log(`ada: book 12A -> ${JSON.stringify(first)}`);
console.log(`bob heard: ${await bobHeard}`);
// ...or with emitWithAck, whose promise resolves with the ack's (first) argument.
console.log(`bob: book 12A -> ${JSON.stringify(await bob.emitWithAck('book', { seat: '12A' }))}`);
console.log(`bob: book 99Z -> ${JSON.stringify(await bob.timeout(1000).emitWithAck('book', { seat: '99Z' }))}`);

// A client that ignores the types (plain JavaScript, say) cannot crash the handler.
const untyped = bob as unknown as Socket;
untyped.emit('book', { seat: '3C' }); // no callback: booked all the same, no answer
untyped.emit('book', 'not an object', 42); // a number where the callback goes: not called
console.log(`seats: ${JSON.stringify(await bob.emitWithAck('seats'))}`);

// Acks work from the server to a client too, with a timeout for a client that never answers.
console.log(`server asked ada: ${await byName.get('ada')!.timeout(1000).emitWithAck('still-there')}`);

ada.close();
bob.close();
io.close();
