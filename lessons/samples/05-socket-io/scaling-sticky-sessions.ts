// Why long-polling needs sticky sessions: an Engine.IO session lives in the memory of the server
// that opened it, and with polling every packet is a new HTTP request. A request that a load
// balancer sends to another server carries a session id that server has never seen.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const host = process.env.HOST ?? '127.0.0.1';

/** A Socket.IO server on its own port (no adapter: the point is what each one remembers). */
async function startServer(port: number): Promise<{ io: Server; url: string }> {
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  httpServer.listen(port, host);
  await once(httpServer, 'listening');
  return { io, url: `http://${host}:${(httpServer.address() as AddressInfo).port}/socket.io/?EIO=4&transport=polling` };
}
const a = await startServer(Number(process.env.PORT ?? 0));
const b = await startServer(0);

// 1. The handshake, to server A: a GET without a session id opens a session.
const handshake = await (await fetch(a.url)).text();
const { sid } = JSON.parse(handshake.slice(1)) as { sid: string }; // "0" (open) + JSON
console.log(`A: handshake ${handshake.slice(0, 40)}…`);

/** POSTs one packet into the session on a server, as a polling client sends. */
async function send(server: { url: string }, packet: string): Promise<string> {
  const res = await fetch(`${server.url}&sid=${sid}`, { method: 'POST', body: packet, headers: { 'content-type': 'text/plain' } });
  return `${res.status} ${await res.text()}`;
}

// 2. The next request, "connect to the main namespace" (40), to each server.
console.log(`A: POST 40 with that sid → ${await send(a, '40')}`);
console.log(`B: POST 40 with that sid → ${await send(b, '40')}`);
console.log(`A: GET with that sid → ${(await (await fetch(`${a.url}&sid=${sid}`)).text()).slice(0, 12)}… (the CONNECT answer)`);

a.io.close();
b.io.close();
