// The grader's side of the dashboard protocol (instructions.md): publish, subscribe, unsubscribe and
// reading ticks, each failing with what was sent, what was expected and what came back.
import { GradingFailure, learnerServer, oncePerGrade, type TestWebSocket, type TestWebSocketOptions } from '../../sandbox-server/src/grading-kit/index.ts';

/** How long a reply that a correct server sends at once may take. */
export const REPLY_MS = 1000;
/** How long the next tick may take: ten intervals (a correct server needs one). */
export const TICK_WITHIN_MS = 1000;

export interface Message {
  type?: unknown;
  tick?: unknown;
  values?: unknown;
  metric?: unknown;
  metrics?: unknown;
  message?: unknown;
}

export interface Tick {
  tick: number;
  values: Record<string, unknown>;
}

/** The clients this test opened, dropped when it ends. */
export const opened = (): TestWebSocket[] => oncePerGrade('dashboard-clients', (): TestWebSocket[] => []);

export async function connect(label: string, options: Partial<TestWebSocketOptions> = {}): Promise<TestWebSocket> {
  const client = await (await learnerServer()).connectWebSocket({ ...options, label });
  opened().push(client);
  return client;
}

export const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
};

/** The next message as a JSON object; fails on anything else. */
export async function nextObject(client: TestWebSocket, within: number, what: string): Promise<Message> {
  const message = await client.nextJson<unknown>({ within, what });
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new GradingFailure(`${client.label} expected ${what}, a JSON object with a "type", but got ${show(message)}`);
  }
  return message as Message;
}

/** Whether `m` is a well-formed tick; fails on a tick that is not. */
function asTick(client: TestWebSocket, m: Message): Tick | undefined {
  if (m.type !== 'tick') return undefined;
  if (!Number.isInteger(m.tick) || typeof m.values !== 'object' || m.values === null || Array.isArray(m.values)) {
    throw new GradingFailure(`${client.label} got a tick that is not {"type":"tick","tick":<integer>,"values":{…}}: ${show(m)}`);
  }
  return { tick: m.tick as number, values: m.values as Record<string, unknown> };
}

/** The next message that is not a tick: the answer to a request (ticks may come before it). */
export async function reply(client: TestWebSocket, what: string, within = REPLY_MS): Promise<Message> {
  const deadline = Date.now() + within;
  let ticks = 0;
  for (;;) {
    const m = await nextObject(client, Math.max(0, deadline - Date.now()), what).catch((err: unknown) => {
      // The kit's message would name only the time left after the last tick, often 0 s.
      if (ticks === 0) throw err;
      throw new GradingFailure(`${client.label} expected ${what}, but in ${within / 1000} s only ${ticks} tick(s) came`);
    });
    if (!asTick(client, m)) return m;
    ticks++;
  }
}

/** The next tick (skipping any other message). */
export async function nextTick(client: TestWebSocket, what: string, within = TICK_WITHIN_MS): Promise<Tick> {
  const deadline = Date.now() + within;
  for (;;) {
    const m = await nextObject(client, Math.max(0, deadline - Date.now()), what);
    const tick = asTick(client, m);
    if (tick) return tick;
  }
}

/** Every tick in what the client received so far (read or not). */
export function ticksReceived(client: TestWebSocket): Tick[] {
  return client.received.flatMap((m) => {
    if (m.isBinary) return [];
    try {
      const parsed = JSON.parse(m.text) as Message;
      return parsed?.type === 'tick' && Number.isInteger(parsed.tick) ? [{ tick: parsed.tick as number, values: parsed.values as Record<string, unknown> }] : [];
    } catch {
      return [];
    }
  });
}

export async function publish(client: TestWebSocket, metric: string, value: unknown, within = REPLY_MS): Promise<void> {
  const request = { type: 'publish', metric, value };
  await client.sendJson(request);
  const sent = typeof value === 'string' && value.length > 100 ? `{"type":"publish","metric":${show(metric)},"value":<a string of ${value.length} characters>}` : show(request);
  const m = await reply(client, `{"type":"published","metric":${show(metric)}} after sending ${sent}`, within);
  if (m.type !== 'published' || m.metric !== metric) {
    throw new GradingFailure(`${client.label} sent ${sent} and expected {"type":"published","metric":${show(metric)}}, but got ${show(m)}`);
  }
}

/**
 * Subscribes and returns the snapshot (ticks for earlier subscriptions may come before it). With
 * `behind`, that message is sent right after the subscribe: a snapshot sent at once comes before
 * its answer, whatever the timer does, so the order shows a snapshot held back.
 */
export async function subscribe(client: TestWebSocket, metrics: string[], behind?: object): Promise<Message> {
  const request = { type: 'subscribe', metrics };
  await client.sendJson(request);
  if (behind) await client.sendJson(behind);
  const sent = behind ? `${show(request)} and right behind it ${show(behind)}` : show(request);
  const m = await reply(client, `{"type":"snapshot",…} right after sending ${sent}`);
  if (m.type !== 'snapshot') {
    throw new GradingFailure(
      `${client.label} sent ${sent} and expected {"type":"snapshot",…} first, but got ${show(m)}` +
        (behind ? ': answer each message at once, in the order they arrive; a snapshot held back for a timer comes after the answer to the next message' : ''),
    );
  }
  return m;
}

export async function unsubscribe(client: TestWebSocket, metrics: string[]): Promise<void> {
  const request = { type: 'unsubscribe', metrics };
  await client.sendJson(request);
  const m = await reply(client, `{"type":"unsubscribed",…} after sending ${show(request)}`);
  if (m.type !== 'unsubscribed' || show(m.metrics) !== show(metrics)) {
    throw new GradingFailure(`${client.label} sent ${show(request)} and expected {"type":"unsubscribed","metrics":${show(metrics)}} (the list as sent, a metric it was not subscribed to included), but got ${show(m)}`);
  }
}

/** Fails unless `ticks` are consecutive numbers (n, n+1, n+2…). */
export function expectConsecutive(client: TestWebSocket, ticks: Tick[], why: string): void {
  for (let i = 1; i < ticks.length; i++) {
    if (ticks[i].tick !== ticks[i - 1].tick + 1) {
      throw new GradingFailure(`${client.label} got ticks numbered ${ticks.map((t) => t.tick).join(', ')}: ${why}`);
    }
  }
}

/**
 * Resolves right after the server's next heartbeat (a fresh client's first ping): clients opened
 * now have three heartbeat intervals before unanswered pings could get them dropped. Without a
 * heartbeat (the heartbeat test says so), after `within`.
 */
export async function justAfterHeartbeat(within: number): Promise<void> {
  const metronome = await connect('a client waiting for a ping');
  // Subscribed, so that a heartbeat which (wrongly) pings subscribers only is found too: without its
  // ping, the wait would end at `within`, at any point of the heartbeat's interval.
  await metronome.sendJson({ type: 'subscribe', metrics: ['heartbeat-metronome'] });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, within);
    metronome.ws.once('ping', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  metronome.terminate();
}
