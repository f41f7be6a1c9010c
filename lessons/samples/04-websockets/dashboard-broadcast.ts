// A compact metrics dashboard: a server that samples the machine once per tick and broadcasts to
// subscribers, and a subscriber that prints a few broadcasts, then leaves. Both in one program.
import os from 'node:os';
import { WebSocketServer, WebSocket } from 'ws';

const TICK_MS = 200;
const SLOW_BYTES = 64 * 1024;

// --- Measuring: CPU usage is the change in the cumulative os.cpus() counters between two ticks.
type CpuTimes = { idle: number; total: number };

function cpuTimes(): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

let previous = cpuTimes();

function sample(): Record<string, unknown> {
  const now = cpuTimes();
  const counted = now.total - previous.total;
  const idle = now.idle - previous.idle;
  previous = now;
  // No time counted yet (a very short interval): say so instead of dividing 0 by 0.
  const cpu = counted > 0 ? Math.round((1000 * (counted - idle)) / counted) / 10 : null;
  const used = os.totalmem() - os.freemem();
  return {
    cpu,
    memory: Math.round((1000 * used) / os.totalmem()) / 10,
    load: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

// --- Broadcasting: one timer, one sample per tick, each client gets what it subscribed to.
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
const subscriptions = new Map<WebSocket, Set<string>>();
let tick = 0;
let latest: Record<string, unknown> = { ...sample(), cpu: null }; // no interval measured yet

const pick = (names: Iterable<string>) => Object.fromEntries([...names].map((n) => [n, latest[n]]));

wss.on('connection', (ws) => {
  subscriptions.set(ws, new Set());
  ws.on('message', (data, isBinary) => {
    let request: { type?: string; metrics?: unknown };
    try {
      request = isBinary ? {} : JSON.parse(data.toString());
    } catch {
      request = {};
    }
    const names = Array.isArray(request.metrics) ? request.metrics.filter((m) => typeof m === 'string' && m in latest) : [];
    const mine = subscriptions.get(ws)!;
    if (request.type === 'subscribe' && names.length > 0) {
      for (const n of names) mine.add(n);
      // The late joiner's snapshot: the latest values, now, not at the next tick.
      ws.send(JSON.stringify({ type: 'snapshot', tick, values: pick(names) }));
    } else if (request.type === 'unsubscribe' && names.length > 0) {
      for (const n of names) mine.delete(n);
      ws.send(JSON.stringify({ type: 'unsubscribed', metrics: names }));
    } else {
      ws.send(JSON.stringify({ type: 'error', message: 'expected subscribe or unsubscribe with known metrics' }));
    }
  });
  ws.on('close', () => subscriptions.delete(ws));
  ws.on('error', (err) => console.error(`server: ${err.message}`));
});

const timer = setInterval(() => {
  tick++;
  latest = sample();
  for (const [ws, names] of subscriptions) {
    if (names.size === 0) continue;
    if (ws.bufferedAmount > SLOW_BYTES) continue; // not reading: skip, its next tick is up to date
    ws.send(JSON.stringify({ type: 'tick', tick, values: pick(names) }));
  }
}, TICK_MS);

// --- A subscriber: a snapshot at once, then three ticks, then it leaves.
wss.on('listening', () => {
  const { port } = wss.address() as { port: number };
  console.log(`server: broadcasting every ${TICK_MS} ms on port ${port}`);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  let ticks = 0;
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', metrics: ['cpu', 'memory'] })));
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === 'snapshot' || message.type === 'tick') {
      const { cpu, memory } = message.values;
      const what = message.type === 'snapshot' ? `snapshot (tick ${message.tick})` : `tick ${message.tick}`;
      console.log(`subscriber: ${what}: cpu ${cpu === null ? 'not measured yet' : `${cpu} %`}, memory ${memory} % used`);
    }
    if (message.type === 'tick' && ++ticks === 3) ws.close(1000, 'seen enough');
  });
  ws.on('close', (code, reason) => {
    console.log(`subscriber: closed with ${code} ${reason.toString()}`);
    clearInterval(timer);
    wss.close();
  });
});
