// The shared WebSocket reference servers (every registry entry whose transport is 'ws') against
// hostile clients, black-box, in a server process started as in production: a bounded fuzz run per
// server of random handshakes and random frames (valid and not: bad opcodes, RSV bits, unmasked
// client frames, lengths far past the cap, fragments that never end, control frames too long or cut
// up, garbage after the handshake), random JSON and non-JSON messages, crowds past the per-IP cap and
// clients that never read — on the server's own port and through /live/<name> on the main port.
// Afterwards the process is up, its memory bounded, and a well-behaved client is still served: on
// both paths every server answers a ping and completes a closing handshake, and each speaks its own
// protocol (PROTOCOL_SMOKE: a server added to the registry without an entry there is named in a warning).
// Replay a failing run with FUZZ_SEED=<the seed it printed>.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { getJson, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { LIVE_SERVER_NAMES, livePath, type LiveServerName } from '../src/live-routes.ts';
import { FUZZ_SEED, prng } from './support/prng.ts';


const SEED = FUZZ_SEED;
/** Hostile connections per server, and the time they may take in all. */
const CONNECTIONS_PER_SERVER = 600;
const FUZZ_BUDGET_MS = 12_000;
const WORKERS = 16;

/** Resident memory of the server process, in MB. */
function rssMb(server: ServerProcess): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]);
  return kb / 1024;
}

// ---- what a well-behaved client checks after the storm ---------------------------------------

/**
 * Opens a WebSocket, rejecting with the HTTP status if the upgrade is refused. `listen` attaches
 * listeners before the handshake ends: a server's first message can come in the same read as its 101.
 */
function open(url: string, listen: (ws: WebSocket) => void = () => {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    listen(ws);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: upgrade refused with HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, within = 3000): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message within ${within} ms`)), within);
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      resolve({ data, isBinary });
    });
  });
}

/** Every server: the handshake, a ping answered, and a closing handshake that returns our code. */
async function answersPingAndClose(url: string): Promise<void> {
  const ws = await open(url);
  const pong = new Promise<string>((resolve) => ws.once('pong', (d) => resolve(d.toString())));
  ws.ping('are you there');
  expect(await pong).toBe('are you there');
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.close(4001, 'done');
  expect(await closed).toBe(4001);
}

/** A client of a JSON protocol: every message it receives, and a wait for the first that matches. */
async function jsonClient(url: string) {
  const received: any[] = [];
  const waiters = new Set<() => void>();
  const ws = await open(url, (socket) =>
    socket.on('message', (data: Buffer) => {
      received.push(JSON.parse(data.toString()));
      waiters.forEach((w) => w());
    }),
  );
  const next = (pred: (m: any) => boolean, within = 3000) =>
    new Promise<any>((resolve, reject) => {
      const check = () => {
        const at = received.findIndex(pred);
        if (at < 0) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(received.splice(at, 1)[0]);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${url}: no matching message within ${within} ms; received ${JSON.stringify(received).slice(0, 500)}`));
      }, within);
      waiters.add(check);
      check();
    });
  return { ws, next, send: (value: unknown) => ws.send(typeof value === 'string' ? value : JSON.stringify(value)) };
}

/** What each server's own protocol looks like to a well-behaved client (its *-PROTOCOL.md). */
const PROTOCOL_SMOKE: Partial<Record<LiveServerName, (url: string) => Promise<void>>> = {
  async wsApi(url) {
    const c = await jsonClient(url);
    try {
      c.send({ id: 'late', op: 'slow', ms: 150 });
      c.send({ id: 'sum', op: 'add', a: 2, b: 40 });
      expect(await c.next(() => true)).toEqual({ id: 'sum', ok: true, result: 42 }); // the quick one first
      expect(await c.next(() => true)).toEqual({ id: 'late', ok: true, result: 150 });
      c.send('not json');
      expect(await c.next(() => true)).toMatchObject({ id: null, ok: false });
      c.send({ id: 3, op: 'upper', text: 'still open' });
      expect(await c.next(() => true)).toEqual({ id: 3, ok: true, result: 'STILL OPEN' });
    } finally {
      c.ws.terminate();
    }
  },
  async collab(url) {
    const doc = `smoke-${randomBytes(4).toString('hex')}`;
    const join = `${url}${url.includes('?') ? '&' : '?'}doc=${doc}`;
    const a = await jsonClient(join);
    const b = await jsonClient(join);
    try {
      a.send({ type: 'join', name: 'ada' });
      expect(await a.next((m) => m.type === 'sync')).toMatchObject({ doc, version: 0, text: '' });
      b.send({ type: 'join', name: 'bob' });
      const sync = await b.next((m) => m.type === 'sync');
      expect(sync.users.map((u: { name: string }) => u.name)).toEqual(['ada', 'bob']);
      expect(await a.next((m) => m.type === 'joined')).toMatchObject({ user: { name: 'bob' } });
      a.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'after the storm' } });
      expect(await a.next((m) => m.type === 'ack')).toEqual({ type: 'ack', version: 1 });
      expect(await b.next((m) => m.type === 'edit')).toMatchObject({ version: 1, op: { pos: 0, delete: 0, insert: 'after the storm' } });
      b.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'stale' } });
      expect(await b.next((m) => m.type === 'error')).toMatchObject({ code: 'stale', version: 1 });
    } finally {
      a.ws.terminate();
      b.ws.terminate();
    }
  },
  async dashboard(url) {
    const c = await jsonClient(url);
    try {
      expect(await c.next((m) => m.type === 'welcome')).toMatchObject({ metrics: expect.arrayContaining(['connections']) });
      c.send({ type: 'subscribe', metrics: ['connections'] });
      const snapshot = await c.next((m) => m.type === 'snapshot');
      expect(Number.isInteger(snapshot.values.connections), JSON.stringify(snapshot)).toBe(true); // as of the latest tick, which may predate this client
      expect(Object.keys(snapshot.values)).toEqual(['connections']);
      c.send({ type: 'unsubscribe', metrics: ['connections'] });
      expect(await c.next((m) => m.type === 'unsubscribed')).toMatchObject({ metrics: ['connections'], subscribed: [] });
    } finally {
      c.ws.terminate();
    }
  },
  async wsEcho(url) {
    const ws = await open(url);
    try {
      ws.send('still there?');
      const text = await nextMessage(ws);
      expect({ text: text.data.toString(), isBinary: text.isBinary }).toEqual({ text: 'still there?', isBinary: false });
      ws.send(Buffer.from([1, 2, 3]));
      const binary = await nextMessage(ws);
      expect({ bytes: [...binary.data], isBinary: binary.isBinary }).toEqual({ bytes: [1, 2, 3], isBinary: true });
    } finally {
      ws.terminate();
    }
  },
};

// ---- hostile traffic ------------------------------------------------------------------------

/** Words the course's WebSocket protocols use for a message's type or op, so random messages sometimes look real. */
const TYPE_WORDS = ['join', 'leave', 'sync', 'edit', 'cursor', 'subscribe', 'unsubscribe', 'add', 'upper', 'time', 'slow', 'ping', 'message', '__proto__', 'constructor', ''];
const METRIC_WORDS = ['cpu', 'memory', 'load', 'uptime', 'connections', 'disk', ''];

function generators(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const text = () => {
    const alphabet = ['a', 'Z', ' ', '"', '\\', '{', '}', 'é', '漢', '😀', '\u0000', '\n', '\u2028', '<script>'];
    return Array.from({ length: int(40) }, () => pick(alphabet)).join('');
  };
  const jsonValue = (depth: number): unknown => {
    switch (int(depth > 4 ? 5 : 8)) {
      case 0: return int(2) ? null : rand() < 0.5;
      case 1: return pick([0, -1, 1e308, -0, 2 ** 53 + 1, int(1_000_000), 3.14]);
      case 2: return text();
      case 3: return 'x'.repeat(int(5000));
      case 4: return pick(TYPE_WORDS);
      case 5: return Array.from({ length: int(6) }, () => jsonValue(depth + 1));
      case 6: return { type: pick(TYPE_WORDS), id: jsonValue(depth + 1), data: jsonValue(depth + 1) };
      default: return Object.fromEntries(Array.from({ length: int(6) }, () => [pick([...TYPE_WORDS, text()]), jsonValue(depth + 1)]));
    }
  };
  /** A message's payload: JSON (a protocol-like object, or anything), broken JSON, or not JSON at all. */
  const message = (): Buffer => {
    switch (int(6)) {
      case 0: {
        // shaped like a request of one of the protocols, with fields that are sometimes right
        const request: Record<string, unknown> = { type: pick(TYPE_WORDS), id: int(3) ? int(100) : jsonValue(2), op: int(2) ? pick(TYPE_WORDS) : { pos: int(50) - 5, delete: int(5), insert: text() } };
        for (const [k, v] of [['name', text()], ['baseVersion', int(5) - 1], ['pos', int(20)], ['a', jsonValue(3)], ['b', int(100)], ['ms', int(300)], ['text', text()], ['metrics', Array.from({ length: int(4) }, () => pick(METRIC_WORDS))]] as const) {
          if (int(2)) request[k] = v;
        }
        return Buffer.from(JSON.stringify(request));
      }
      case 1: return Buffer.from(JSON.stringify(jsonValue(0)) ?? 'undefined');
      case 2: return Buffer.from(JSON.stringify(jsonValue(0)).slice(0, 1 + int(20))); // cut short
      case 3: return Buffer.from('['.repeat(1 + int(5000))); // deep nesting
      case 4: return Buffer.from(text());
      default: return bytes(int(300));
    }
  };
  return { int, pick, bytes, message, text };
}
type Gen = ReturnType<typeof generators>;

/**
 * One frame as raw bytes, every field under the caller's control so it can lie: `length` is what
 * the header declares (it may differ from the payload that follows).
 */
function frame(f: { fin: boolean; rsv: number; opcode: number; mask: boolean; payload: Buffer; length?: number | bigint }): Buffer {
  const length = BigInt(f.length ?? f.payload.length);
  const head: number[] = [(f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f)];
  const maskBit = f.mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126n) head.push(maskBit | Number(length));
  else if (length < 65536n) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(length));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(length);
  }
  let payload = f.payload;
  let key = Buffer.alloc(0);
  if (f.mask) {
    key = randomBytes(4);
    payload = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  }
  return Buffer.concat([Buffer.from(head), ext, key, payload]);
}

const masked = (opcode: number, payload: Buffer, fin = true) => frame({ fin, rsv: 0, opcode, mask: true, payload });
const closePayload = (code: number, reason: string) => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

/** What a hostile client sends after (or instead of) a good handshake. */
function hostileFrames(g: Gen): Buffer {
  switch (g.int(18)) {
    case 0: return masked(1, g.message()); // a valid text message
    case 1: return masked(2, g.message()); // a valid binary message
    case 2: return Buffer.concat(Array.from({ length: 1 + g.int(80) }, () => masked(1, g.message()))); // many at once: the message rate
    case 3: return frame({ fin: true, rsv: 0, opcode: 1, mask: false, payload: g.message() }); // unmasked client frame
    case 4: return frame({ fin: true, rsv: 1 + g.int(7), opcode: 1, mask: true, payload: g.message() }); // RSV bits without an extension
    case 5: return masked(g.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), g.message()); // reserved opcodes
    case 6: return masked(1, Buffer.from([0xc3, 0x28, 0xff, 0xfe])); // text that is not UTF-8
    case 7: return frame({ fin: true, rsv: 0, opcode: 2, mask: true, payload: g.bytes(g.int(64)), length: g.pick([2n ** 63n - 1n, 2n ** 64n - 1n, 1n << 40n, 70_000n, 65_537n]) }); // oversize length, then little
    case 8: return masked(2, g.bytes(65 * 1024 + g.int(20_000))); // really over the cap (1009)
    case 9: return Buffer.concat([masked(1, g.message(), false), ...Array.from({ length: 1 + g.int(50) }, () => masked(0, g.message(), false))]); // fragments that never end
    case 10: return masked(0, g.message()); // a continuation with nothing to continue
    case 11: return Buffer.concat([masked(1, g.message(), false), masked(2, g.message())]); // a new message inside a fragmented one
    case 12: return masked(g.pick([8, 9, 10]), g.bytes(126 + g.int(200))); // control frame over 125 bytes
    case 13: return masked(9, g.bytes(g.int(20)), false); // fragmented control frame
    case 14: return masked(8, g.pick([closePayload(g.pick([0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535]), g.text()), Buffer.from([3]), closePayload(1000, '\xff')])); // bad close frames
    case 15: return Buffer.concat([masked(1, g.message(), false), masked(9, Buffer.from('p')), masked(0, g.message())]); // a ping between fragments (valid)
    case 16: return g.bytes(1 + g.int(4096)); // garbage
    default: return Buffer.concat([masked(1, g.message()), masked(10, Buffer.from('unasked pong')), masked(8, closePayload(1000, 'bye'))]);
  }
}

function handshake(g: Gen, path: string): Buffer {
  const key = randomBytes(16).toString('base64');
  switch (g.int(10)) {
    case 0: return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: ${key}\r\n\r\n`); // wrong version
    case 1: return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`); // no key
    case 2: return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Junk: ${'y'.repeat(20_000 + g.int(60_000))}\r\n`); // huge header, never finished
    case 3: return g.bytes(1 + g.int(2000)); // not HTTP
    case 4: return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`); // not an upgrade
    default: return Buffer.from(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n` +
        (g.int(3) === 0 ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '') +
        '\r\n',
    );
  }
}

/** How the upgrades of a fuzz run were answered (by the status line's code), so the run proves it reached WebSockets and the caps. */
type Answers = Map<string, number>;
const count = (answers: Answers, status: string) => answers.set(status, (answers.get(status) ?? 0) + 1);

/** One hostile connection: a handshake, frames in random pieces (or with no wait for the 101), and a random end. */
async function hostileConnection(port: number, path: string, g: Gen, answers: Answers): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let head = '';
  socket.on('data', (d: Buffer) => {
    if (head.length >= 12) return;
    head += d.toString('latin1');
    if (head.length >= 12) count(answers, /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 'not HTTP');
  });
  if (g.int(4) === 0) socket.pause(); // never reads what comes back
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await Promise.race([new Promise<void>((resolve) => socket.once('connect', resolve)), gone]);
  if (socket.destroyed) return;
  socket.write(handshake(g, path));
  if (g.int(3)) await Promise.race([sleep(g.int(20)), gone]); // the 101 is usually there by then; sometimes frames come first
  const data = Buffer.concat(Array.from({ length: 1 + g.int(3) }, () => hostileFrames(g)));
  const pieces = 1 + g.int(4);
  for (let i = 0, at = 0; i < pieces && !socket.destroyed; i++) {
    const next = i === pieces - 1 ? data.length : at + g.int(data.length - at + 1);
    socket.write(data.subarray(at, next));
    at = next;
    if (g.int(2)) await sleep(g.int(5));
  }
  switch (g.int(5)) {
    case 0: socket.resetAndDestroy(); break;
    case 1: socket.destroy(); break;
    case 2: socket.end(); break;
    case 3: await Promise.race([gone, sleep(g.int(50))]); socket.destroy(); break;
    default: await Promise.race([gone, sleep(g.int(30))]); socket.resetAndDestroy();
  }
}

/** A proper ws client that sends random messages fast, half the time without ever reading the replies. */
async function floodingClient(url: string, g: Gen, answers: Answers): Promise<void> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('error', () => {});
  ws.once('upgrade', () => count(answers, '101'));
  ws.once('unexpected-response', (_req, res) => {
    count(answers, String(res.statusCode));
    res.resume();
    ws.terminate(); // with this listener ws leaves a refused handshake to us
  });
  const gone = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  const opened = await Promise.race([new Promise<boolean>((resolve) => ws.once('open', () => resolve(true))), gone.then(() => false)]);
  if (!opened) return;
  if (g.int(2)) (ws as unknown as { _socket: net.Socket })._socket.pause(); // stops reading: the server must not queue for it forever
  for (let i = 0, n = 20 + g.int(100); i < n && ws.readyState === WebSocket.OPEN; i++) {
    ws.send(g.int(4) === 0 ? g.bytes(40_000 + g.int(20_000)) : g.message(), { binary: g.int(2) === 0 });
    if (i % 10 === 9) await sleep(1);
  }
  await Promise.race([gone, sleep(50 + g.int(200))]);
  ws.terminate();
}

/** More connections at once than the per-IP cap allows; all opened together, then dropped. */
async function crowd(url: string, size: number, answers: Answers): Promise<void> {
  const sockets = Array.from({ length: size }, () => {
    const ws = new WebSocket(url);
    ws.on('error', () => {});
    return ws;
  });
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    ws.once('open', () => {
      count(answers, '101');
      resolve();
    });
    ws.once('close', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      count(answers, String(res.statusCode));
      res.resume();
      ws.terminate(); // with this listener ws leaves a refused handshake to us
      resolve();
    });
  })));
  sockets.forEach((ws) => ws.terminate());
}

// ---- the run --------------------------------------------------------------------------------

describe('shared WebSocket servers under fuzz', () => {
  let server: ServerProcess;
  let ports: Record<string, number>;
  beforeAll(async () => {
    server = await startServerProcess({ LOG_REQUESTS: '0' });
    ports = (await getJson(`${server.url}/api/health`)).json.referenceServers;
  });
  afterAll(async () => {
    await server?.stop();
  });

  const missingSmoke = LIVE_SERVER_NAMES.filter((name) => !PROTOCOL_SMOKE[name]);
  if (missingSmoke.length) console.warn(`hostile-ws-clients: no protocol smoke check yet for ${missingSmoke.join(', ')} (only ping and close are checked for them)`);

  it.each(LIVE_SERVER_NAMES)(`%s: ${CONNECTIONS_PER_SERVER} hostile connections, then the process is up, its memory bounded, and a well-behaved client is served`, async (name) => {
    const g = generators(prng(SEED + LIVE_SERVER_NAMES.indexOf(name)));
    const mainPort = Number(new URL(server.url).port);
    const direct = `ws://127.0.0.1:${ports[name]}/`;
    const routed = `${server.url.replace(/^http/, 'ws')}${livePath(name)}`;
    const rssBefore = rssMb(server);
    const started = performance.now();
    let done = 0;
    const answers: Answers = new Map();
    const worker = async () => {
      while (done < CONNECTIONS_PER_SERVER && performance.now() - started < FUZZ_BUDGET_MS) {
        const n = done++;
        const viaRoute = n % 2 === 1; // half through /live/<name> on the main port, half on the server's own
        const kind = g.int(20);
        if (kind === 0) await crowd(viaRoute ? routed : direct, 30, answers);
        else if (kind < 4) await floodingClient(viaRoute ? routed : direct, g, answers);
        else await hostileConnection(viaRoute ? mainPort : ports[name], viaRoute ? livePath(name) : '/', g, answers);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    const seconds = (performance.now() - started) / 1000;
    await sleep(300); // let the last closes finish
    const rssAfter = rssMb(server);
    const answered = [...answers].sort().map(([status, n]) => `${status}×${n}`).join(', ');
    console.log(`${name} fuzz (seed ${SEED}): ${done} connections in ${seconds.toFixed(1)} s (answers: ${answered}); server RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`);
    // the run reached real WebSockets (where the frames are the attack), and crowds met the per-IP cap
    expect(answers.get('101') ?? 0, `seed ${SEED}: ${answered}`).toBeGreaterThan(done / 4);
    expect(answers.get('429') ?? 0, `seed ${SEED}: ${answered}`).toBeGreaterThan(0);
    expect(done, `seed ${SEED}`).toBeGreaterThanOrEqual(Math.min(CONNECTIONS_PER_SERVER, 100)); // the budget may cut the run short on a busy machine, not to nothing
    expect(server.child.exitCode, `seed ${SEED}: the server exited\n${server.log().slice(-2000)}`).toBeNull();
    expect(rssAfter - rssBefore, `seed ${SEED}: server memory grew from ${rssBefore.toFixed(0)} to ${rssAfter.toFixed(0)} MB`).toBeLessThan(200);
    expect((await getJson(`${server.url}/api/health`)).json.status).toBe('ok');
    for (const url of [direct, routed]) {
      await answersPingAndClose(url);
      await PROTOCOL_SMOKE[name]?.(url);
    }
    expect(server.log()).not.toMatch(/uncaught|unhandled|TypeError|RangeError/i);
  }, 40_000);
});
