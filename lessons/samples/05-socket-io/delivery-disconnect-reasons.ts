// Disconnect reasons, seen from both ends, and which of them the client recovers from by itself:
// the server ends the socket (no reconnection), the connection underneath is lost (the client
// reconnects with backoff), the client leaves (no reconnection).
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

const host = process.env.HOST ?? '127.0.0.1';
const httpServer = http.createServer();
const io = new Server(httpServer);

let onServerSocket: (socket: ServerSocket) => void = () => {};
io.on('connection', (socket) => {
  socket.on('disconnect', (reason) => console.log(`  server saw: "${reason}"`));
  onServerSocket(socket);
});
/** The server side of the next connection. */
const nextServerSocket = () => new Promise<ServerSocket>((resolve) => (onServerSocket = resolve));

httpServer.listen(Number(process.env.PORT ?? 0), host);
await once(httpServer, 'listening');
const url = `http://${host}:${(httpServer.address() as AddressInfo).port}`;

/** Resolves with the reason of the client's next disconnect. */
const nextDisconnect = (socket: Socket) => new Promise<string>((resolve) => socket.once('disconnect', resolve));
/** Resolves at the client's next connect. */
const nextConnect = (socket: Socket) => new Promise<void>((resolve) => socket.once('connect', () => resolve()));

let serverSide = nextServerSocket();
// Short delays so the demo is quick; the defaults are 1 s growing to 5 s, each with 50 % jitter.
const client = connect(url, { transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 1000 });
client.io.on('reconnect_attempt', (attempt) => console.log(`  client: reconnection attempt ${attempt}`));

console.log('1. the server disconnects the socket (socket.disconnect())');
let reason = nextDisconnect(client);
(await serverSide).disconnect();
console.log(`  client saw: "${await reason}"; reconnecting by itself: ${client.active}`);
serverSide = nextServerSocket();
client.connect(); // after "io server disconnect" only the application can decide to come back
await nextConnect(client);
console.log('  client connected again because it called connect()');

console.log('2. the connection underneath is lost (here: the server closes it)');
reason = nextDisconnect(client);
const reconnected = nextConnect(client);
const lost = await serverSide;
serverSide = nextServerSocket();
lost.conn.close();
console.log(`  client saw: "${await reason}"; reconnecting by itself: ${client.active}`);
await reconnected;
console.log('  client connected again by itself');

console.log('3. the client leaves (client.disconnect())');
reason = nextDisconnect(client);
const last = await serverSide;
const serverGone = new Promise((resolve) => last.once('disconnect', resolve));
client.disconnect();
console.log(`  client saw: "${await reason}"; reconnecting by itself: ${client.active}`);
await serverGone;

await io.close();
