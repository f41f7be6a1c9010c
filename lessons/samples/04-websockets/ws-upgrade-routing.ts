// noServer + handleUpgrade: the HTTP server decides, before any WebSocket exists, which requests
// may upgrade. It routes by path and checks who is asking (a token, the Origin), answering with an
// HTTP status otherwise.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';

const host = process.env.HOST ?? '127.0.0.1';
const ALLOWED_ORIGINS = new Set(['https://chat.example']);
const TOKENS = new Map([['s3cret', 'ada']]); // token → user; a real server checks a session

const chat = new WebSocketServer({ noServer: true });
const echo = new WebSocketServer({ noServer: true });

/** A chat connection, from a user the upgrade check already knows. */
function onChat(ws: WebSocket, user: string): void {
  ws.on('error', () => {});
  ws.send(`chat: hello ${user}`);
}
echo.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(isBinary ? data : data.toString()));
});

/** Answers the upgrade request with an HTTP error and hangs up: no WebSocket is made. */
function refuse(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

const server = http.createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', (request, socket, head) => {
  socket.on('error', () => {}); // until ws takes the socket, its errors are ours
  const url = new URL(request.url ?? '/', 'http://placeholder');
  if (url.pathname === '/echo') {
    return echo.handleUpgrade(request, socket, head, (ws) => echo.emit('connection', ws, request));
  }
  if (url.pathname !== '/chat') return refuse(socket, 404);
  // Browsers always send Origin, and a page cannot change it: it says which site's page is connecting.
  if (!ALLOWED_ORIGINS.has(request.headers.origin ?? '')) return refuse(socket, 403);
  const user = TOKENS.get(url.searchParams.get('token') ?? '');
  if (!user) return refuse(socket, 401);
  chat.handleUpgrade(request, socket, head, (ws) => onChat(ws, user));
});

server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');
const { port } = server.address() as AddressInfo;

/** Tries to open a WebSocket; prints the first message or the HTTP status it was refused with. */
async function attempt(path: string, origin?: string): Promise<void> {
  const ws = new WebSocket(`ws://${host}:${port}${path}`, { origin });
  const outcome = await new Promise<string>((resolve) => {
    ws.once('message', (data) => resolve(`opened, got "${data.toString()}"`));
    ws.once('unexpected-response', (_req, res) => resolve(`refused: ${res.statusCode} ${res.statusMessage}`));
    ws.once('error', (err) => resolve(`error: ${err.message}`));
    if (path === '/echo') ws.once('open', () => ws.send('ping over /echo'));
  });
  console.log(`${path}${origin ? ` from ${origin}` : ''}: ${outcome}`);
  ws.terminate();
}

await attempt('/echo');
await attempt('/nowhere');
await attempt('/chat?token=s3cret', 'https://evil.example');
await attempt('/chat?token=wrong', 'https://chat.example');
await attempt('/chat?token=s3cret', 'https://chat.example');

chat.close();
echo.close();
server.close();
