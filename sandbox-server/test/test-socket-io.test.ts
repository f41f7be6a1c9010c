// The kit's Socket.IO client, against small socket.io servers built for each case: it connects over
// the connections it is given (and records them), and each failure says what happened in a
// learner's terms: a refusal with its message, an ack that never came, an event that did not arrive
// (with what did), a disconnect in the middle of an emit.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { Server, type ServerOptions } from 'socket.io';
import { TestSocketIo } from '../src/grading-kit/test-socket-io.ts';
import { GradingFailure } from '../src/grading-kit/context.ts';
import { TrafficLog } from '../src/traffic/traffic-log.ts';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function serve(setUp: (io: Server) => void, options: Partial<ServerOptions> = {}) {
  const server = http.createServer();
  const io = new Server(server, options);
  setUp(io);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  let connections = 0;
  const connector = () =>
    new Promise<net.Socket>((resolve, reject) => {
      connections++;
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket)).once('error', reject);
    });
  closers.push(() => new Promise<void>((resolve) => io.close(() => resolve())));
  return { io, url: `http://127.0.0.1:${port}`, connector, connections: () => connections };
}

async function open(target: Awaited<ReturnType<typeof serve>>, options: Partial<Parameters<typeof TestSocketIo.open>[2]> = {}, traffic?: TrafficLog) {
  const client = await TestSocketIo.open(target.connector, target.url, { label: 'alice', ...options }, traffic);
  closers.push(() => client.close());
  return client;
}

describe('TestSocketIo', () => {
  it('connects through the connector it is given, over either transport, and records the frames', async () => {
    const target = await serve((io) => io.on('connection', (s) => s.on('ping?', (ack: (x: string) => void) => ack('pong!'))));
    const traffic = new TrafficLog();
    const ws = await open(target, {}, traffic);
    expect(await ws.emitWithAck('ping?')).toEqual(['pong!']);
    const polling = await open(target, { label: 'bob', transports: ['polling', 'websocket'] });
    expect(await polling.emitWithAck('ping?')).toEqual(['pong!']);
    expect(target.connections()).toBeGreaterThanOrEqual(2);
    const frames = traffic.events.filter((e) => e.endpoint === 'grader:alice' && e.event === 'frame').map((e) => `${e.direction} ${e.bytes}`);
    expect(frames).toContain('to-learner 420["ping?"]');
    expect(frames).toContain('from-learner 430["pong!"]');
  });

  it("fails to open with the server's connect_error, and openRefused returns it", async () => {
    const target = await serve((io) =>
      io.use((socket, next) => next(Object.assign(new Error('no token'), { data: { code: 'TOKEN_REQUIRED' } }))),
    );
    await expect(open(target)).rejects.toThrow(`your server refused alice's connection (connect_error: "no token", data {"code":"TOKEN_REQUIRED"})`);
    expect(await TestSocketIo.openRefused(target.connector, target.url, { label: 'bob' })).toEqual({ message: 'no token', data: { code: 'TOKEN_REQUIRED' } });
  });

  it('says a WebSocket-only client was refused its transport (a polling-only server), not refused by a middleware', async () => {
    const target = await serve(() => {}, { transports: ['polling'] });
    const expected = "alice could not connect: the grader connects with the WebSocket transport; your server refused it (websocket error): is `transports: ['polling']` set on the server?";
    await expect(open(target)).rejects.toThrow(expected);
    await expect(TestSocketIo.openRefused(target.connector, target.url, { label: 'alice' })).rejects.toThrow(expected);
    expect((await open(target, { label: 'bob', transports: ['polling', 'websocket'] })).connected).toBe(true);
  });

  it("says the kit's own reason when its connector cannot connect (the server stopped), not socket.io-client's", async () => {
    const stopped = () => Promise.reject(new GradingFailure('your server is no longer running: it exited with code 1'));
    await expect(TestSocketIo.open(stopped, 'http://127.0.0.1:9', { label: 'alice' })).rejects.toThrow('your server is no longer running: it exited with code 1');
    await expect(TestSocketIo.openRefused(stopped, 'http://127.0.0.1:9', { label: 'bob' })).rejects.toThrow('your server is no longer running: it exited with code 1');
  });

  it('openRefused fails when the server accepts instead', async () => {
    const target = await serve(() => {});
    await expect(TestSocketIo.openRefused(target.connector, target.url, { label: 'eve', auth: { token: 'x' } })).rejects.toThrow(
      `your server accepted eve's connection (auth {"token":"x"}), expected it to refuse with a connect_error`,
    );
  });

  it('says when an acknowledgement never comes, and when the connection is lost before it', async () => {
    const target = await serve((io) =>
      io.on('connection', (s) => {
        s.on('ignore', () => {});
        s.on('hang-up', () => s.disconnect(true));
      }),
    );
    const client = await open(target);
    await expect(client.emitWithAck('ignore', [1, { a: 'b' }], { within: 100 })).rejects.toThrow(
      'alice sent ignore(1, {"a":"b"}) with an acknowledgement callback, and your server did not call it within 0.1 s',
    );
    await expect(client.emitWithAck('hang-up', [])).rejects.toThrow('alice sent hang-up() and was disconnected (io server disconnect) before your server acknowledged it');
    await expect(client.emitWithAck('ignore', [])).rejects.toThrow('alice is not connected to your server (it disconnected: io server disconnect)');
  });

  it('waits for events by name or predicate, saying what arrived instead; expectNoEvent catches one', async () => {
    const target = await serve((io) => io.on('connection', (s) => s.on('go', () => (s.emit('first', 1), s.emit('second', { n: 2 })))));
    const client = await open(target);
    client.emit('go');
    expect(await client.nextEvent('second')).toEqual([{ n: 2 }]);
    await expect(client.nextEvent('third', { within: 100 })).rejects.toThrow('alice expected a "third" event from your server within 0.1 s, but none came. It received instead: first(1).');
    await expect(client.expectNoEvent((e) => e.event === 'first', { what: '"first" event' })).rejects.toThrow('alice expected no "first" event, but your server sent first(1)');
    expect(client.received.map((e) => e.event)).toEqual(['first', 'second']);
  });

  it('dropTransport cuts the connection as a network failure would: the server sees "transport close"', async () => {
    let reason = '';
    const target = await serve((io) => io.on('connection', (s) => s.on('disconnect', (r) => void (reason = r))));
    const client = await open(target);
    client.dropTransport();
    expect(await client.expectDisconnect()).toBe('transport close');
    await expect.poll(() => reason).toBe('transport close');
  });
});
