// Namespaces: several independent channels over one connection. The server has the main namespace
// "/", a fixed "/admin" and a dynamic family "/team-<name>"; one client opens three of them and the
// server still counts a single Engine.IO connection.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';

const host = process.env.HOST ?? '127.0.0.1';
const httpServer = http.createServer();
const io = new Server(httpServer);

// Each namespace has its own connection handler, its own middleware and its own rooms.
io.on('connection', (socket) => socket.emit('hello', `main namespace "${socket.nsp.name}"`));
io.of('/admin').on('connection', (socket) => socket.emit('hello', `admin namespace "${socket.nsp.name}"`));
// A dynamic namespace: created on the first connection to any name the pattern matches.
io.of(/^\/team-[a-z]+$/).on('connection', (socket) => socket.emit('hello', `dynamic namespace "${socket.nsp.name}"`));

httpServer.listen(Number(process.env.PORT ?? 0), host);
await once(httpServer, 'listening');
const url = `http://${host}:${(httpServer.address() as AddressInfo).port}`;

/** Connects and resolves with the socket once its 'hello' came. */
function open(path: string): Promise<Socket> {
  const socket = connect(`${url}${path}`, { transports: ['websocket'] });
  return new Promise((resolve) => {
    socket.once('hello', (text: string) => {
      console.log(`${path.padEnd(10)} → ${text}`);
      resolve(socket);
    });
  });
}

const main = await open('/');
const admin = await open('/admin');
const team = await open('/team-blue');

// The three sockets share one Manager, so one Engine.IO session (one WebSocket).
console.log(`one connection: ${main.io === admin.io && admin.io === team.io}, engine id ${main.io.engine.id === team.io.engine.id ? 'shared' : 'different'}`);
const perNamespace = ['/', '/admin', '/team-blue'].map((name) => `${name} ${io.of(name).sockets.size}`).join(', ');
console.log(`server: ${io.engine.clientsCount} Engine.IO connection; sockets per namespace: ${perNamespace}`);

// A name no namespace matches is refused: connect_error, and no retry.
const nowhere = connect(`${url}/nowhere`, { transports: ['websocket'] });
await new Promise<void>((resolve) => {
  nowhere.once('connect_error', (err) => {
    console.log(`/nowhere   → connect_error: ${err.message}; retrying by itself: ${nowhere.active}`);
    resolve();
  });
});

// Closing the last socket of a Manager closes the shared connection.
for (const socket of [main, admin, team, nowhere]) socket.disconnect();
io.close();
