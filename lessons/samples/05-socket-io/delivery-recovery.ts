// Connection state recovery: the server keeps the packets it sends for a while, and a client that
// comes back soon after losing its connection gets its id, its rooms and the events it missed.
// A client that stays away longer than the server keeps sessions starts over, and those events are gone.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connect } from 'socket.io-client';

const host = process.env.HOST ?? '127.0.0.1';
const httpServer = http.createServer();
const io = new Server(httpServer, {
  // How long a lost session (id, rooms, data, missed packets) is kept: the default is 2 minutes,
  // one second here so that the demo can outstay it.
  connectionStateRecovery: { maxDisconnectionDuration: 1000 },
});

let serverSocket: ServerSocket | undefined;
io.on('connection', (socket) => {
  serverSocket = socket;
  console.log(`server: ${socket.recovered ? 'recovered' : 'new'} socket ${socket.id}, rooms: ${[...socket.rooms].filter((r) => r !== socket.id).join(', ') || 'none'}`);
  if (!socket.recovered) socket.join('news');
});

httpServer.listen(Number(process.env.PORT ?? 0), host);
await once(httpServer, 'listening');
const url = `http://${host}:${(httpServer.address() as AddressInfo).port}`;

const client = connect(url, { transports: ['websocket'], reconnectionDelay: 100, randomizationFactor: 0 });
const received: string[] = [];
client.on('news', (text: string) => received.push(text));
const nextConnect = () => new Promise<void>((resolve) => client.once('connect', () => resolve()));
/** Resolves once the server has noticed its side of the connection is gone. */
const serverNoticesLoss = (socket: ServerSocket) => new Promise<string>((resolve) => socket.once('disconnect', resolve));

await nextConnect();
const firstId = client.id;
io.to('news').emit('news', 'news 1'); // the client must have had one packet: its offset says where it is
await new Promise((resolve) => client.once('news', resolve));

// 1. The connection is lost; the server goes on broadcasting while the client is away.
let lost = serverNoticesLoss(serverSocket!);
let back = nextConnect();
serverSocket!.conn.close();
console.log(`server: disconnect "${await lost}"`);
io.to('news').emit('news', 'news 2');
io.to('news').emit('news', 'news 3');
await back;
console.log(`client: recovered ${client.recovered}, same id ${client.id === firstId}, news so far: ${received.join(', ')}`);

// 2. The connection is lost again, and this time the client comes back too late (after 1.3 s).
client.io.reconnectionDelay(1300);
lost = serverNoticesLoss(serverSocket!);
back = nextConnect();
serverSocket!.conn.close();
console.log(`server: disconnect "${await lost}"`);
io.to('news').emit('news', 'news 4');
await back;
console.log(`client: recovered ${client.recovered}, same id ${client.id === firstId}, news so far: ${received.join(', ')}`);

client.disconnect();
await io.close();
