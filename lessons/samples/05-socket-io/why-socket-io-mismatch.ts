// Socket.IO is a protocol of its own on top of WebSocket: a Socket.IO client cannot talk to a plain
// WebSocket server, and a plain WebSocket client cannot talk to a Socket.IO server. Each attempt
// below runs against the run's own servers (wsEcho and socketIo) and prints what really happens.
import { io, type ManagerOptions } from 'socket.io-client';
import { WebSocket } from 'ws';

const host = process.env.HOST;

/** Tries to connect a Socket.IO client; resolves with what happened, in one line. */
function trySocketIo(url: string, options: Partial<ManagerOptions>): Promise<string> {
  return new Promise((resolve) => {
    // No reconnection: one attempt is enough to see it fail. timeout: how long to wait for the handshake.
    const socket = io(url, { reconnection: false, timeout: 300, ...options });
    socket.on('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.on('connect_error', (err: Error & { description?: unknown }) => {
      socket.close();
      const status = typeof err.description === 'number' ? ` (HTTP ${err.description})` : '';
      resolve(`connect_error "${err.message}"${status}`);
    });
  });
}

/** Opens a plain WebSocket; sends `say` after the first message; resolves with what happened. */
function tryWebSocket(url: string, say: string): Promise<string[]> {
  return new Promise((resolve) => {
    const seen: string[] = [];
    const ws = new WebSocket(url, { handshakeTimeout: 300 }); // no answer to the upgrade within 300 ms: give up
    ws.on('message', (data) => {
      seen.push(`got ${data.toString()}`);
      if (seen.length === 1) {
        ws.send(say);
        seen.push(`sent ${JSON.stringify(say)}`);
      }
    });
    ws.on('error', (err) => seen.push(`error "${err.message}"`));
    ws.on('close', (code) => resolve([...seen, `closed with code ${code}`]));
  });
}

const wsEcho = `http://${host}:${process.env.WS_ECHO_PORT}`;
console.log(`1. socket.io-client -> wsEcho, default transports: ${await trySocketIo(wsEcho, {})}`);
console.log(`2. socket.io-client -> wsEcho, transports ['websocket']: ${await trySocketIo(wsEcho, { transports: ['websocket'] })}`);

const socketIo = `ws://${host}:${process.env.SOCKET_IO_PORT}`;
const paths = ['/', '/socket.io/?EIO=4&transport=websocket'];
for (const [i, path] of paths.entries()) {
  console.log(`${3 + i}. ws -> socketIo at ${path}:`);
  for (const line of await tryWebSocket(socketIo + path, 'hello')) console.log(`   ${line}`);
}
