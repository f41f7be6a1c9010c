import { Server } from 'socket.io';

const port = Number(process.env.PORT);
const MAX_NAME_CHARS = 20;
const MAX_TEXT_CHARS = 500;
/** 1 to 32 lower-case letters, digits or dashes. */
const ROOM_NAME = /^[a-z0-9-]{1,32}$/;

type ErrorCode = 'BAD_NAME' | 'BAD_ROOM' | 'NOT_IN_ROOM' | 'BAD_TEXT';
type Failure = { ok: false; error: { code: ErrorCode; message: string } };
type Reply<Fields> = ({ ok: true } & Fields) | Failure;

// What clients emit. Every argument is `unknown`: any client can send anything. The callback is
// the last argument when the client passed one; otherwise that place holds whatever came (or nothing).
interface ClientToServerEvents {
  join: (room: unknown, callback?: unknown) => void;
  leave: (room: unknown, callback?: unknown) => void;
  members: (room: unknown, callback?: unknown) => void;
  say: (room: unknown, text: unknown, callback?: unknown) => void;
}

interface Notice {
  room: string;
  name: string;
}

interface ServerToClientEvents {
  joined: (notice: Notice) => void;
  left: (notice: Notice) => void;
  message: (message: { room: string; from: string; text: string }) => void;
}

type InterServerEvents = Record<string, never>;

interface SocketData {
  /** The name from the handshake, or undefined when it sent no valid one (such a client cannot join). */
  name: string | undefined;
}

/** Answers through the client's callback if it sent one; an event without one is carried out all the same. */
function answer<Fields>(callback: unknown, reply: Reply<Fields>): void {
  if (typeof callback === 'function') callback(reply);
}

const refuse = (code: ErrorCode, message: string): Failure => ({ ok: false, error: { code, message } });

function validName(name: unknown): string | undefined {
  return typeof name === 'string' && name.trim() !== '' && name.length <= MAX_NAME_CHARS ? name : undefined;
}

const isRoom = (room: unknown): room is string => typeof room === 'string' && ROOM_NAME.test(room);
const BAD_ROOM = refuse('BAD_ROOM', 'a room is 1 to 32 lower-case letters, digits or dashes');

// Socket.IO also puts every socket in a room named after its id: the prefix keeps the chat's rooms
// apart from those, so that no client can join (or list) another client's private room.
const PREFIX = 'room:';
const key = (room: string) => PREFIX + room;

const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(port);

/** The names of the room's members, in the order they joined (Socket.IO keeps each room's sockets in that order). */
async function membersOf(room: string): Promise<string[]> {
  const sockets = await io.in(key(room)).fetchSockets();
  return sockets.flatMap((member) => member.data.name ?? []);
}

io.on('connection', (socket) => {
  socket.data.name = validName(socket.handshake.auth.name);

  socket.on('join', async (room, callback) => {
    const name = socket.data.name;
    if (name === undefined) return answer(callback, refuse('BAD_NAME', `connect with auth: { name }, 1 to ${MAX_NAME_CHARS} characters, not only spaces`));
    if (!isRoom(room)) return answer(callback, BAD_ROOM);
    if (!socket.rooms.has(key(room))) {
      // socket.to(…) reaches the room's members except this socket: the joiner learns of its join from the answer.
      socket.to(key(room)).emit('joined', { room, name });
      await socket.join(key(room));
    }
    answer(callback, { ok: true, room, members: await membersOf(room) });
  });

  socket.on('leave', async (room, callback) => {
    if (!isRoom(room)) return answer(callback, BAD_ROOM);
    if (!socket.rooms.has(key(room))) return answer(callback, refuse('NOT_IN_ROOM', `you are not in ${room}`));
    await socket.leave(key(room));
    io.to(key(room)).emit('left', { room, name: socket.data.name ?? '' });
    answer(callback, { ok: true, room });
  });

  socket.on('members', async (room, callback) => {
    if (!isRoom(room)) return answer(callback, BAD_ROOM);
    answer(callback, { ok: true, room, members: await membersOf(room) });
  });

  socket.on('say', (room, text, callback) => {
    if (!isRoom(room)) return answer(callback, BAD_ROOM);
    // socket.to(room) works from outside the room too: membership has to be checked here.
    if (!socket.rooms.has(key(room))) return answer(callback, refuse('NOT_IN_ROOM', `join ${room} before you say something there`));
    if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_TEXT_CHARS) {
      return answer(callback, refuse('BAD_TEXT', `a text is a string of 1 to ${MAX_TEXT_CHARS} characters, not only spaces`));
    }
    socket.to(key(room)).emit('message', { room, from: socket.data.name ?? '', text });
    answer(callback, { ok: true });
  });

  // 'disconnecting' comes while the socket is still in its rooms ('disconnect' comes after Socket.IO
  // has taken it out of them all): the last moment to tell each room who left.
  socket.on('disconnecting', () => {
    for (const joined of socket.rooms) {
      if (joined.startsWith(PREFIX)) socket.to(joined).emit('left', { room: joined.slice(PREFIX.length), name: socket.data.name ?? '' });
    }
  });
});

console.log(`rooms server listening on port ${port}`);
