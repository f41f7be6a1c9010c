// A chat server that will run as two instances: the rules are in the instructions above.
// As it stands it works for one instance only: each instance sees only its own clients.
import { Server } from 'socket.io';
// import { createAdapter } from '@socket.io/redis-adapter';
// import { createClient } from 'redis';

type Failure = { ok: false; error: { code: string; message: string } };
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

// TODO: two node-redis clients from process.env.REDIS_URL (one publishes, one subscribes),
// connected before the server takes clients, and the Redis adapter built from them.
const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>();

io.use((socket, next) => {
  // TODO: refuse a missing or bad auth.name with an Error whose data is { code: 'BAD_NAME' }.
  socket.data.name = String(socket.handshake.auth.name);
  next();
});

io.on('connection', (socket) => {
  socket.on('say', (request, ack) => {
    // TODO: check the text and the room; a message with a room goes to that room only.
    const text = String(request?.text);
    socket.broadcast.emit('message', { from: socket.data.name, text, room: null });
    ack?.({ ok: true });
  });

  // TODO: join and leave.

  socket.on('who', (request, ack) => {
    // TODO: everyone on every instance (and the members of request.room when it has one).
    const users = [...io.of('/').sockets.values()].map((s) => s.data.name);
    ack?.({ ok: true, users });
  });
});

io.listen(Number(process.env.PORT));
