// The course's JSON request/reply API over WebSocket (WS-API-PROTOCOL.md): each request
// {id, op, ...args} gets one reply {id, ok, result | error}. "slow" answers after a delay, so replies
// come back in another order than the requests went out, and a client must match them by id. It
// reports what it saw (connections, requests, replies, the close the client sent) so graders can
// judge a learner's client by its effect on the server, and a grader may make it deliver its replies
// in fragments with pings between them.
import { EventEmitter } from 'node:events';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { ReferenceWebSocketServer, type WsConnection, type WsServerLimits } from './ws-server-base.ts';

export type RequestId = string | number;

export type WsApiReply = { id: RequestId; ok: true; result: unknown } | { id: RequestId | null; ok: false; error: string };

export type WsApiEvent =
  | { type: 'connect'; connection: number }
  /**
   * `message` numbers the connection's messages from 1; `request` is the parsed message when it was
   * a JSON text message (whatever its shape), undefined otherwise; `binary` marks a binary message.
   */
  | { type: 'request'; connection: number; message: number; text: string; request?: unknown; binary?: true }
  /**
   * `inReplyTo` is the `message` number of the request it answers (graders pair them by it, not by
   * the ids a client chose); `delivered` is false when the connection was already closing, so the
   * reply could not be sent.
   */
  | { type: 'reply'; connection: number; inReplyTo: number; reply: WsApiReply; delivered: boolean }
  /** The close as the server saw it: the client's code and reason, 1005 for a close frame without a code, 1006 for none at all. */
  | { type: 'close'; connection: number; code: number; reason: string };

/** How replies are put on the wire; a grader may choose awkward shapes a client must cope with. */
export interface ReplyDelivery {
  /** Each reply as this many frames (a text frame, then continuations); 1 = whole. */
  fragments: number;
  /** A ping between each two fragments (control frames may come between the fragments of a message). */
  pingBetween: boolean;
  /** Each "slow" reply this much later than its "ms" asks (a busy server), so a client cannot guess when the last reply comes. */
  slowExtraMs: number;
}

export const OPS = ['add', 'upper', 'time', 'slow'] as const;
/** The longest "slow" delay, so that no request holds the server for long. */
export const MAX_SLOW_MS = 5000;
/** Requests a connection may have waiting for their delay at once. */
export const MAX_PENDING = 32;
/** Message text `seen` may hold in all; past it, recording stops (a long-lived shared server stays bounded). */
export const SEEN_BUDGET_BYTES = 1024 * 1024;

interface Client {
  conn: WsConnection;
  /** Timers of "slow" requests not answered yet. */
  pending: Set<NodeJS.Timeout>;
  /** Messages received so far: the number of the latest. */
  messages: number;
}

export class WsApiServer extends ReferenceWebSocketServer {
  /** Every WsApiEvent is emitted as 'event' and kept in `seen`. */
  readonly observer = new EventEmitter();
  readonly seen: WsApiEvent[] = [];
  /** Set once `seen` reached its budget and stopped recording. */
  seenTruncated = false;
  private seenBytes = 0;
  private readonly clients = new Map<number, Client>();
  private delivery: ReplyDelivery = { fragments: 1, pingBetween: false, slowExtraMs: 0 };

  constructor(traffic?: TrafficLog, limits: Partial<WsServerLimits> = {}) {
    super('ws-api', traffic, limits);
  }

  /** Test hook: how later replies are delivered (fragments, pings between them, slow ones held back longer). */
  deliverReplies(delivery: Partial<ReplyDelivery>): void {
    const fragments = delivery.fragments ?? this.delivery.fragments;
    if (!Number.isInteger(fragments) || fragments < 1) throw new RangeError(`fragments must be a whole number from 1, got ${fragments}`);
    const slowExtraMs = delivery.slowExtraMs ?? this.delivery.slowExtraMs;
    if (!Number.isInteger(slowExtraMs) || slowExtraMs < 0 || slowExtraMs > MAX_SLOW_MS) throw new RangeError(`slowExtraMs must be a whole number from 0 to ${MAX_SLOW_MS}, got ${slowExtraMs}`);
    this.delivery = { fragments, pingBetween: delivery.pingBetween ?? this.delivery.pingBetween, slowExtraMs };
  }

  protected onConnection(conn: WsConnection): void {
    this.clients.set(conn.id, { conn, pending: new Set(), messages: 0 });
    this.note({ type: 'connect', connection: conn.id }, 0);
    conn.ws.on('close', (code: number, reason: Buffer) => this.note({ type: 'close', connection: conn.id, code, reason: reason.toString('utf8') }, reason.length));
  }

  protected onMessage(conn: WsConnection, data: Buffer, isBinary: boolean): void {
    const client = this.clients.get(conn.id);
    if (!client) return;
    const text = data.toString('utf8');
    const message = ++client.messages;
    if (isBinary) {
      this.note({ type: 'request', connection: conn.id, message, text, binary: true }, data.length);
      return this.reply(client, message, { id: null, ok: false, error: 'requests are text messages of JSON; this was a binary message' });
    }
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (err) {
      this.note({ type: 'request', connection: conn.id, message, text }, data.length);
      return this.reply(client, message, { id: null, ok: false, error: `invalid JSON: ${(err as Error).message}` });
    }
    this.note({ type: 'request', connection: conn.id, message, text, request }, 2 * data.length);
    this.answer(client, message, request);
  }

  protected onGone(conn: WsConnection): void {
    const client = this.clients.get(conn.id);
    for (const timer of client?.pending ?? []) clearTimeout(timer);
    this.clients.delete(conn.id);
  }

  private answer(client: Client, message: number, request: unknown): void {
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return this.reply(client, message, { id: null, ok: false, error: 'a request is a JSON object: {"id": …, "op": …}' });
    }
    const fields = request as Record<string, unknown>;
    const id = fields.id;
    if (id === undefined || id === null) return this.reply(client, message, { id: null, ok: false, error: 'the request has no "id": give each request an id, a string or a number' });
    if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
      return this.reply(client, message, { id: null, ok: false, error: `"id" must be a string or a number, got ${JSON.stringify(id)}` });
    }
    const fail = (error: string) => this.reply(client, message, { id, ok: false, error });
    const succeed = (result: unknown) => this.reply(client, message, { id, ok: true, result });
    switch (fields.op) {
      case 'add': {
        const { a, b } = fields;
        if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) return fail('"add" needs two numbers, "a" and "b"');
        return succeed(a + b);
      }
      case 'upper':
        if (typeof fields.text !== 'string') return fail('"upper" needs a string "text"');
        return succeed(fields.text.toUpperCase());
      case 'time':
        return succeed(new Date().toISOString());
      case 'slow': {
        const { ms } = fields;
        if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_SLOW_MS) return fail(`"slow" needs "ms", a whole number of milliseconds from 0 to ${MAX_SLOW_MS}`);
        if (client.pending.size >= MAX_PENDING) return fail(`too many slow requests waiting (at most ${MAX_PENDING} at once)`);
        const timer = setTimeout(() => {
          client.pending.delete(timer);
          succeed(ms);
        }, ms + this.delivery.slowExtraMs);
        client.pending.add(timer);
        return;
      }
      default:
        return fail(typeof fields.op === 'string' ? `unknown op ${JSON.stringify(fields.op)} (known: ${OPS.join(', ')})` : `the request has no "op" (known: ${OPS.join(', ')})`);
    }
  }

  private reply(client: Client, inReplyTo: number, reply: WsApiReply): void {
    const { ws } = client.conn;
    const delivered = ws.readyState === ws.OPEN;
    const bytes = Buffer.from(JSON.stringify(reply));
    this.note({ type: 'reply', connection: client.conn.id, inReplyTo, reply, delivered }, bytes.length);
    if (!delivered) return;
    if (ws.bufferedAmount > this.limits.maxBufferedBytes) return ws.terminate(); // it stopped reading
    const count = Math.min(this.delivery.fragments, bytes.length);
    // All fragments go out in one go: no other reply can come between them (that would break the
    // message), while a ping may (control frames are allowed between fragments).
    for (let i = 0; i < count; i++) {
      const piece = bytes.subarray(Math.floor((i * bytes.length) / count), Math.floor(((i + 1) * bytes.length) / count));
      ws.send(piece, { binary: false, fin: i === count - 1 });
      if (this.delivery.pingBetween && i < count - 1) ws.ping(Buffer.from(`between ${i + 1}`));
    }
  }

  /** Records an event that holds about `bytes` of message text (plus its own few dozen). */
  private note(event: WsApiEvent, bytes: number): void {
    if (this.seenTruncated) return;
    this.seenBytes += bytes + 64;
    if (this.seenBytes > SEEN_BUDGET_BYTES) {
      this.seenTruncated = true;
      return;
    }
    this.seen.push(event);
    this.observer.emit('event', event);
  }
}
