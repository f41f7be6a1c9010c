import { Server } from 'socket.io';

const port = Number(process.env.PORT);
const MAX_TEXT_CHARS = 200;

interface Note {
  id: number;
  text: string;
}

type ErrorCode = 'BAD_PAYLOAD' | 'BAD_TEXT' | 'TEXT_TOO_LONG' | 'BAD_ID' | 'NOT_FOUND';
type Failure = { ok: false; error: { code: ErrorCode; message: string } };
/** What an acknowledgement carries: a success with its fields, or a refusal with a code. */
type Reply<Fields> = ({ ok: true } & Fields) | Failure;

// Every argument is `unknown`: any client can send anything, so the handlers check what came.
// The callback is the last argument when the client passed one; otherwise that place holds
// whatever the client sent there (or nothing), so it is checked before it is called.
interface ClientToServerEvents {
  add: (payload: unknown, callback?: unknown) => void;
  list: (callback?: unknown) => void;
  remove: (id: unknown, callback?: unknown) => void;
}

// This server only answers; it emits no events of its own.
type ServerToClientEvents = Record<string, never>;

/** One store for every connection: what one client adds, all see. Notes stay in the order they were added. */
const notes = new Map<number, Note>();
/** The last id given; a refused add takes none, and a removed note's id is never given again. */
let lastId = 0;

/** Answers through the client's callback if it sent one: an event without one is carried out all the same, unanswered. */
function answer<Fields>(callback: unknown, reply: Reply<Fields>): void {
  if (typeof callback === 'function') callback(reply);
}

const refuse = (code: ErrorCode, message: string): Failure => ({ ok: false, error: { code, message } });

function add(payload: unknown): Reply<{ note: Note }> {
  // null is an object to typeof, and arrays are objects too: neither is a payload.
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return refuse('BAD_PAYLOAD', 'add takes an object: { text }');
  const { text } = payload as { text?: unknown };
  if (typeof text !== 'string' || text.trim() === '') return refuse('BAD_TEXT', 'text must be a string that is not empty or only whitespace');
  if (text.length > MAX_TEXT_CHARS) return refuse('TEXT_TOO_LONG', `text may have at most ${MAX_TEXT_CHARS} characters`);
  const note = { id: ++lastId, text };
  notes.set(note.id, note);
  return { ok: true, note };
}

function remove(id: unknown): Reply<{ note: Note }> {
  // "3" is not 3: an id is a number, and only a whole one of 1 or more can name a note.
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1) return refuse('BAD_ID', 'an id is a whole number of 1 or more');
  const note = notes.get(id);
  if (!note) return refuse('NOT_FOUND', `there is no note ${id}`);
  notes.delete(id);
  return { ok: true, note };
}

const io = new Server<ClientToServerEvents, ServerToClientEvents>(port);

io.on('connection', (socket) => {
  // A handler that throws crashes the whole server (Socket.IO calls it outside any try/catch),
  // so a bad request is answered with { ok: false, error } instead.
  socket.on('add', (payload, callback) => answer(callback, add(payload)));
  socket.on('list', (callback) => answer(callback, { ok: true, notes: [...notes.values()] }));
  socket.on('remove', (id, callback) => answer(callback, remove(id)));
  // Events with any other name have no handler, so Socket.IO drops them: nothing to do.
});

console.log(`notes server listening on port ${port}`);
