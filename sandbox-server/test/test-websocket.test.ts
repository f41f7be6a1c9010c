// The grading kit's WebSocket client: it talks to a real ws server, records the handshake and each
// frame, sends fragments with a ping between them, and fails with a plain message, its memory
// bounded, against servers that refuse, flood, send a giant message or never finish one.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { TestWebSocket } from '../src/grading-kit/test-websocket.ts';
import { TrafficLog } from '../src/traffic/traffic-log.ts';

// Everything a test opened, closed after it (last opened first): clients, then servers.
const servers: Array<{ close(): unknown }> = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const s of servers.splice(0).reverse()) await s.close();
});

async function listen(server: http.Server | net.Server): Promise<number> {
  servers.push({ close: () => new Promise((resolve) => { (server as http.Server).closeAllConnections?.(); server.close(resolve); }) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A ws server on an http server; `onConnection` gets each server-side socket. */
async function wsServer(onConnection: (ws: import('ws').WebSocket) => void, options: { maxPayload?: number } = {}): Promise<number> {
  const httpServer = http.createServer();
  const wss = new WebSocketServer({ server: httpServer, ...options });
  wss.on('connection', onConnection);
  servers.push({
    close: () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  });
  return listen(httpServer);
}

async function open(port: number, traffic?: TrafficLog, options: { maxMessageBytes?: number; maxBufferedBytes?: number } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  sockets.add(socket);
  await once(socket, 'connect');
  return TestWebSocket.open(socket, port, { label: 'alice', path: '/chat', ...options }, traffic);
}

/** A raw TCP server that answers the opening handshake by hand, then writes `after` and goes quiet. */
async function handRolledServer(after: Buffer): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (request) => {
      const key = /Sec-WebSocket-Key: (.+)\r\n/i.exec(request.toString())![1];
      const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.write(after);
    });
    socket.on('error', () => {});
  });
  return listen(server);
}
describe('TestWebSocket', () => {
  it('exchanges text and binary messages and records the handshake and every frame', async () => {
    const port = await wsServer((ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const traffic = new TrafficLog();
    const client = await open(port, traffic);
    await client.send('hi');
    expect(await client.nextMessage()).toMatchObject({ isBinary: false, text: 'hi' });
    await client.send(Buffer.from([1, 2, 3]));
    expect(await client.nextMessage()).toMatchObject({ isBinary: true, data: Buffer.from([1, 2, 3]) });
    client.close(1000, 'done');
    expect(await client.expectClose()).toEqual({ code: 1000, reason: 'done' });

    const handshakes = traffic.events.filter((e) => e.event === 'handshake');
    expect(handshakes.map((e) => [e.endpoint, e.direction, e.bytes!.toString().split('\r\n')[0]])).toEqual([
      ['grader:alice', 'to-learner', 'GET /chat HTTP/1.1'],
      ['grader:alice', 'from-learner', 'HTTP/1.1 101 Switching Protocols'],
    ]);
    const frames = traffic.events.filter((e) => e.event === 'frame').map((e) => [e.direction, e.frame!.kind, e.frame!.masked, e.frame!.closeCode ?? null]);
    expect(frames).toEqual([
      ['to-learner', 'text', true, null],
      ['from-learner', 'text', false, null],
      ['to-learner', 'binary', true, null],
      ['from-learner', 'binary', false, null],
      ['to-learner', 'close', true, 1000],
      ['from-learner', 'close', false, 1000],
    ]);
  });

  it('sends one message in fragments with pings between them', async () => {
    const got: string[] = [];
    const port = await wsServer((ws) => ws.on('message', (data) => got.push(data.toString())));
    const traffic = new TrafficLog();
    const client = await open(port, traffic);
    await client.sendFragments(['hel', 'lo ', 'world'], { pingBetween: true });
    // Both pongs are still there for the test to read.
    await client.expectPong();
    await client.expectPong();
    await expect.poll(() => got).toEqual(['hello world']);
    // Each fragment after the first left once the ping before it was answered: the server read them apart.
    const frames = traffic.events.filter((e) => e.event === 'frame').map((e) => `${e.direction === 'to-learner' ? '>' : '<'} ${e.frame!.kind}${e.frame!.fin ? '' : '…'}`);
    expect(frames).toEqual(['> text…', '> ping', '< pong', '> continuation…', '> ping', '< pong', '> continuation']);
  });

  it('fails with the HTTP status when the server does not upgrade', async () => {
    const server = http.createServer((_req, res) => res.writeHead(403, 'Forbidden').end());
    server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    const port = await listen(server);
    await expect(open(port)).rejects.toThrow('alice asked to upgrade /chat to a WebSocket, but your server answered HTTP 403 Forbidden');
  });

  it('fails, and holds no more than its cap, when the server sends a message larger than the limit', async () => {
    const port = await wsServer((ws) => ws.send(Buffer.alloc(2 * 1024 * 1024)));
    const client = await open(port, undefined, { maxMessageBytes: 64 * 1024 });
    await expect(client.nextMessage({ what: 'a greeting' })).rejects.toThrow(
      "alice expected a greeting from your server, but your server sent a message larger than 64 KiB (the test's limit).",
    );
    expect((await client.expectClose()).code).toBe(1006);
  });

  it('fails when unread messages pile up past the cap', async () => {
    const port = await wsServer((ws) => {
      for (let i = 0; i < 100; i++) ws.send(Buffer.alloc(1024));
    });
    const client = await open(port, undefined, { maxBufferedBytes: 16 * 1024 });
    await client.expectClose();
    expect(client.received.length).toBeLessThanOrEqual(17);
    // What had arrived within the cap can still be read; then the reason comes.
    for (let i = 0; i < client.received.length; i++) await client.nextMessage();
    await expect(client.nextMessage()).rejects.toThrow('your server sent more than 16 KiB that alice had not asked for yet');
  });

  it('says so when a message in fragments never ends', async () => {
    const firstFragment = Buffer.from([0x01, 5, ...Buffer.from('hello')]); // text, FIN not set
    const port = await handRolledServer(firstFragment);
    const client = await open(port);
    await expect(client.nextMessage({ within: 300 })).rejects.toThrow(
      'alice expected a message from your server, but nothing came within 0.3 s. It started a message in fragments (1 frame(s), 5 bytes) and did not finish it (no frame with FIN set).',
    );
  });

  it('reports the close code and reason the server sent, and refuses to send after it', async () => {
    const port = await wsServer((ws) => ws.close(4001, 'not today'));
    const client = await open(port);
    expect(await client.expectClose()).toEqual({ code: 4001, reason: 'not today' });
    await expect(client.send('late')).rejects.toThrow('alice could not send "late": your server had already closed the connection (close code 4001, reason "not today")');
  });

  it("says why ws ended the connection when it refused the server's close frame", async () => {
    // A close frame carrying 1005, a code that only reports "no code" and never travels in a frame.
    const port = await handRolledServer(Buffer.from([0x88, 0x02, 0x03, 0xed]));
    const client = await open(port);
    expect(await client.expectClose()).toEqual({ code: 1006, reason: '', error: 'Invalid WebSocket frame: invalid status code 1005' });
    await expect(client.send('late')).rejects.toThrow('(ws ended it: Invalid WebSocket frame: invalid status code 1005)');
  });
});
