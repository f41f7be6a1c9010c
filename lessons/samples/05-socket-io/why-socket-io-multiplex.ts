// Multiplexing: two namespaces, /chat and /admin, used by one client over a single Engine.IO
// connection. Each namespace has its own sockets, events and handlers; every packet on the wire
// names the namespace it belongs to. The server is a local one.
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { io } from 'socket.io-client';

const server = new Server(0, { transports: ['websocket'] });
const port = (server.httpServer.address() as AddressInfo).port;

// Print the Engine.IO message packets the server receives and sends: the Socket.IO packet inside
// each one starts with its type, then the namespace, then the ack id, then the arguments.
interface EnginePacket {
  type: string;
  data?: unknown;
}
server.engine.on('connection', (conn) => {
  conn.on('packet', (packet: EnginePacket) => {
    if (packet.type === 'message') console.log(`wire, client -> server: ${String(packet.data)}`);
  });
  conn.on('packetCreate', (packet: EnginePacket) => {
    if (packet.type === 'message') console.log(`wire, server -> client: ${String(packet.data)}`);
  });
});

const greeted = new Promise<void>((resolve) => {
  let count = 0;
  const greet = (socket: Socket) =>
    socket.on('hello', (text: string, ack: (reply: string) => void) => {
      ack(`${socket.nsp.name} heard: ${text}`);
      if (++count === 2) resolve();
    });
  server.of('/chat').on('connection', greet);
  server.of('/admin').on('connection', greet);
});

// Two io() calls with the same host share one Manager, so one connection, unless forceNew is set.
const chat = io(`http://127.0.0.1:${port}/chat`, { transports: ['websocket'] });
const admin = io(`http://127.0.0.1:${port}/admin`, { transports: ['websocket'] });
console.log(`client: one Manager for both sockets: ${chat.io === admin.io}`);

console.log(`client: ${await chat.emitWithAck('hello', 'from chat')}`);
console.log(`client: ${await admin.emitWithAck('hello', 'from admin')}`);
await greeted;
console.log(`server: ${server.engine.clientsCount} Engine.IO connection, ${server.of('/chat').sockets.size} socket in /chat, ${server.of('/admin').sockets.size} in /admin`);
console.log(`client: socket ids differ per namespace: ${chat.id !== admin.id}`);

chat.disconnect();
admin.disconnect(); // the last socket of a Manager closes the connection
server.close();
