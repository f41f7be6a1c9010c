// A heartbeat: the server pings every client at an interval, and a client that has not answered
// the previous ping by the next one is taken for dead and terminated. Here one client answers
// (ws does it by itself) and one behaves like a peer whose network vanished: it never answers.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

const host = process.env.HOST ?? '127.0.0.1';
const HEARTBEAT_MS = 250; // seconds in real life (e.g. 30 s); short here so the demo ends quickly

const wss = new WebSocketServer({ host, port: Number(process.env.PORT ?? 0) });
/** Connections that answered the last ping (or are new since it). */
const alive = new WeakSet<WebSocket>();
const names = new WeakMap<WebSocket, string>();

wss.on('connection', (ws, request) => {
  names.set(ws, new URL(request.url ?? '/', 'http://x').searchParams.get('name') ?? '?');
  alive.add(ws);
  ws.on('pong', () => alive.add(ws));
  ws.on('error', () => {});
  ws.on('close', (code) => console.log(`server: ${names.get(ws)} is gone (close code ${code})`));
});

const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!alive.has(ws)) {
      console.log(`server: no pong from ${names.get(ws)} since the last ping: terminate`);
      ws.terminate(); // no closing handshake: the peer is not there to answer it
      continue;
    }
    alive.delete(ws);
    ws.ping();
  }
}, HEARTBEAT_MS);
wss.on('close', () => clearInterval(heartbeat));

await once(wss, 'listening');
const { port } = wss.address() as AddressInfo;

const healthy = new WebSocket(`ws://${host}:${port}/?name=healthy`);
// autoPong: false stands in for a peer that silently disappeared (a laptop lid closed, a cable pulled).
const silent = new WebSocket(`ws://${host}:${port}/?name=silent`, { autoPong: false });
let pings = 0;
healthy.on('ping', () => pings++);
for (const ws of [healthy, silent]) ws.on('error', () => {});
await Promise.all([once(healthy, 'open'), once(silent, 'open')]);

await once(silent, 'close'); // the server drops it after two intervals
console.log(`client: silent was dropped; healthy is ${healthy.readyState === WebSocket.OPEN ? 'still open' : 'closed'} after ${pings} ping(s)`);

healthy.close(1000);
await once(healthy, 'close');
wss.close();
