// Authentication at the handshake, with typed events. The "/admin" namespace has a middleware that
// reads the token from the client's auth payload, refuses a missing, unknown or non-admin token
// with an Error whose message and data reach the client's connect_error, and puts the user on
// socket.data for the handlers. The same four interfaces type both ends.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

interface User {
  id: string;
  name: string;
  role: 'admin' | 'reader';
}
/** Events a client emits (their handlers on the server). */
interface ClientToServerEvents {
  whoami: (ack: (user: User) => void) => void;
}
/** Events the server emits (their handlers on the client). */
interface ServerToClientEvents {
  notice: (text: string) => void;
}
/** Events between servers (serverSideEmit, with an adapter): none here. */
interface InterServerEvents {}
/** What the server keeps on socket.data. */
interface SocketData {
  user: User;
}

/** What a refusal carries to the client: err.message is for people, err.data.code for programs. */
interface RefusalData {
  code: 'TOKEN_REQUIRED' | 'BAD_TOKEN' | 'FORBIDDEN';
}
function refusal(message: string, code: RefusalData['code']): Error & { data: RefusalData } {
  return Object.assign(new Error(message), { data: { code } });
}

// A stand-in for a real token check (a session store, a signed JWT…).
const USERS_BY_TOKEN = new Map<string, User>([
  ['token-ada', { id: 'u1', name: 'Ada', role: 'admin' }],
  ['token-bob', { id: 'u2', name: 'Bob', role: 'reader' }],
]);

const host = process.env.HOST ?? '127.0.0.1';
const httpServer = http.createServer();
const io = new Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>(httpServer);
const admin = io.of('/admin');

// Runs once per connection attempt to "/admin", before 'connection'; io.use() would guard "/" only.
admin.use((socket, next) => {
  const token: unknown = socket.handshake.auth.token;
  if (typeof token !== 'string') return next(refusal('Sign in first: no token was sent.', 'TOKEN_REQUIRED'));
  const user = USERS_BY_TOKEN.get(token);
  if (!user) return next(refusal('Your session has expired: sign in again.', 'BAD_TOKEN'));
  if (user.role !== 'admin') return next(refusal(`${user.name} is not an administrator.`, 'FORBIDDEN'));
  socket.data.user = user; // every handler of this socket can trust it
  next();
});

admin.on('connection', (socket) => {
  socket.emit('notice', `welcome, ${socket.data.user.name}`);
  socket.on('whoami', (ack) => ack(socket.data.user));
});

httpServer.listen(Number(process.env.PORT ?? 0), host);
await once(httpServer, 'listening');
const url = `http://${host}:${(httpServer.address() as AddressInfo).port}/admin`;

type AdminSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Waits for the outcome of a connection attempt (the welcome notice, or connect_error) and prints it. */
function outcome(label: string, socket: AdminSocket): Promise<void> {
  return new Promise((resolve) => {
    const onNotice = (text: string) => {
      socket.off('connect_error', onRefused);
      console.log(`${label}: connected: ${text}`);
      resolve();
    };
    const onRefused = (err: Error) => {
      socket.off('notice', onNotice);
      const { code } = (err as Error & { data?: RefusalData }).data ?? {};
      console.log(`${label}: refused: "${err.message}" (code ${code}); retrying by itself: ${socket.active}`);
      resolve();
    };
    socket.once('notice', onNotice);
    socket.once('connect_error', onRefused);
  });
}

for (const [label, auth] of [['no token', {}], ['unknown token', { token: 'token-eve' }], ['reader token', { token: 'token-bob' }]] as const) {
  const socket: AdminSocket = connect(url, { auth, transports: ['websocket'] });
  await outcome(label, socket);
  socket.disconnect();
}

// A refused socket stays refused until the application tries again, e.g. after signing in:
const socket: AdminSocket = connect(url, { auth: { token: 'token-eve' }, transports: ['websocket'] });
await outcome('first try', socket);
socket.auth = { token: 'token-ada' };
socket.connect();
await outcome('after signing in', socket);
const me = await socket.emitWithAck('whoami');
console.log(`whoami: ${me.name}, ${me.role} (socket.data on the server)`);

socket.disconnect();
io.close();
