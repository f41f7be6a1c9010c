import { Server } from 'socket.io';

const port = Number(process.env.PORT);

interface Note {
  id: number;
  text: string;
}

// Every argument is `unknown`: any client can send anything, so check what came before using it.
interface ClientToServerEvents {
  add: (payload: unknown, callback?: unknown) => void;
  list: (callback?: unknown) => void;
  remove: (id: unknown, callback?: unknown) => void;
}

// This server only answers; it emits no events of its own.
type ServerToClientEvents = Record<string, never>;

/** One store for every connection, in the order the notes were added. */
const notes = new Map<number, Note>();

const io = new Server<ClientToServerEvents, ServerToClientEvents>(port);

io.on('connection', (socket) => {
  socket.on('add', (payload, callback) => {
    // TODO: check the payload and its text; answer { ok: false, error: { code, message } } when they are wrong.
    // TODO: store the note with the next id and answer { ok: true, note } (only if callback is a function).
  });

  socket.on('list', (callback) => {
    // TODO: answer { ok: true, notes: [...] } in the order the notes were added.
  });

  socket.on('remove', (id, callback) => {
    // TODO: check the id (a whole number of 1 or more), remove the note, answer { ok: true, note } or NOT_FOUND.
  });
});

console.log(`notes server listening on port ${port}`);
