// Reconnection comes built in: when the connection is lost, the client tries again by itself, with
// a growing, randomised delay, and sends what was emitted in the meantime once it is back. A server
// that calls disconnect() means it: the client then stays away. The server is a local one.
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';

const server = new Server(0);
let connections = 0;
server.on('connection', (socket) => {
  const n = ++connections;
  console.log(`server: connection ${n}, socket id ${socket.id}`);
  socket.on('note', (text: string) => {
    console.log(`server: connection ${n} got note ${JSON.stringify(text)}`);
    if (n === 1) socket.conn.close(); // drop the transport, as a network failure would
    else socket.disconnect(true); // a deliberate disconnect: the client must not come back
  });
});
const port = (server.httpServer.address() as AddressInfo).port;

// Short delays for the demo (the defaults: 1 s, doubling up to 5 s, each randomised by ±50 %).
const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 400 });
let connects = 0;
socket.on('connect', () => {
  console.log(`client: connected, socket id ${socket.id}`);
  if (++connects === 1) socket.emit('note', 'hello');
});
socket.on('disconnect', (reason) => {
  // socket.active: whether the client will try again by itself.
  console.log(`client: disconnected (${reason}), will reconnect: ${socket.active}`);
  if (socket.active) socket.emit('note', 'written while offline'); // kept in a buffer until connected again
  else server.close();
});
socket.io.on('reconnect_attempt', (attempt) => console.log(`client: reconnect attempt ${attempt}`));
socket.io.on('reconnect', (attempts) => console.log(`client: reconnected after ${attempts} attempt(s)`));
