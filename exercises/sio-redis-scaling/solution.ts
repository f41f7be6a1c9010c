// A chat server that runs as several instances behind one address: each instance only has its own
// clients' connections, so broadcasts, rooms and the list of who is online go through Redis (the
// Redis adapter publishes every broadcast and request there, and every instance subscribes).
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';

const NAME_MAX_CHARS = 32;
const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const TEXT_MAX_CHARS = 500;

type Failure = { ok: false; error: { code: 'BAD_ROOM' | 'BAD_TEXT' | 'UNAVAILABLE'; message: string } };
type Ack<T> = (reply: T | Failure) => void;

interface ChatMessage {
  from: string;
  text: string;
  room: string | null;
}

interface ClientToServerEvents {
  say: (request: { text?: unknown; room?: unknown }, ack?: Ack<{ ok: true }>) => void;
  join: (room: unknown, ack?: Ack<{ ok: true; room: string }>) => void;
  leave: (room: unknown, ack?: Ack<{ ok: true; room: string }>) => void;
  who: (request: { room?: unknown } | undefined, ack?: Ack<{ ok: true; users: string[] }>) => void;
}

interface ServerToClientEvents {
  message: (message: ChatMessage) => void;
}

interface SocketData {
  name: string;
}

const failure = (code: Failure['error']['code'], message: string): Failure => ({ ok: false, error: { code, message } });
const isRoom = (room: unknown): room is string => typeof room === 'string' && ROOM_PATTERN.test(room);

// Two connections: a node-redis client that has subscribed may only (un)subscribe, so publishing
// needs a client of its own. Both come from the run's REDIS_URL (it holds the password).
const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();
for (const client of [pub, sub]) client.on('error', (err: Error) => console.error(`redis: ${err.message}`));
await Promise.all([pub.connect(), sub.connect()]);

const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>({ adapter: createAdapter(pub, sub) });

io.use((socket, next) => {
  const name: unknown = socket.handshake.auth.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > NAME_MAX_CHARS) {
    const refusal = new Error(`auth.name is required: 1 to ${NAME_MAX_CHARS} characters`) as Error & { data: { code: string } };
    refusal.data = { code: 'BAD_NAME' };
    return next(refusal);
  }
  socket.data.name = name; // socket.data travels with fetchSockets() to the other instances
  next();
});

io.on('connection', (socket) => {
  socket.on('say', (request, ack) => {
    const { text, room } = request ?? {};
    if (typeof text !== 'string' || text.length < 1 || text.length > TEXT_MAX_CHARS) return ack?.(failure('BAD_TEXT', `text must be 1 to ${TEXT_MAX_CHARS} characters`));
    if (room !== undefined && !isRoom(room)) return ack?.(failure('BAD_ROOM', 'a room is 1 to 32 letters, digits, _ or -'));
    const message: ChatMessage = { from: socket.data.name, text, room: room ?? null };
    // socket.broadcast / socket.to(room): everyone (in the room) on every instance, but the sender.
    (room === undefined ? socket.broadcast : socket.to(room)).emit('message', message);
    ack?.({ ok: true });
  });

  socket.on('join', async (room, ack) => {
    if (!isRoom(room)) return ack?.(failure('BAD_ROOM', 'a room is 1 to 32 letters, digits, _ or -'));
    await socket.join(room);
    ack?.({ ok: true, room });
  });

  socket.on('leave', async (room, ack) => {
    if (!isRoom(room)) return ack?.(failure('BAD_ROOM', 'a room is 1 to 32 letters, digits, _ or -'));
    await socket.leave(room);
    ack?.({ ok: true, room });
  });

  socket.on('who', async (request, ack) => {
    const room = request?.room;
    if (room !== undefined && !isRoom(room)) return ack?.(failure('BAD_ROOM', 'a room is 1 to 32 letters, digits, _ or -'));
    try {
      // fetchSockets() asks every instance through Redis and waits for their answers.
      const sockets = await (room === undefined ? io.fetchSockets() : io.in(room).fetchSockets());
      ack?.({ ok: true, users: sockets.map((s) => s.data.name) });
    } catch (err) {
      // An instance that does not answer in time (the adapter's requestsTimeout) fails the request.
      ack?.(failure('UNAVAILABLE', `could not ask every instance: ${(err as Error).message}`));
    }
  });
});

io.listen(Number(process.env.PORT));
console.log(`chat instance listening on port ${process.env.PORT}`);
