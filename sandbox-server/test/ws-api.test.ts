// The WebSocket JSON API reference server (WS-API-PROTOCOL.md): each op's reply, replies out of
// order, an error reply for each kind of bad request with the connection kept, what it records for
// graders, the closing handshake, and replies delivered in fragments with pings between them.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { WsApiServer, MAX_PENDING, SEEN_BUDGET_BYTES, type WsApiEvent } from '../src/reference-servers/ws-api.ts';
import { TrafficLog } from '../src/traffic/traffic-log.ts';

const servers: WsApiServer[] = [];
const clients: WebSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  for (const s of servers.splice(0)) await s.close();
});

async function start(traffic?: TrafficLog) {
  const server = new WsApiServer(traffic);
  servers.push(server);
  return { server, port: await server.listen(0, '127.0.0.1') };
}

interface Client {
  ws: WebSocket;
  replies: Array<Record<string, unknown>>;
  /** The next reply not yet taken. */
  next(): Promise<Record<string, unknown>>;
}

async function connect(port: number): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  ws.on('error', () => {});
  clients.push(ws);
  const replies: Array<Record<string, unknown>> = [];
  ws.on('message', (data: Buffer) => replies.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
  await once(ws, 'open');
  let taken = 0;
  return {
    ws,
    replies,
    next: async () => {
      await expect.poll(() => replies.length).toBeGreaterThan(taken);
      return replies[taken++];
    },
  };
}

const closed = (ws: WebSocket) => once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
const eventsOf = <T extends WsApiEvent['type']>(server: WsApiServer, type: T) => server.seen.filter((e): e is Extract<WsApiEvent, { type: T }> => e.type === type);

describe('WsApiServer', () => {
  it('answers add, upper, time and slow, each reply with its request id', async () => {
    const { port } = await start();
    const c = await connect(port);
    c.ws.send(JSON.stringify({ id: 1, op: 'add', a: 2, b: 40 }));
    expect(await c.next()).toEqual({ id: 1, ok: true, result: 42 });
    c.ws.send(JSON.stringify({ id: 'u', op: 'upper', text: 'héllo, wörld ✓' }));
    expect(await c.next()).toEqual({ id: 'u', ok: true, result: 'HÉLLO, WÖRLD ✓' });
    c.ws.send(JSON.stringify({ id: 3, op: 'time' }));
    const time = await c.next();
    expect(time).toMatchObject({ id: 3, ok: true });
    expect(new Date(time.result as string).toISOString()).toBe(time.result);
    c.ws.send(JSON.stringify({ id: 4, op: 'slow', ms: 20 }));
    expect(await c.next()).toEqual({ id: 4, ok: true, result: 20 });
  });

  it('answers a slow request after the fast ones sent after it: replies come back out of order', async () => {
    const { port } = await start();
    const c = await connect(port);
    c.ws.send(JSON.stringify({ id: 'slow', op: 'slow', ms: 500 }));
    c.ws.send(JSON.stringify({ id: 'fast', op: 'add', a: 1, b: 1 }));
    c.ws.send(JSON.stringify({ id: 'medium', op: 'slow', ms: 50 }));
    await expect.poll(() => c.replies.length, { timeout: 3000 }).toBe(3);
    expect(c.replies.map((r) => r.id)).toEqual(['fast', 'medium', 'slow']);
  });

  it('answers each kind of bad request with an error, with its id when it has one, and keeps the connection', async () => {
    const { port } = await start();
    const c = await connect(port);
    const bad: Array<[string | Buffer, unknown, RegExp]> = [
      ['{"id": 1, "op": ', null, /^invalid JSON: /],
      [Buffer.from('{"id": 2, "op": "time"}'), null, /binary message/],
      ['[1, 2]', null, /a request is a JSON object/],
      [JSON.stringify({ op: 'time' }), null, /has no "id"/],
      [JSON.stringify({ id: null, op: 'time' }), null, /has no "id"/],
      [JSON.stringify({ id: { x: 1 }, op: 'time' }), null, /"id" must be a string or a number/],
      [JSON.stringify({ id: 5, op: 'divide' }), 5, /^unknown op "divide" \(known: add, upper, time, slow\)$/],
      [JSON.stringify({ id: 6 }), 6, /has no "op"/],
      [JSON.stringify({ id: 7, op: 'add', a: 1, b: '2' }), 7, /"add" needs two numbers/],
      [JSON.stringify({ id: 8, op: 'upper', text: 3 }), 8, /"upper" needs a string "text"/],
      [JSON.stringify({ id: 9, op: 'slow', ms: 5001 }), 9, /"slow" needs "ms"/],
      [JSON.stringify({ id: 10, op: 'slow', ms: 1.5 }), 10, /"slow" needs "ms"/],
    ];
    for (const [message, id, error] of bad) {
      c.ws.send(message);
      const reply = await c.next();
      expect(reply).toMatchObject({ id, ok: false });
      expect(reply.error).toMatch(error);
    }
    c.ws.send(JSON.stringify({ id: 'after', op: 'add', a: 1, b: 2 }));
    expect(await c.next()).toEqual({ id: 'after', ok: true, result: 3 });
  });

  it(`refuses a slow request while ${MAX_PENDING} others of the connection are waiting`, async () => {
    const { port } = await start();
    const c = await connect(port);
    for (let i = 0; i <= MAX_PENDING; i++) c.ws.send(JSON.stringify({ id: i, op: 'slow', ms: 5000 }));
    expect(await c.next()).toMatchObject({ id: MAX_PENDING, ok: false, error: `too many slow requests waiting (at most ${MAX_PENDING} at once)` });
  });

  it('answers a close with the same code and reason, and records connect, requests, replies and the close', async () => {
    const { server, port } = await start();
    const c = await connect(port);
    c.ws.send(JSON.stringify({ id: 1, op: 'add', a: 1, b: 2 }));
    c.ws.send('not json');
    await expect.poll(() => c.replies.length).toBe(2);
    c.ws.close(1000, 'done');
    expect(await closed(c.ws)).toEqual({ code: 1000, reason: 'done' });
    await expect.poll(() => eventsOf(server, 'close').length).toBe(1);
    const connection = eventsOf(server, 'connect')[0].connection;
    expect(server.seen).toEqual([
      { type: 'connect', connection },
      { type: 'request', connection, message: 1, text: '{"id":1,"op":"add","a":1,"b":2}', request: { id: 1, op: 'add', a: 1, b: 2 } },
      { type: 'reply', connection, inReplyTo: 1, reply: { id: 1, ok: true, result: 3 }, delivered: true },
      { type: 'request', connection, message: 2, text: 'not json' },
      { type: 'reply', connection, inReplyTo: 2, reply: expect.objectContaining({ id: null, ok: false }), delivered: true },
      { type: 'close', connection, code: 1000, reason: 'done' },
    ]);
  });

  it('records which message each reply answers, whatever ids the client chose, and marks binary messages', async () => {
    const { server, port } = await start();
    const c = await connect(port);
    c.ws.send(JSON.stringify({ id: 7, op: 'slow', ms: 30 }));
    c.ws.send(JSON.stringify({ id: 7, op: 'add', a: 1, b: 1 }));
    c.ws.send(Buffer.from('{"id":8,"op":"time"}'));
    await expect.poll(() => c.replies.length).toBe(3);
    expect(eventsOf(server, 'request').map((e) => [e.message, e.binary ?? false])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(eventsOf(server, 'reply').map((e) => [e.inReplyTo, e.reply.ok ? e.reply.result : e.reply.error])).toEqual([
      [2, 2],
      [3, 'requests are text messages of JSON; this was a binary message'],
      [1, 30],
    ]);
  });

  it('holds slow replies back by slowExtraMs when asked, still answering with the ms requested', async () => {
    const { server, port } = await start();
    server.deliverReplies({ slowExtraMs: 300 });
    const c = await connect(port);
    c.ws.send(JSON.stringify({ id: 's', op: 'slow', ms: 0 }));
    c.ws.send(JSON.stringify({ id: 'a', op: 'add', a: 1, b: 2 }));
    // Each "slow 0" still waits 300 ms: two rounds of add requests are answered before it.
    await expect.poll(() => c.replies.length).toBe(1);
    c.ws.send(JSON.stringify({ id: 'b', op: 'add', a: 3, b: 4 }));
    await expect.poll(() => c.replies.length).toBe(2);
    await expect.poll(() => c.replies.length).toBe(3);
    expect(c.replies).toEqual([
      { id: 'a', ok: true, result: 3 },
      { id: 'b', ok: true, result: 7 },
      { id: 's', ok: true, result: 0 },
    ]);
    expect(() => server.deliverReplies({ slowExtraMs: -1 })).toThrow(RangeError);
  });

  it('records 1005 for a close frame without a code and 1006 for a connection dropped without one', async () => {
    const { server, port } = await start();
    const polite = await connect(port);
    polite.ws.close();
    await closed(polite.ws);
    const rude = await connect(port);
    rude.ws.terminate();
    await expect.poll(() => eventsOf(server, 'close').map((e) => e.code).sort()).toEqual([1005, 1006]);
  });

  it('never sends a reply still waiting when the client closes', async () => {
    const { server, port } = await start();
    const c = await connect(port);
    c.ws.send(JSON.stringify({ id: 'late', op: 'slow', ms: 2000 }));
    await expect.poll(() => eventsOf(server, 'request').length).toBe(1);
    c.ws.close(1000, 'bye');
    expect(await closed(c.ws)).toEqual({ code: 1000, reason: 'bye' });
    await expect.poll(() => eventsOf(server, 'close').length).toBe(1);
    expect(c.replies).toEqual([]);
    expect(eventsOf(server, 'reply')).toEqual([]);
  });

  it('stops recording past its budget, and goes on answering', async () => {
    const { server, port } = await start();
    const c = await connect(port);
    const text = 'x'.repeat(60 * 1024);
    const count = Math.ceil(SEEN_BUDGET_BYTES / (2 * text.length)) + 1;
    for (let i = 0; i < count; i++) c.ws.send(JSON.stringify({ id: i, op: 'upper', text }));
    await expect.poll(() => c.replies.length, { timeout: 5000 }).toBe(count);
    expect(server.seenTruncated).toBe(true);
    expect(server.seen.length).toBeLessThan(1 + 2 * count);
    expect(c.replies.at(-1)).toEqual({ id: count - 1, ok: true, result: text.toUpperCase() });
  });

  it('survives random protocol messages and random bytes, and still serves a well-behaved client', async () => {
    const { port } = await start();
    const fuzzer = await connect(port);
    let seed = 20261201;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T,>(items: T[]): T => items[Math.floor(random() * items.length)];
    const values = (): unknown => pick<unknown>([null, true, -1, 0, 1.5, 2 ** 53, NaN, '', 'x', 'é✓', [], {}, [1, 'a'], { a: 1 }, 'slow', 'add', 'upper', 'time', 5000, 5001, -0]);
    let sent = 0;
    for (let i = 0; i < 300; i++) {
      const kind = random();
      if (kind < 0.2) fuzzer.ws.send(Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))));
      else if (kind < 0.3) fuzzer.ws.send(pick(['{', '}', 'null', '[]', '"', '{"id":', '{"id":1,"op":"add","a":1,"b":', '\u0000']));
      else {
        const request: Record<string, unknown> = {};
        for (const key of ['id', 'op', 'a', 'b', 'text', 'ms', 'extra']) if (random() < 0.7) request[key] = key === 'op' && random() < 0.6 ? pick(['add', 'upper', 'time', 'slow', 'divide']) : values();
        if (request.op === 'slow' && typeof request.ms === 'number') request.ms = Math.min(request.ms, 50);
        fuzzer.ws.send(JSON.stringify(request));
      }
      sent++;
    }
    // One reply per message, each a well-formed reply, and the fuzzer's connection still open.
    await expect.poll(() => fuzzer.replies.length, { timeout: 5000 }).toBe(sent);
    for (const reply of fuzzer.replies) expect(reply.ok === true ? 'result' in reply : typeof reply.error === 'string').toBe(true);
    expect(fuzzer.ws.readyState).toBe(WebSocket.OPEN);
    const good = await connect(port);
    good.ws.send(JSON.stringify({ id: 'slow', op: 'slow', ms: 20 }));
    good.ws.send(JSON.stringify({ id: 'add', op: 'add', a: 2, b: 40 }));
    await expect.poll(() => good.replies.length).toBe(2);
    expect(good.replies).toEqual([
      { id: 'add', ok: true, result: 42 },
      { id: 'slow', ok: true, result: 20 },
    ]);
  });

  it('delivers replies in fragments with a ping between each two when asked, and clients still get each reply whole', async () => {
    const traffic = new TrafficLog();
    const { server, port } = await start(traffic);
    server.deliverReplies({ fragments: 3, pingBetween: true });
    const c = await connect(port);
    c.ws.send(JSON.stringify({ id: 1, op: 'upper', text: 'ça ✓' }));
    c.ws.send(JSON.stringify({ id: 2, op: 'add', a: 1, b: 2 }));
    await expect.poll(() => c.replies.length).toBe(2);
    expect(c.replies).toEqual([
      { id: 1, ok: true, result: 'ÇA ✓' },
      { id: 2, ok: true, result: 3 },
    ]);
    const frames = traffic.events.filter((e) => e.event === 'frame' && e.direction === 'to-learner').map((e) => `${e.frame?.kind}${e.frame?.fin ? '' : ' (more)'}`);
    expect(frames).toEqual(['text (more)', 'ping', 'continuation (more)', 'ping', 'continuation', 'text (more)', 'ping', 'continuation (more)', 'ping', 'continuation']);
    expect(() => server.deliverReplies({ fragments: 0 })).toThrow(RangeError);
  });
});
