// The WebSocket reference servers' shared containment, on the smallest of them (the echo): each
// limit gives its documented answer, a departure is handled once, and plain HTTP is told what this is.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { WsEchoServer } from '../src/reference-servers/ws-echo.ts';
import type { WsServerLimits } from '../src/reference-servers/ws-server-base.ts';

const servers: WsEchoServer[] = [];
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  for (const s of servers.splice(0)) await s.close();
});

async function start(limits: Partial<WsServerLimits> = {}) {
  const server = new WsEchoServer(undefined, limits);
  servers.push(server);
  return { server, port: await server.listen(0, '127.0.0.1') };
}

function connect(port: number, options: { autoPong?: boolean } = {}): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { autoPong: options.autoPong ?? true });
  ws.on('error', () => {});
  clients.push(ws);
  return ws;
}

const closed = (ws: WebSocket) => once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
const refusedWith = (ws: WebSocket) => once(ws, 'unexpected-response').then(([, res]) => (res as { statusCode: number }).statusCode);

describe('ReferenceWebSocketServer (via the WebSocket echo)', () => {
  it('echoes text as text and binary as binary', async () => {
    const { port } = await start();
    const ws = connect(port);
    await once(ws, 'open');
    const got: Array<[string, boolean]> = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => got.push([data.toString('hex'), isBinary]));
    ws.send('hi');
    ws.send(Buffer.from([0, 1]));
    await expect.poll(() => got).toEqual([
      [Buffer.from('hi').toString('hex'), false],
      ['0001', true],
    ]);
  });

  it('answers plain HTTP with 426 and a sentence', async () => {
    const { port } = await start();
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(426);
    expect(await res.text()).toBe("This is the course's ws-echo server: connect with a WebSocket client (ws://).\n");
  });

  it('refuses an upgrade past the connection cap (503) and past the per-IP cap (429)', async () => {
    const full = await start({ maxConnections: 1 });
    await once(connect(full.port), 'open');
    expect(await refusedWith(connect(full.port))).toBe(503);

    const perIp = await start({ maxPerIp: 2 });
    await Promise.all([once(connect(perIp.port), 'open'), once(connect(perIp.port), 'open')]);
    expect(await refusedWith(connect(perIp.port))).toBe(429);
  });

  it('frees a per-IP place when a connection closes', async () => {
    const { port, server } = await start({ maxPerIp: 1 });
    const first = connect(port);
    await once(first, 'open');
    first.close();
    await once(first, 'close');
    await expect.poll(() => server.connectionCount).toBe(0);
    await once(connect(port), 'open');
  });

  it('closes with 1009 on a message over the size cap, 1008 past the message rate, 1001 when idle', async () => {
    const big = await start({ maxMessageBytes: 1024 });
    const a = connect(big.port);
    await once(a, 'open');
    a.send(Buffer.alloc(2048));
    expect((await closed(a)).code).toBe(1009);

    const rate = await start({ messagesPerMinute: 60, messageBurst: 3 });
    const b = connect(rate.port);
    await once(b, 'open');
    for (let i = 0; i < 5; i++) b.send(`m${i}`);
    expect(await closed(b)).toEqual({ code: 1008, reason: 'too many messages' });

    // per IP: two connections within their own rates, over the address's together; the other's next message is refused too
    const perIp = await start({ ipMessagesPerMinute: 60, ipMessageBurst: 4 });
    const [d, e] = [connect(perIp.port), connect(perIp.port)];
    await Promise.all([once(d, 'open'), once(e, 'open')]);
    const dClosed = closed(d);
    for (let i = 0; i < 3; i++) d.send(`d${i}`);
    await once(d, 'message'); // served while within the address's budget
    for (let i = 0; i < 3; i++) e.send(`e${i}`);
    expect(await closed(e)).toEqual({ code: 1008, reason: 'too many messages from your address' });
    d.send('d3');
    expect(await dClosed).toEqual({ code: 1008, reason: 'too many messages from your address' });

    const idle = await start({ idleTimeoutMs: 100 });
    const c = connect(idle.port);
    await once(c, 'open');
    expect(await closed(c)).toEqual({ code: 1001, reason: 'idle for too long' });
  });

  it('drops a peer that stops answering pings, and keeps one that answers', async () => {
    const { port, server } = await start({ heartbeatMs: 50 });
    const dead = connect(port, { autoPong: false });
    const live = connect(port);
    await Promise.all([once(dead, 'open'), once(live, 'open')]);
    expect((await closed(dead)).code).toBe(1006); // terminated: no closing handshake
    await expect.poll(() => server.connectionCount).toBe(1);
    expect(live.readyState).toBe(WebSocket.OPEN);
  });

  it('drops a client that sends without reading its echoes', async () => {
    const { port, server } = await start({ maxBufferedBytes: 64 * 1024, maxMessageBytes: 64 * 1024, messagesPerMinute: 0 });
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {}); // the server drops it: writes then fail with ECONNRESET/EPIPE
    await once(socket, 'connect');
    // A raw client: it upgrades, then floods masked frames and never reads.
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    socket.pause();
    await expect.poll(() => server.connectionCount).toBe(1);
    const frame = Buffer.concat([Buffer.from([0x82, 0xfe, 0xfc, 0x00, 0, 0, 0, 0]), Buffer.alloc(0xfc00)]);
    const flood = setInterval(() => socket.write(frame), 1);
    try {
      await expect.poll(() => server.connectionCount, { timeout: 10_000 }).toBe(0);
    } finally {
      clearInterval(flood);
      socket.destroy();
    }
  });
});
