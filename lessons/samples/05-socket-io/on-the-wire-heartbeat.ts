// The heartbeat of Engine.IO 4: the server sends "2" (ping) every pingInterval, and the client must
// answer "3" (pong) within pingTimeout. This raw WebSocket client answers twice, then goes quiet,
// and the server gives up on it with the reason "ping timeout". The server is a local one with a
// fast heartbeat (the default is a ping every 25 s, 20 s to answer).
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { WebSocket } from 'ws';

const host = process.env.HOST ?? '127.0.0.1';
const httpServer = http.createServer();
const io = new Server(httpServer, { pingInterval: 250, pingTimeout: 250 });
const serverSaw = new Promise<string>((resolve) => {
  io.on('connection', (socket) => socket.on('disconnect', resolve));
});
httpServer.listen(Number(process.env.PORT ?? 0), host);
await once(httpServer, 'listening');

const ws = new WebSocket(`ws://${host}:${(httpServer.address() as AddressInfo).port}/socket.io/?EIO=4&transport=websocket`);
let pongs = 0;
ws.on('message', (data: Buffer) => {
  const packet = data.toString();
  console.log(`← ${packet.length > 40 ? `${packet.slice(0, 40)}…` : packet}`);
  if (packet.startsWith('0')) return ws.send('40'); // open: connect to the main namespace
  if (packet === '2' && pongs < 2) {
    pongs++;
    ws.send('3');
    console.log('→ 3');
  } else if (packet === '2') {
    console.log('  (no pong this time)');
  }
});
const closed = new Promise<number>((resolve) => ws.once('close', resolve));

console.log(`server: disconnect "${await serverSaw}"`);
console.log(`client: the server closed the WebSocket (code ${await closed}: closed without a code, no Socket.IO goodbye)`);
await io.close();
