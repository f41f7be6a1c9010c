// The dashboard reference server (DASHBOARD-PROTOCOL.md): subscriptions, snapshots, ticks to
// subscribers only, errors that keep the connection, slow clients skipped and then dropped without
// holding up the others (judged by counting ticks, not by the clock), and its CPU measurement.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { DashboardServer, METRICS, type DashboardOptions } from '../src/reference-servers/dashboard.ts';
import { CpuUsage, type CpuTimes, type MetricSource, type SystemSample } from '../src/reference-servers/system-metrics.ts';
import type { WsServerLimits } from '../src/reference-servers/ws-server-base.ts';
import { FUZZ_SEED, prng } from './support/prng.ts';

/** Values derived from the tick number, so a test knows what each tick must carry. */
function tickSource(uptimeValue: (tick: number) => unknown = (tick) => tick): MetricSource {
  return {
    sample: (tick): SystemSample => ({
      cpu: tick === 0 ? null : tick % 100,
      memory: { totalBytes: 1000, freeBytes: 1000 - tick, usedBytes: tick, usedPercent: tick / 10 },
      load: [tick, tick / 2, tick / 4],
      uptime: uptimeValue(tick) as number,
    }),
  };
}

const servers: DashboardServer[] = [];
const sockets: Array<WebSocket | net.Socket> = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) (s instanceof WebSocket ? s.terminate() : s.destroy());
  for (const s of servers.splice(0)) await s.close();
});

async function start(options: Partial<DashboardOptions> = {}, limits: Partial<WsServerLimits> = {}) {
  const server = new DashboardServer(undefined, limits, { intervalMs: 0, source: tickSource(), ...options });
  servers.push(server);
  return { server, port: await server.listen(0, '127.0.0.1') };
}

type Message = { type: string; [key: string]: unknown };

/** A client that keeps every message, parsed, and can wait for the next one. */
class Client {
  readonly messages: Message[] = [];
  private read = 0;
  constructor(readonly ws: WebSocket, readonly socket?: net.Socket) {
    ws.on('message', (data: Buffer) => this.messages.push(JSON.parse(data.toString('utf8')) as Message));
    ws.on('error', () => {});
  }

  static async open(port: number, options: { pausable?: boolean } = {}): Promise<Client> {
    let socket: net.Socket | undefined;
    if (options.pausable) {
      socket = net.connect(port, '127.0.0.1');
      sockets.push(socket);
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, socket ? { createConnection: () => socket } : {});
    sockets.push(ws);
    const client = new Client(ws, socket);
    await once(ws, 'open');
    expect((await client.next()).type).toBe('welcome');
    return client;
  }

  async next(): Promise<Message> {
    await expect.poll(() => this.messages.length > this.read, { timeout: 5000 }).toBe(true);
    return this.messages[this.read++];
  }

  /** The messages not read yet, without waiting. */
  rest(): Message[] {
    const rest = this.messages.slice(this.read);
    this.read = this.messages.length;
    return rest;
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  ticks(): number[] {
    return this.messages.filter((m) => m.type === 'tick').map((m) => m.tick as number);
  }
}

describe('DashboardServer', () => {
  it('greets with the metric names, the interval and the latest tick', async () => {
    const { port } = await start({ intervalMs: 60_000 });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    sockets.push(ws);
    const [data] = (await once(ws, 'message')) as [Buffer];
    expect(JSON.parse(data.toString())).toEqual({ type: 'welcome', metrics: [...METRICS], intervalMs: 60_000, tick: 0 });
  });

  it('answers a subscribe at once with a snapshot of the latest values, then ticks carry only those metrics', async () => {
    const { server, port } = await start();
    server.tick();
    server.tick(); // the late joiner arrives after tick 2
    const client = await Client.open(port);
    client.send({ type: 'subscribe', metrics: ['cpu', 'load', 'connections'] });
    // The values as sampled at tick 2, when nobody was connected yet.
    expect(await client.next()).toMatchObject({ type: 'snapshot', tick: 2, values: { cpu: 2, load: [2, 1, 0.5], connections: 0 } });
    expect(Object.keys((client.messages[1].values as object) ?? {})).toEqual(['cpu', 'load', 'connections']);
    server.tick();
    const tick = await client.next();
    expect(tick).toMatchObject({ type: 'tick', tick: 3, values: { cpu: 3, load: [3, 1.5, 0.75], connections: 1 } });
    expect(Object.keys(tick.values as object)).toEqual(['cpu', 'load', 'connections']);
  });

  it('sends ticks only to subscribers, and none after an unsubscribe has been answered', async () => {
    const { server, port } = await start();
    const [watcher, bystander] = [await Client.open(port), await Client.open(port)];
    watcher.send({ type: 'subscribe', metrics: ['uptime', 'memory'] });
    await watcher.next();
    server.tick();
    expect(await watcher.next()).toMatchObject({ type: 'tick', tick: 1, values: { uptime: 1, memory: { usedBytes: 1 } } });
    watcher.send({ type: 'unsubscribe', metrics: ['memory', 'cpu'] });
    expect(await watcher.next()).toEqual({ type: 'unsubscribed', metrics: ['memory', 'cpu'], subscribed: ['uptime'] });
    server.tick();
    expect((await watcher.next()).values).toEqual({ uptime: 2 });
    watcher.send({ type: 'unsubscribe', metrics: ['uptime'] });
    expect((await watcher.next()).subscribed).toEqual([]);
    server.tick();
    server.tick();
    // A subscribe answered after those ticks proves they were sent (or not) before it.
    for (const c of [watcher, bystander]) c.send({ type: 'subscribe', metrics: ['cpu'] });
    expect(await watcher.next()).toMatchObject({ type: 'snapshot', tick: 4 });
    expect(await bystander.next()).toMatchObject({ type: 'snapshot', tick: 4 });
    expect(bystander.ticks()).toEqual([]);
    expect(watcher.ticks()).toEqual([1, 2]);
  });

  it('answers each bad request with an error saying what is wrong, changes nothing, and keeps the connection', async () => {
    const { server, port } = await start();
    const client = await Client.open(port);
    const bad: Array<[unknown, RegExp]> = [
      ['{not json', /not valid JSON/],
      ['[1,2]', /JSON object/],
      [{ type: 'publish', metrics: ['cpu'] }, /unknown type "publish"/],
      [{ type: 'subscribe' }, /non-empty array/],
      [{ type: 'subscribe', metrics: [] }, /non-empty array/],
      [{ type: 'subscribe', metrics: ['cpu', 'disk'] }, /unknown metric "disk"/],
    ];
    for (const [request, message] of bad) {
      client.send(request);
      const answer = await client.next();
      expect(answer.type).toBe('error');
      expect(answer.message).toMatch(message);
    }
    client.ws.send(Buffer.from('{"type":"subscribe","metrics":["cpu"]}'));
    expect((await client.next()).message).toMatch(/not binary/);
    server.tick();
    client.send({ type: 'subscribe', metrics: ['cpu'] });
    // Nothing was subscribed by the bad requests: no tick 1 arrived before this snapshot.
    expect(await client.next()).toMatchObject({ type: 'snapshot', tick: 1 });
    expect(server.seen.filter((e) => e.type === 'error')).toHaveLength(7);
  });

  it('skips a client that stopped reading, keeps the others going, and catches it up with the latest values', async () => {
    // A quarter-MiB value per tick fills a paused client's kernel buffers within a few dozen ticks.
    const big = 'x'.repeat(256 * 1024);
    const { server, port } = await start({ source: tickSource(() => big), maxSkippedTicks: 1000 });
    const [fast, slow] = [await Client.open(port), await Client.open(port, { pausable: true })];
    for (const c of [fast, slow]) {
      c.send({ type: 'subscribe', metrics: ['uptime', 'cpu'] });
      await c.next();
    }
    slow.socket!.pause();
    const TICKS = 80; // 20 MiB for a client that is never skipped
    for (let i = 0; i < TICKS; i++) {
      server.tick();
      await new Promise((resolve) => setImmediate(resolve)); // let the sockets write between ticks
    }
    await expect.poll(() => fast.ticks().length, { timeout: 10_000 }).toBe(TICKS);
    expect(fast.ticks()).toEqual(Array.from({ length: TICKS }, (_, i) => i + 1));
    const skipped = server.seen.filter((e) => e.type === 'skip');
    expect(skipped.length).toBeGreaterThan(TICKS / 2);
    expect(new Set(skipped.map((e) => e.connection))).toEqual(new Set([2])); // the slow one (1 is the fast one)
    slow.socket!.resume();
    // Once it has read what was queued for it, ticks reach it again, with the latest values.
    await expect
      .poll(
        () => {
          const caughtUp = slow.ticks().at(-1) === server.current.tick;
          if (!caughtUp) server.tick();
          return caughtUp;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(true);
    const got = slow.ticks();
    expect(got.length).toBeLessThan(got.at(-1)! - skipped.length + 1);
    expect(slow.messages.at(-1)).toMatchObject({ values: { cpu: server.current.tick % 100 } });
  });

  it('drops a client skipped maxSkippedTicks times in a row (destroyed, not closed)', async () => {
    const big = 'x'.repeat(512 * 1024);
    const { server, port } = await start({ source: tickSource(() => big), maxSkippedTicks: 3 });
    const slow = await Client.open(port, { pausable: true });
    slow.send({ type: 'subscribe', metrics: ['uptime'] });
    await slow.next();
    slow.socket!.pause();
    for (let i = 0; i < 200 && !server.seen.some((e) => e.type === 'drop'); i++) {
      server.tick();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const tail = server.seen.filter((e) => e.type === 'skip' || e.type === 'drop').slice(-4);
    expect(tail.map((e) => e.type)).toEqual(['skip', 'skip', 'skip', 'drop']);
    expect(tail.map((e) => (e as { tick: number }).tick)).toEqual([0, 1, 2, 2].map((i) => (tail[0] as { tick: number }).tick + i));
    await expect.poll(() => server.connectionCount).toBe(0);
  });

  it('closes a connection subscribed to nothing for the unsubscribed timeout with 1001, and not a subscribed one', async () => {
    const { port } = await start({ unsubscribedTimeoutMs: 100 });
    const [idle, watching] = [await Client.open(port), await Client.open(port)];
    watching.send({ type: 'subscribe', metrics: ['cpu'] });
    await watching.next();
    const [code, reason] = (await once(idle.ws, 'close')) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1001, 'subscribed to nothing for too long']);
    expect(watching.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('broadcasts from one timer: consecutive ticks, the same number to every client in a broadcast', async () => {
    const { port } = await start({ intervalMs: 20 });
    const clients = [await Client.open(port), await Client.open(port), await Client.open(port)];
    for (const c of clients) c.send({ type: 'subscribe', metrics: ['cpu'] });
    await expect.poll(() => clients.every((c) => c.ticks().length >= 5), { timeout: 10_000 }).toBe(true);
    for (const c of clients) {
      const ticks = c.ticks();
      expect(ticks).toEqual(ticks.map((_, i) => ticks[0] + i));
      for (const m of c.messages.filter((m) => m.type === 'tick')) expect((m.values as { cpu: number }).cpu).toBe((m.tick as number) % 100);
    }
    const common = clients[0].ticks().filter((t) => clients.every((c) => c.ticks().includes(t)));
    expect(common.length).toBeGreaterThanOrEqual(3);
  });

  it('records connects, subscriptions and closes with code and reason in seen', async () => {
    const { server, port } = await start();
    const client = await Client.open(port);
    client.send({ type: 'subscribe', metrics: ['cpu'] });
    await client.next();
    client.ws.close(4000, 'bye');
    await expect.poll(() => server.seen.at(-1)).toEqual({ type: 'close', connection: 1, code: 4000, reason: 'bye' });
    expect(server.seen.map((e) => e.type)).toEqual(['connect', 'message', 'subscribe', 'close']);
  });

  it('still serves a well-behaved client after random frames and random protocol messages', async () => {
    console.log(`dashboard fuzz: seed ${FUZZ_SEED} (replay with FUZZ_SEED=${FUZZ_SEED})`);
    const { server, port } = await start();
    const random = prng(FUZZ_SEED);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const words = ['type', 'subscribe', 'unsubscribe', 'metrics', 'cpu', 'memory', 'disk', null, 1, [], {}, '"', '\u0000'];
    const pickWord = () => words[Math.floor(random() * words.length)];
    for (let i = 0; i < 20; i++) {
      const fuzz = await Client.open(port);
      for (let j = 0; j < 10; j++) {
        const roll = random();
        if (roll < 0.3) fuzz.ws.send(bytes(Math.floor(random() * 64)));
        else if (roll < 0.6) fuzz.send({ type: pickWord(), metrics: [pickWord(), pickWord()] });
        else fuzz.send(JSON.stringify([pickWord(), pickWord()]).slice(0, Math.floor(random() * 20)));
      }
      server.tick();
    }
    // And bytes that are not WebSocket frames at all, on a raw upgraded connection.
    const raw = net.connect(port, '127.0.0.1');
    sockets.push(raw);
    raw.on('error', () => {});
    raw.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    raw.write(bytes(4096));
    const good = await Client.open(port);
    good.send({ type: 'subscribe', metrics: ['memory'] });
    expect(await good.next()).toMatchObject({ type: 'snapshot', values: { memory: { totalBytes: 1000 } } });
    server.tick();
    expect(await good.next()).toMatchObject({ type: 'tick', values: { memory: { usedBytes: server.current.tick } } });
  });
});

describe('CpuUsage', () => {
  const times = (...cores: Array<[user: number, idle: number]>): CpuTimes => cores.map(([user, idle]) => ({ user, nice: 0, sys: 0, idle, irq: 0 }));

  it('is the busy share of all cores between two readings, and null when it cannot tell', () => {
    const readings = [times([100, 900], [50, 950]), times([130, 970], [50, 1050]), times([130, 970], [50, 1050]), times([140, 980])];
    const cpu = new CpuUsage(() => readings.shift()!);
    expect(cpu.sample()).toBeNull(); // one reading: counters since boot say nothing about now
    expect(cpu.sample()).toBe(15); // 30 busy of 200 counted
    expect(cpu.sample()).toBeNull(); // no time counted (the guide's 0/0 reports 100 % here)
    expect(cpu.sample()).toBeNull(); // a core went away
  });
});
