// What Socket.IO costs on the wire, measured: bytes to connect and bytes per message, next to a
// plain WebSocket doing the same job. Both servers are local; every figure is the sum of what
// crossed their TCP connections (both directions, WebSocket framing and masking included).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket as TcpSocket } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io, type ManagerOptions, type Socket as ClientSocket } from 'socket.io-client';
import { WebSocket, WebSocketServer } from 'ws';

/** An HTTP server that counts the bytes of every TCP connection it accepts. */
async function countingServer(): Promise<{ http: http.Server; url: string; bytes(): number }> {
  const server = http.createServer();
  const sockets: TcpSocket[] = [];
  server.on('connection', (socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    http: server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => sockets.reduce((sum, s) => sum + s.bytesRead + s.bytesWritten, 0),
  };
}

/** Runs `step`, waits until `arrived` resolves, returns the bytes that crossed meanwhile. */
async function measure(counter: { bytes(): number }, step: () => void, arrived: Promise<unknown>): Promise<number> {
  const before = counter.bytes();
  step();
  await arrived;
  return counter.bytes() - before;
}

const chat = { text: 'hi' };
const file = Buffer.from([1, 2, 3]);

// A plain WebSocket: a type field in the JSON says what the message is.
{
  const counter = await countingServer();
  const wss = new WebSocketServer({ server: counter.http });
  let ws!: WebSocket;
  const connected = once(wss, 'connection').then(([peer]) => peer as WebSocket);
  const connect = await measure(counter, () => (ws = new WebSocket(counter.url.replace('http', 'ws'))), connected);
  const peer = await connected;
  await once(ws, 'open');
  const text = await measure(counter, () => ws.send(JSON.stringify({ type: 'chat', ...chat })), once(peer, 'message'));
  const binary = await measure(counter, () => ws.send(file), once(peer, 'message'));
  console.log(`ws:        connect ${connect} bytes, a chat message ${text} bytes, 3 bytes of binary ${binary} bytes`);
  ws.close();
  wss.close();
  counter.http.close();
}

// Socket.IO: the event name says what the message is.
const socketIoRuns: [string, Partial<ManagerOptions>][] = [
  ['socket.io, websocket only', { transports: ['websocket'] }],
  ['socket.io, polling first', {}],
];
for (const [label, options] of socketIoRuns) {
  const counter = await countingServer();
  const server = new Server(counter.http);
  // Connected means: on the WebSocket, so after the upgrade when the client starts with polling.
  const connected = new Promise<ServerSocket>((resolve) =>
    server.on('connection', (s) => (s.conn.transport.name === 'websocket' ? resolve(s) : s.conn.once('upgrade', () => resolve(s)))),
  );
  let socket!: ClientSocket;
  const connect = await measure(counter, () => (socket = io(counter.url, options)), connected);
  const peer = await connected;
  const text = await measure(counter, () => socket.emit('chat', chat), once(peer, 'chat'));
  const binary = await measure(counter, () => socket.emit('file', file), once(peer, 'file'));
  console.log(`${label}: connect ${connect} bytes, a chat message ${text} bytes, 3 bytes of binary ${binary} bytes`);
  socket.close();
  server.close();
}
