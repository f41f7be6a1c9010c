// The Socket.IO reference server behaves as SOCKET-IO-PROTOCOL.md says, to a real socket.io-client:
// the handshake's refusals with their codes, every acknowledged event and its refusals, room
// broadcasts reaching exactly the room, recovery after a dropped transport, the record a grader
// reads, and the shared server's caps.
import { afterEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { SocketIoReferenceServer, SHARED_SOCKET_IO_LIMITS, type SocketIoLimits } from '../src/reference-servers/socket-io.ts';
import { TrafficLog } from '../src/traffic/traffic-log.ts';

const servers: SocketIoReferenceServer[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(limits: Partial<SocketIoLimits> = {}, observe = true, traffic?: TrafficLog) {
  const server = new SocketIoReferenceServer(traffic, limits, observe);
  servers.push(server);
  const port = await server.listen(0);
  return { server, url: `http://127.0.0.1:${port}` };
}

function client(url: string, auth: unknown, options: Parameters<typeof io>[1] = {}): Socket {
  const socket = io(url, { auth: auth as Record<string, unknown>, transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  clients.push(socket);
  return socket;
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

function refused(socket: Socket): Promise<{ message: string; data: unknown }> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected')));
    socket.once('connect_error', (err: Error & { data?: unknown }) => resolve({ message: err.message, data: err.data }));
  });
}

function next<T = unknown>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (payload: T) => resolve(payload)));
}

describe('Socket.IO reference server: the handshake', () => {
  it.each([
    [{}, 'NAME_REQUIRED'],
    [{ name: 42 }, 'NAME_REQUIRED'],
    [{ name: '' }, 'BAD_NAME'],
    [{ name: 'x'.repeat(33) }, 'BAD_NAME'],
    [{ name: 'bell\u0007' }, 'BAD_NAME'],
  ])('refuses auth %j with connect_error data.code %s and a readable message', async (auth, code) => {
    const { server, url } = await start();
    const refusal = await refused(client(url, auth));
    expect(refusal.data).toEqual({ code });
    expect(refusal.message).toMatch(/^auth\.name (is required|must be 1 to 32 characters)/);
    expect(server.seen).toEqual([{ kind: 'refused', nsp: '/', auth, code, message: refusal.message }]);
  });

  it('welcomes a named client with its id, and records the handshake', async () => {
    const { server, url } = await start();
    const ada = client(url, { name: 'Ada Lovelace' });
    const welcome = next<{ id: string; name: string }>(ada, 'welcome');
    await connected(ada);
    expect(await welcome).toEqual({ id: ada.id, name: 'Ada Lovelace' });
    expect(server.seen).toEqual([{ kind: 'connect', id: ada.id, nsp: '/', auth: { name: 'Ada Lovelace' }, transport: 'websocket', recovered: false }]);
  });

  it('requires the token a grader set: TOKEN_REQUIRED, BAD_TOKEN, then admits the right one', async () => {
    const { server, url } = await start();
    server.requireToken('s3cret');
    expect((await refused(client(url, { name: 'a' }))).data).toEqual({ code: 'TOKEN_REQUIRED' });
    expect((await refused(client(url, { name: 'a', token: 'guess' }))).data).toEqual({ code: 'BAD_TOKEN' });
    await connected(client(url, { name: 'a', token: 's3cret' }));
  });

  it('serves long-polling clients and their upgrade too', async () => {
    const { url } = await start();
    const polling = client(url, { name: 'p' }, { transports: ['polling', 'websocket'] });
    await connected(polling);
    expect(await polling.emitWithAck('echo', 'over polling')).toBe('over polling');
    await new Promise<void>((resolve) => (polling.io.engine.transport.name === 'websocket' ? resolve() : polling.io.engine.once('upgrade', () => resolve())));
    expect(await polling.emitWithAck('echo', 'after the upgrade')).toBe('after the upgrade');
  });
});

describe('Socket.IO reference server: events', () => {
  it('echo acknowledges with the same arguments, in order; too many are refused through the ack', async () => {
    const { url } = await start();
    const c = client(url, { name: 'c' });
    await connected(c);
    const args = await new Promise<unknown[]>((resolve) => c.emit('echo', 1, 'two', { three: [3] }, null, (...reply: unknown[]) => resolve(reply)));
    expect(args).toEqual([1, 'two', { three: [3] }, null]);
    expect(await c.emitWithAck('echo', ...Array(11).fill(0))).toEqual({ ok: false, error: { code: 'TOO_MANY_ARGS', message: 'echo takes at most 10 arguments' } });
  });

  it('whoami, join, members, leave answer as documented, errors included', async () => {
    const { url } = await start();
    const a = client(url, { name: 'ann' });
    const b = client(url, { name: 'bob' });
    await Promise.all([connected(a), connected(b)]);
    expect(await a.emitWithAck('join', 'lobby')).toEqual({ ok: true, room: 'lobby', members: ['ann'] });
    const joined = next(a, 'joined');
    expect(await b.emitWithAck('join', 'lobby')).toEqual({ ok: true, room: 'lobby', members: ['ann', 'bob'] });
    expect(await joined).toEqual({ room: 'lobby', id: b.id, name: 'bob' });
    expect(await b.emitWithAck('join', 'lobby')).toEqual({ ok: true, room: 'lobby', members: ['ann', 'bob'] }); // already in: unchanged
    expect(await a.emitWithAck('whoami')).toEqual({ ok: true, id: a.id, name: 'ann', rooms: ['lobby'] });
    expect(await a.emitWithAck('members', 'nobody-here')).toEqual({ ok: true, room: 'nobody-here', members: [] });
    expect(await a.emitWithAck('join', 'no spaces')).toMatchObject({ ok: false, error: { code: 'BAD_ROOM' } });
    expect(await a.emitWithAck('leave', 'elsewhere')).toMatchObject({ ok: false, error: { code: 'NOT_IN_ROOM' } });
    const left = next(a, 'left');
    expect(await b.emitWithAck('leave', 'lobby')).toEqual({ ok: true, room: 'lobby' });
    expect(await left).toEqual({ room: 'lobby', id: b.id, name: 'bob' });
    expect(await a.emitWithAck('members', 'lobby')).toEqual({ ok: true, room: 'lobby', members: ['ann'] });
  });

  it('say reaches exactly the room (sender included), or everyone without a room; bad ones are refused', async () => {
    const { url } = await start();
    const [a, b, outsider] = [client(url, { name: 'a' }), client(url, { name: 'b' }), client(url, { name: 'o' })];
    await Promise.all([a, b, outsider].map(connected));
    await a.emitWithAck('join', 'r1');
    await b.emitWithAck('join', 'r1');
    const heard: string[] = [];
    outsider.on('message', (m: { text: string }) => heard.push(m.text));
    const atB = next<{ id: string; room: string; from: string; text: string; at: number }>(b, 'message');
    const atA = next(a, 'message');
    const ack = await a.emitWithAck('say', { room: 'r1', text: 'in the room' });
    expect(ack).toEqual({ ok: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const message = await atB;
    expect(message).toEqual({ id: ack.id, room: 'r1', from: 'a', text: 'in the room', at: expect.any(Number) });
    expect(await atA).toEqual(message);
    // Ordered after the room message on every connection: when the outsider hears this, it would have heard the first.
    const everyone = next<{ text: string }>(outsider, 'message');
    expect(await b.emitWithAck('say', { text: 'to all' })).toMatchObject({ ok: true });
    expect((await everyone).text).toBe('to all');
    expect(heard).toEqual(['to all']);
    expect(await outsider.emitWithAck('say', { room: 'r1', text: 'let me in' })).toMatchObject({ ok: false, error: { code: 'NOT_IN_ROOM' } });
    expect(await a.emitWithAck('say', { text: '' })).toMatchObject({ ok: false, error: { code: 'BAD_TEXT' } });
    expect(await a.emitWithAck('say', { text: 'x'.repeat(501) })).toMatchObject({ ok: false, error: { code: 'BAD_TEXT' } });
    expect(await a.emitWithAck('say', 'not an object')).toMatchObject({ ok: false, error: { code: 'BAD_TEXT' } });
  });

  it('slow answers after its delay, silent never answers, and both are recorded with withAck', async () => {
    const { server, url } = await start();
    const c = client(url, { name: 'c' });
    await connected(c);
    expect(await c.emitWithAck('slow', 30)).toEqual({ ok: true, waited: 30 });
    expect(await c.emitWithAck('slow', 5001)).toMatchObject({ ok: false, error: { code: 'BAD_DELAY' } });
    await expect(c.timeout(150).emitWithAck('silent', 'anyone?')).rejects.toThrow('operation has timed out');
    c.emit('silent', 'no callback');
    await c.emitWithAck('whoami'); // after the one above, on the same connection
    const events = server.seen.filter((e) => e.kind === 'event');
    expect(events).toEqual([
      { kind: 'event', id: c.id, event: 'slow', args: [30], withAck: true },
      { kind: 'event', id: c.id, event: 'slow', args: [5001], withAck: true },
      { kind: 'event', id: c.id, event: 'silent', args: ['anyone?'], withAck: true },
      { kind: 'event', id: c.id, event: 'silent', args: ['no callback'], withAck: false },
      { kind: 'event', id: c.id, event: 'whoami', args: [], withAck: true },
    ]);
  });

  it('an event with no ack callback gets no answer and breaks nothing', async () => {
    const { url } = await start();
    const c = client(url, { name: 'c' });
    await connected(c);
    for (const event of ['echo', 'whoami', 'join', 'leave', 'members', 'say', 'slow']) c.emit(event, 'x');
    expect(await c.emitWithAck('echo', 'still here')).toBe('still here');
  });

  it('carries out a request sent without an ack callback: join and say take effect, unanswered', async () => {
    const { url } = await start();
    const [a, b] = [client(url, { name: 'a' }), client(url, { name: 'b' })];
    await Promise.all([connected(a), connected(b)]);
    await b.emitWithAck('join', 'r');
    a.emit('join', 'r');
    const heard = next<{ text: string; from: string }>(b, 'message');
    a.emit('say', { room: 'r', text: 'no callback' });
    expect(await heard).toMatchObject({ from: 'a', text: 'no callback' });
    expect(await b.emitWithAck('members', 'r')).toEqual({ ok: true, room: 'r', members: ['b', 'a'] });
  });
});

describe('Socket.IO reference server: disconnects and recovery', () => {
  it("'transport': the client reconnects by itself and is recovered, rooms and missed broadcasts included, no second welcome", async () => {
    const { server, url } = await start();
    const a = client(url, { name: 'a' }, { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 20 });
    const b = client(url, { name: 'b' });
    await Promise.all([connected(a), connected(b)]);
    await a.emitWithAck('join', 'r');
    await b.emitWithAck('join', 'r');
    const welcomes: unknown[] = [];
    a.on('welcome', (w) => welcomes.push(w));
    const reason = next(a, 'disconnect');
    const id = a.id!;
    server.disconnect(id, 'transport');
    expect(await reason).toBe('transport close');
    await b.emitWithAck('say', { room: 'r', text: 'while you were away' });
    const missed = next<{ text: string }>(a, 'message');
    await connected(a);
    expect(a.recovered).toBe(true);
    expect(a.id).toBe(id);
    expect((await missed).text).toBe('while you were away');
    expect(await a.emitWithAck('whoami')).toMatchObject({ rooms: ['r'] });
    expect(welcomes).toEqual([]);
    expect(server.seen.filter((e) => e.kind === 'connect').map((e) => e.kind === 'connect' && e.recovered)).toEqual([false, false, true]);
    expect(server.seen).toContainEqual({ kind: 'disconnect', id, reason: 'forced close' });
  });

  it('forgetSessions(): a client coming back with a session kept from an earlier drop gets a new one, with a new id and a welcome', async () => {
    const { server, url } = await start();
    const a = client(url, { name: 'a' }, { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 20 });
    await connected(a);
    const id = a.id!;
    server.disconnect(id, 'transport'); // the session is kept from here
    await connected(a);
    expect(a.recovered).toBe(true);
    // Without forgetSessions(), connecting again after a server-side disconnect gives that kept session back.
    server.forgetSessions();
    const reason = next(a, 'disconnect');
    server.disconnect(id, 'server');
    expect(await reason).toBe('io server disconnect');
    const welcome = next<{ id: string }>(a, 'welcome');
    a.connect();
    await connected(a);
    expect(a.recovered).toBe(false);
    expect(a.id).not.toBe(id);
    expect((await welcome).id).toBe(a.id);
    expect(server.seen.filter((e) => e.kind === 'connect').map((e) => e.kind === 'connect' && e.recovered)).toEqual([false, true, false]);
  });

  it("'server': the client is told 'io server disconnect' and does not come back by itself", async () => {
    const { server, url } = await start();
    const a = client(url, { name: 'a' }, { reconnection: true, reconnectionDelay: 20 });
    await connected(a);
    const reason = next(a, 'disconnect');
    expect(server.disconnect(a.id!, 'server')).toBe(true);
    expect(await reason).toBe('io server disconnect');
    expect(a.active).toBe(false);
    expect(server.disconnect('no-such-id', 'server')).toBe(false);
  });
});

describe('Socket.IO reference server: the shared one', () => {
  it('keeps no record', async () => {
    const { server, url } = await start(SHARED_SOCKET_IO_LIMITS, false);
    const c = client(url, { name: 'c' });
    await connected(c);
    await c.emitWithAck('echo', 1);
    expect(server.seen).toEqual([]);
  });

  it('caps connections per address: one more is refused at the handshake and the others go on', async () => {
    const { url } = await start({ maxPerIp: 2 });
    const [a, b] = [client(url, { name: 'a' }), client(url, { name: 'b' })];
    await Promise.all([connected(a), connected(b)]);
    const third = await refused(client(url, { name: 'c' }));
    expect(third.message).toMatch(/too many connections from your address|websocket error/);
    expect(await a.emitWithAck('echo', 'fine')).toBe('fine');
    a.close();
    await new Promise((r) => setTimeout(r, 50));
    await connected(client(url, { name: 'd' })); // the slot is free again
  });

  it('disconnects a connection that sends too many events, telling it why, and serves the others', async () => {
    const { url } = await start({ eventsPerMinute: 60, eventBurst: 5 });
    const [flooder, calm] = [client(url, { name: 'f' }), client(url, { name: 'c' })];
    await Promise.all([connected(flooder), connected(calm)]);
    const told = next(flooder, 'server-error');
    const gone = next(flooder, 'disconnect');
    for (let i = 0; i < 20; i++) flooder.emit('echo', i);
    expect(await told).toEqual({ code: 'TOO_MANY_EVENTS', message: 'too many events: slow down' });
    expect(await gone).toBe('io server disconnect');
    expect(await calm.emitWithAck('echo', 'unaffected')).toBe('unaffected');
  });

  it('closes a connection that sends a packet over the size limit, and serves the others', async () => {
    const { url } = await start({ maxMessageBytes: 1024 });
    const [big, calm] = [client(url, { name: 'b' }), client(url, { name: 'c' })];
    await Promise.all([connected(big), connected(calm)]);
    const gone = next(big, 'disconnect');
    big.emit('echo', 'x'.repeat(4096));
    expect(await gone).toBe('transport close');
    expect(await calm.emitWithAck('echo', 'unaffected')).toBe('unaffected');
  });

  it('disconnects a connection idle for its timeout', async () => {
    const { url } = await start({ idleTimeoutMs: 100 });
    const c = client(url, { name: 'c' });
    await connected(c);
    expect(await next(c, 'disconnect')).toBe('io server disconnect');
  });

  it('records its frames in the traffic log as a run server', async () => {
    const traffic = new TrafficLog();
    const { url } = await start({}, true, traffic);
    const c = client(url, { name: 'c' });
    await connected(c);
    await c.emitWithAck('echo', 'logged');
    const texts = traffic.events.filter((e) => e.event === 'frame' && e.endpoint === 'socketIo').map((e) => e.bytes!.toString());
    expect(texts).toContain('42' + JSON.stringify(['echo', 'logged']).replace(/^/, '0')); // EVENT with ack id 0
    expect(texts).toContain('430["logged"]');
  });
});
