import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT);
const TICK_MS = 100;
const HEARTBEAT_MS = 1000;
/** Pings a client may leave unanswered; at the next beat it is dropped. */
const MAX_UNANSWERED = 2;
/** A client with more than this queued for it is skipped for a tick. */
const SLOW_BYTES = 64 * 1024;

interface Client {
  ws: WebSocket;
  metrics: Set<string>;
  /** Pings sent since its last pong (a new client has none). */
  unanswered: number;
}

/** The latest value of every metric that has one. */
const latest = new Map<string, unknown>();
const clients = new Set<Client>();
let tick = 0;

const wss = new WebSocketServer({ port });

wss.on('connection', (ws: WebSocket) => {
  const client: Client = { ws, metrics: new Set(), unanswered: 0 };
  clients.add(client);
  ws.on('pong', () => {
    client.unanswered = 0;
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => handle(client, data, isBinary));
  // 'close' comes once, however the connection ended; an 'error' is always followed by it.
  ws.on('close', () => clients.delete(client));
  ws.on('error', (err) => console.error(`client error: ${err.message}`));
});

/** Every request is answered at once, in order: a reply, or an error (the connection stays). */
function handle(client: Client, data: Buffer, isBinary: boolean): void {
  const request = parse(data, isBinary);
  if (typeof request === 'string') return send(client, { type: 'error', message: request });
  switch (request.type) {
    case 'publish':
      latest.set(request.metric, request.value);
      return send(client, { type: 'published', metric: request.metric });
    case 'subscribe':
      for (const m of request.metrics) client.metrics.add(m);
      // A late joiner gets the current values now instead of waiting for the next tick.
      return send(client, { type: 'snapshot', tick, values: valuesOf(request.metrics) });
    case 'unsubscribe':
      for (const m of request.metrics) client.metrics.delete(m);
      return send(client, { type: 'unsubscribed', metrics: request.metrics });
  }
}

type Request = { type: 'publish'; metric: string; value: unknown } | { type: 'subscribe' | 'unsubscribe'; metrics: string[] };

/** The request, or what is wrong with it. */
function parse(data: Buffer, isBinary: boolean): Request | string {
  if (isBinary) return 'send JSON as a text message, not binary';
  let message: unknown;
  try {
    message = JSON.parse(data.toString('utf8'));
  } catch {
    return 'not valid JSON';
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return 'a message is a JSON object';
  const m = message as Record<string, unknown>;
  if (m.type === 'publish') {
    if (!isName(m.metric)) return '"metric" must be a non-empty string';
    if (!('value' in m)) return 'a publish needs a "value"';
    return { type: 'publish', metric: m.metric, value: m.value };
  }
  if (m.type === 'subscribe' || m.type === 'unsubscribe') {
    if (!Array.isArray(m.metrics) || m.metrics.length === 0 || !m.metrics.every(isName)) {
      return '"metrics" must be a non-empty array of non-empty strings';
    }
    return { type: m.type, metrics: m.metrics };
  }
  return `unknown type ${JSON.stringify(m.type)}`;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** The current values of these metrics; a metric nobody published yet is left out. */
function valuesOf(metrics: Iterable<string>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const m of metrics) if (latest.has(m)) values[m] = latest.get(m);
  return values;
}

function send(client: Client, message: object): void {
  if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(message));
}

// One timer for everyone: every subscriber gets the same tick number and values at the same
// moment, and the values are read once per tick, not once per client.
const ticker = setInterval(() => {
  tick++;
  for (const client of clients) {
    if (client.metrics.size === 0) continue;
    // A client that is not reading has data piling up here. Skip it: its next tick carries the
    // latest values anyway. ws.send() never blocks, and nothing waits for its callback, so one
    // stuck client cannot hold up the others.
    if (client.ws.bufferedAmount > SLOW_BYTES) continue;
    send(client, { type: 'tick', tick, values: valuesOf(client.metrics) });
  }
}, TICK_MS);

// A peer that vanished without a close (a dead network, a sleeping laptop) answers no ping. Two
// unanswered pings in a row (not one: a pong may be late) and it is dropped, without a closing
// handshake it could not answer either.
const heartbeat = setInterval(() => {
  for (const client of clients) {
    if (client.unanswered >= MAX_UNANSWERED) {
      client.ws.terminate();
      continue;
    }
    client.unanswered++;
    client.ws.ping();
  }
}, HEARTBEAT_MS);

wss.on('listening', () => console.log(`dashboard listening on port ${port}`));
wss.on('error', (err) => {
  console.error(`server error: ${err.message}`);
  process.exitCode = 1;
});
wss.on('close', () => {
  clearInterval(ticker);
  clearInterval(heartbeat);
});
