// The dashboard reference server (DASHBOARD-PROTOCOL.md): one timer samples the metrics and
// broadcasts each client the metrics it subscribed to; a subscriber gets a snapshot of the latest
// values at once; a client that stops reading is skipped (its next tick carries the latest values)
// and, if it stays stuck, dropped, so it never holds up the others. It reports what it saw in `seen`
// so graders can judge a learner's dashboard client by its effect on the server.
import { EventEmitter } from 'node:events';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { ReferenceWebSocketServer, type WsConnection, type WsServerLimits } from './ws-server-base.ts';
import { SystemMetrics, type MetricSource, type SystemSample } from './system-metrics.ts';

export const METRICS = ['cpu', 'memory', 'load', 'uptime', 'connections'] as const;
export type MetricName = (typeof METRICS)[number];
export type MetricValues = { [M in MetricName]: M extends keyof SystemSample ? SystemSample[M] : number };

export interface DashboardOptions {
  /** Time between broadcasts; 0 = no timer (ticks only through tick(), for tests). */
  intervalMs: number;
  /** A client with more than this queued for it (ws bufferedAmount) is skipped for a tick. */
  slowBytes: number;
  /** Consecutive skipped ticks after which a client is disconnected. */
  maxSkippedTicks: number;
  /** A connection subscribed to nothing for this long is closed with 1001 (0 = never). */
  unsubscribedTimeoutMs: number;
  /** Where the values come from (the machine's own, unless a test gives another). */
  source: MetricSource;
}

/** A run's own server: ticks often enough for a program to see several within a Run. */
export const RUN_DASHBOARD_OPTIONS: Omit<DashboardOptions, 'source'> = {
  intervalMs: 250,
  slowBytes: 64 * 1024,
  maxSkippedTicks: 40,
  unsubscribedTimeoutMs: 0,
};

/** The shared server for live pages: one tick a second, a stuck client dropped after 30 s. */
export const SHARED_DASHBOARD_OPTIONS: Omit<DashboardOptions, 'source' | 'unsubscribedTimeoutMs'> = {
  intervalMs: 1000,
  slowBytes: 64 * 1024,
  maxSkippedTicks: 30,
};

/** Requests are tiny; anything bigger is not a dashboard talking. */
const MAX_REQUEST_BYTES = 4096;

export type DashboardEvent =
  | { type: 'connect'; connection: number; path: string }
  | { type: 'message'; connection: number; text: string; isBinary: boolean }
  | { type: 'subscribe'; connection: number; metrics: MetricName[] }
  | { type: 'unsubscribe'; connection: number; metrics: MetricName[] }
  | { type: 'error'; connection: number; message: string }
  | { type: 'skip'; connection: number; tick: number; bufferedAmount: number }
  | { type: 'drop'; connection: number; tick: number }
  | { type: 'close'; connection: number; code: number; reason: string };

interface Subscriber {
  conn: WsConnection;
  metrics: Set<MetricName>;
  /** Ticks skipped in a row because the client was not reading. */
  skipped: number;
  unsubscribedTimer?: NodeJS.Timeout;
}

interface Latest {
  tick: number;
  time: number;
  values: MetricValues;
}

export class DashboardServer extends ReferenceWebSocketServer {
  /** Every DashboardEvent is emitted as 'event' and, when observing, kept in `seen`. */
  readonly observer = new EventEmitter();
  readonly seen: DashboardEvent[] = [];
  readonly options: DashboardOptions;
  private readonly subscribers = new Map<number, Subscriber>();
  private readonly timer?: NodeJS.Timeout;
  private latest: Latest;

  /**
   * @param observe keep every event in `seen` (a run's server, watched by one grade; the shared
   *   server, which lives for days, only emits them).
   */
  constructor(traffic?: TrafficLog, limits: Partial<WsServerLimits> = {}, options: Partial<DashboardOptions> = {}, private readonly observe = true) {
    // A dashboard only listens once subscribed, so "sent nothing for a while" says nothing about it:
    // the base's idle timeout is replaced by the unsubscribed timeout, and the heartbeat finds the dead.
    super('dashboard', traffic, { maxMessageBytes: MAX_REQUEST_BYTES, ...limits, idleTimeoutMs: 0 });
    this.options = { ...RUN_DASHBOARD_OPTIONS, source: new SystemMetrics(), ...options };
    this.latest = { tick: 0, time: Date.now(), values: this.sample(0) };
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => this.tick(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  /** The latest sample: what a snapshot would send now. */
  get current(): Readonly<Latest> {
    return this.latest;
  }

  /** Samples the metrics and broadcasts them: what the timer does every interval (tests call it directly). */
  tick(): void {
    const tick = this.latest.tick + 1;
    this.latest = { tick, time: Date.now(), values: this.sample(tick) };
    // Clients with the same subscriptions get the same bytes: encode each combination once per tick.
    const encoded = new Map<string, string>();
    for (const sub of this.subscribers.values()) {
      if (sub.metrics.size === 0) continue;
      const { ws } = sub.conn;
      if (ws.bufferedAmount > this.options.slowBytes) {
        sub.skipped++;
        this.note({ type: 'skip', connection: sub.conn.id, tick, bufferedAmount: ws.bufferedAmount });
        if (sub.skipped >= this.options.maxSkippedTicks) {
          this.note({ type: 'drop', connection: sub.conn.id, tick });
          // Not close(): its close frame would wait behind everything the client is not reading.
          ws.terminate();
        }
        continue;
      }
      sub.skipped = 0;
      const names = METRICS.filter((m) => sub.metrics.has(m));
      const key = names.join(',');
      let message = encoded.get(key);
      if (message === undefined) {
        message = JSON.stringify({ type: 'tick', tick, time: this.latest.time, values: pick(this.latest.values, names) });
        encoded.set(key, message);
      }
      sub.conn.send(message);
    }
  }

  override async close(): Promise<void> {
    clearInterval(this.timer);
    for (const sub of this.subscribers.values()) clearTimeout(sub.unsubscribedTimer);
    await super.close();
  }

  protected onConnection(conn: WsConnection, req: { url?: string }): void {
    const sub: Subscriber = { conn, metrics: new Set(), skipped: 0 };
    this.subscribers.set(conn.id, sub);
    this.note({ type: 'connect', connection: conn.id, path: req.url ?? '/' });
    conn.ws.once('close', (code: number, reason: Buffer) => this.note({ type: 'close', connection: conn.id, code, reason: reason.toString('utf8') }));
    this.waitForSubscription(sub);
    conn.send({ type: 'welcome', metrics: METRICS, intervalMs: this.options.intervalMs, tick: this.latest.tick });
  }

  protected onMessage(conn: WsConnection, data: Buffer, isBinary: boolean): void {
    const sub = this.subscribers.get(conn.id);
    if (!sub) return;
    const text = data.toString('utf8');
    this.note({ type: 'message', connection: conn.id, text: isBinary ? data.toString('hex') : text, isBinary });
    const request = parseRequest(text, isBinary);
    if ('error' in request) {
      this.note({ type: 'error', connection: conn.id, message: request.error });
      conn.send({ type: 'error', message: request.error });
      return;
    }
    if (request.type === 'subscribe') {
      for (const m of request.metrics) sub.metrics.add(m);
      clearTimeout(sub.unsubscribedTimer);
      this.note({ type: 'subscribe', connection: conn.id, metrics: request.metrics });
      // At once, not at the next tick: a late joiner sees numbers without waiting an interval.
      conn.send({ type: 'snapshot', tick: this.latest.tick, time: this.latest.time, values: pick(this.latest.values, request.metrics) });
    } else {
      for (const m of request.metrics) sub.metrics.delete(m);
      this.note({ type: 'unsubscribe', connection: conn.id, metrics: request.metrics });
      conn.send({ type: 'unsubscribed', metrics: request.metrics, subscribed: METRICS.filter((m) => sub.metrics.has(m)) });
      if (sub.metrics.size === 0) this.waitForSubscription(sub);
    }
  }

  protected onGone(conn: WsConnection): void {
    const sub = this.subscribers.get(conn.id);
    if (!sub) return;
    clearTimeout(sub.unsubscribedTimer);
    this.subscribers.delete(conn.id);
  }

  private waitForSubscription(sub: Subscriber): void {
    const ms = this.options.unsubscribedTimeoutMs;
    if (ms <= 0) return;
    clearTimeout(sub.unsubscribedTimer);
    sub.unsubscribedTimer = setTimeout(() => sub.conn.close(1001, 'subscribed to nothing for too long'), ms);
    sub.unsubscribedTimer.unref();
  }

  private sample(tick: number): MetricValues {
    return { ...this.options.source.sample(tick), connections: this.connectionCount };
  }

  private note(event: DashboardEvent): void {
    if (this.observe) this.seen.push(event);
    this.observer.emit('event', event);
  }
}

type Request = { type: 'subscribe' | 'unsubscribe'; metrics: MetricName[] } | { error: string };

/** A client's message as a request, or the error to answer it with (in words for whoever wrote the client). */
export function parseRequest(text: string, isBinary: boolean): Request {
  if (isBinary) return { error: 'send requests as JSON text messages, not binary' };
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    return { error: 'not valid JSON' };
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return { error: 'a request is a JSON object with a "type"' };
  const { type, metrics } = request as { type?: unknown; metrics?: unknown };
  if (type !== 'subscribe' && type !== 'unsubscribe') return { error: `unknown type ${JSON.stringify(type) ?? 'undefined'}: use "subscribe" or "unsubscribe"` };
  if (!Array.isArray(metrics) || metrics.length === 0) return { error: `"metrics" must be a non-empty array of metric names (${METRICS.join(', ')})` };
  const unknown = metrics.find((m) => !(METRICS as readonly unknown[]).includes(m));
  if (unknown !== undefined) return { error: `unknown metric ${JSON.stringify(unknown)}: the metrics are ${METRICS.join(', ')}` };
  return { type, metrics: [...new Set(metrics as MetricName[])] };
}

function pick(values: MetricValues, names: readonly MetricName[]): Partial<MetricValues> {
  return Object.fromEntries(names.map((m) => [m, values[m]]));
}
