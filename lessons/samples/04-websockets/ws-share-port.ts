// HTTP and WebSocket on one port: ws attaches to an existing http.Server and takes the requests
// that ask to upgrade; every other request goes to the HTTP handler as usual.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

const host = process.env.HOST ?? '127.0.0.1';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`plain HTTP for ${req.method} ${req.url}\n`);
});
const wss = new WebSocketServer({ server });

wss.on('connection', (ws) => {
  ws.on('error', (err) => console.log(`server: error: ${err.message}`));
  ws.send(`welcome, client ${wss.clients.size}`);
});

server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
console.log(`server: HTTP and WebSocket on port ${port}`);

// An ordinary HTTP request…
const response = await fetch(`http://${host}:${port}/status`);
console.log(`http client: ${response.status} ${(await response.text()).trim()}`);

// …and a WebSocket, on the same port.
const ws = new WebSocket(`ws://${host}:${port}/`);
ws.on('error', (err) => console.log(`ws client: error: ${err.message}`));
const [greeting] = (await once(ws, 'message')) as [Buffer];
console.log(`ws client: ${greeting.toString()}`);

ws.close(1000);
await once(ws, 'close');
// wss.close() does not close the http server it was given: close both.
wss.close();
server.close(() => console.log('server: closed'));
