import { Server } from 'socket.io';

const port = Number(process.env.PORT);

// What clients emit. Every argument is `unknown`: any client can send anything, so check it.
// The callback is the last argument when the client passed one.
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
  /** The name from the handshake, or undefined when it sent no valid one. */
  name: string | undefined;
}

const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(port);

io.on('connection', (socket) => {
  // TODO: keep the name from socket.handshake.auth.name in socket.data.name, if it is a valid one.

  socket.on('join', (room, callback) => {
    // TODO: check the name and the room, join it (socket.join), tell the others (joined),
    // and answer { ok: true, room, members } (names in join order: io.in(room).fetchSockets()).
  });

  socket.on('leave', (room, callback) => {
    // TODO: leave the room, tell those who stay (left), answer { ok: true, room } or NOT_IN_ROOM.
  });

  socket.on('members', (room, callback) => {
    // TODO: answer { ok: true, room, members }.
  });

  socket.on('say', (room, text, callback) => {
    // TODO: check the room, membership and the text; send message to the room's other members.
  });

  // TODO: when a client disconnects, tell every room it was in that it left.
});

console.log(`rooms server listening on port ${port}`);
