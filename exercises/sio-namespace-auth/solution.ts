// A Socket.IO server with an open main namespace and a /secure namespace whose middleware checks
// the handshake's token before the connection exists: a bad or missing token is refused with a
// connect_error the client can show (message) and act on (data.code); a good one is admitted with
// the token's user on socket.data, so every handler of that connection knows who it is.
import { Server, type ExtendedError } from 'socket.io';

interface Identity {
  user: string;
  role: 'admin' | 'member';
}

// What clients may emit (ping on /, whoami on /secure), so that handlers and acks are type-checked.
interface ClientToServerEvents {
  ping: (ack: (answer: 'pong') => void) => void;
  whoami: (ack: (identity: Identity) => void) => void;
}
// The server emits no events of its own here: every answer is an acknowledgement.
type ServerToClientEvents = Record<string, never>;
type InterServerEvents = Record<string, never>;
/** What socket.data holds on /secure once the middleware admitted the connection. */
type SocketData = Identity;

/** The valid tokens. A Map, not a plain object: a token like "toString" must not find Object's own properties. */
const USERS = new Map<string, Identity>([
  ['s3cret-ada', { user: 'ada', role: 'admin' }],
  ['s3cret-bob', { user: 'bob', role: 'member' }],
  ['s3cret-cy', { user: 'cy', role: 'member' }],
]);

/** An Error for next(): the client's connect_error gets its message and its data. */
function refusal(code: string, message: string): ExtendedError {
  return Object.assign(new Error(message), { data: { code } });
}

/** Why a handshake's auth.token is refused, or the identity it stands for. */
function authenticate(token: unknown): Identity | ExtendedError {
  if (token === undefined || token === null) return refusal('NO_TOKEN', 'token required');
  if (typeof token !== 'string') return refusal('BAD_TOKEN_TYPE', 'token must be a string');
  return USERS.get(token) ?? refusal('UNKNOWN_TOKEN', 'unknown token');
}

const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(Number(process.env.PORT));

// The main namespace needs no token.
io.on('connection', (socket) => {
  socket.on('ping', (ack) => ack('pong'));
});

const secure = io.of('/secure');

// Namespace middleware runs during the handshake, before 'connection': next(err) refuses it, so a
// refused client never connects and never gets an event.
secure.use((socket, next) => {
  const outcome = authenticate(socket.handshake.auth.token);
  if (outcome instanceof Error) return next(outcome);
  socket.data = { ...outcome }; // this connection's own copy
  next();
});

secure.on('connection', (socket) => {
  socket.on('whoami', (ack) => ack({ user: socket.data.user, role: socket.data.role }));
});
