/**
 * The page's one WebSocket to the course server's editor socket (`/api/ws`, same origin), shared by
 * every Playground and Exercise on the page. Opened on the first Run/Check, reconnected with backoff
 * when it drops. The protocol's messages are the server's own shapes
 * (sandbox-server/src/shapes/editor-protocol.ts); only their types are imported, so zod stays out
 * of the page.
 */
import type { ClientMessage, ServerMessage, ServerMessageType } from '../../../sandbox-server/src/shapes/editor-protocol.ts';

export type { ServerMessage };

export interface RequestHandlers {
  onMessage(msg: ServerMessage): void;
  /** connection state for the UI: "connecting", "busy, retrying in 4 s", … ; null clears it */
  onStatus(text: string | null): void;
  /** the request ended without a final message (connection lost, gave up retrying) */
  onFailure(message: string): void;
}

export interface RequestHandle {
  stop(): void;
}

/** A run or check as the page asks for it; the connection gives it its request id. */
export type JobRequest = Omit<Extract<ClientMessage, { type: 'run' }>, 'id'> | Omit<Extract<ClientMessage, { type: 'check' }>, 'id'>;

interface Pending {
  id: string;
  body: JobRequest;
  handlers: RequestHandlers;
  sent: boolean;
  busyTries: number;
  /** set while waiting to resend after a "busy" answer */
  retryCancel?: () => void;
  done: boolean;
}

/** The messages that end a request (an error ends it too, unless it is retried). */
const FINAL = new Set<ServerMessageType>(['exit', 'verdict']);
/** Error codes that mean "try again later" (see sandbox-server/README.md). */
const RETRY_CODES = new Set(['busy', 'too_many_jobs', 'rate_limited']);
const MAX_BUSY_TRIES = 6;
const MAX_CONNECT_TRIES = 6;

let seq = 0;

function wsUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const base = (import.meta.env.BASE_URL ?? '/').replace(/\/$/, '');
  return `${proto}//${location.host}${base}/api/ws`;
}

/** Calls `tick(secondsLeft)` every second, then `done()`. Returns a cancel function. */
function countdown(seconds: number, tick: (s: number) => void, done: () => void): () => void {
  let left = Math.max(1, Math.round(seconds));
  tick(left);
  const iv = setInterval(() => {
    left -= 1;
    if (left > 0) tick(left);
  }, 1000);
  const to = setTimeout(() => {
    clearInterval(iv);
    done();
  }, left * 1000);
  return () => {
    clearInterval(iv);
    clearTimeout(to);
  };
}

class ServerConnection {
  private ws: WebSocket | null = null;
  private open = false;
  private pending = new Map<string, Pending>();
  private connectTries = 0;
  private reconnectCancel: (() => void) | null = null;
  private everOpened = false;

  request(body: JobRequest, handlers: RequestHandlers): RequestHandle {
    const id = `${body.type === 'run' ? 'r' : 'c'}${++seq}-${Date.now().toString(36)}`;
    const p: Pending = { id, body, handlers, sent: false, busyTries: 0, done: false };
    this.pending.set(id, p);
    this.flush();
    return { stop: () => this.stop(p) };
  }

  private stop(p: Pending) {
    if (p.done) return;
    if (p.sent && this.open) this.ws?.send(JSON.stringify({ type: 'stop', id: p.id }));
    if (!p.sent) {
      this.finish(p);
      p.handlers.onStatus(null);
      p.handlers.onFailure('Stopped before it started.');
    }
    // when sent, the server answers the stop with the final exit/verdict message
  }

  private finish(p: Pending) {
    p.done = true;
    p.retryCancel?.();
    p.retryCancel = undefined;
    this.pending.delete(p.id);
  }

  private flush() {
    if (!this.open) {
      this.connect();
      return;
    }
    for (const p of this.pending.values()) {
      if (p.sent || p.retryCancel) continue;
      p.sent = true;
      p.handlers.onStatus(null);
      this.ws!.send(JSON.stringify({ ...p.body, id: p.id }));
    }
  }

  private connect() {
    if (this.ws || this.reconnectCancel) return;
    for (const p of this.pending.values()) if (!p.sent) p.handlers.onStatus('Connecting to the sandbox…');
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl());
    } catch (err) {
      this.scheduleReconnect(`Cannot open the connection: ${(err as Error).message}`);
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.open = true;
      this.everOpened = true;
      this.connectTries = 0;
      this.flush();
    });
    ws.addEventListener('message', (ev) => this.onMessage(ev.data));
    ws.addEventListener('close', () => {
      const wasOpen = this.open;
      this.open = false;
      this.ws = null;
      // requests already sent are lost with the connection: tell their owners
      for (const p of [...this.pending.values()]) {
        if (p.sent) {
          this.finish(p);
          p.handlers.onStatus(null);
          p.handlers.onFailure('The connection to the sandbox was lost before the result arrived. Press the button again to retry.');
        }
      }
      this.scheduleReconnect(wasOpen ? 'Connection to the sandbox lost' : 'Cannot reach the sandbox');
    });
  }

  private scheduleReconnect(reason: string) {
    const waiting = [...this.pending.values()].filter((p) => !p.sent);
    // Reconnect while someone waits, or to restore a connection that had worked (for the next run).
    if (!waiting.length && !this.everOpened) return;
    this.connectTries += 1;
    if (waiting.length && this.connectTries > MAX_CONNECT_TRIES) {
      for (const p of waiting) {
        this.finish(p);
        p.handlers.onStatus(null);
        p.handlers.onFailure(`${reason}. Gave up after ${MAX_CONNECT_TRIES} attempts; is the course server running?`);
      }
      this.connectTries = 0;
      return;
    }
    if (!waiting.length && this.connectTries > MAX_CONNECT_TRIES) {
      // nobody is waiting: stop trying; the next Run/Check connects again
      this.connectTries = 0;
      return;
    }
    const delay = Math.min(30, 2 ** (this.connectTries - 1));
    this.reconnectCancel = countdown(
      delay,
      (s) => {
        for (const p of this.pending.values()) if (!p.sent) p.handlers.onStatus(`${reason}; retrying in ${s} s…`);
      },
      () => {
        this.reconnectCancel = null;
        this.connect();
      },
    );
  }

  private onMessage(raw: unknown) {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(String(raw));
    } catch {
      return;
    }
    const p = msg.id ? this.pending.get(msg.id) : undefined;
    if (!p) {
      if (msg.type === 'error') console.warn('[sandbox]', msg.message);
      return;
    }
    if (msg.type === 'error') {
      const busy = RETRY_CODES.has(msg.code ?? '');
      if (busy && p.busyTries < MAX_BUSY_TRIES) {
        p.busyTries += 1;
        p.sent = false;
        const hinted = Number(msg.retryAfter ?? NaN);
        const delay = Number.isFinite(hinted) && hinted > 0 ? hinted : Math.min(30, 2 ** p.busyTries);
        p.retryCancel = countdown(
          delay,
          (sec) => p.handlers.onStatus(`Sandbox busy, retrying in ${sec} s…`),
          () => {
            p.retryCancel = undefined;
            if (!p.done) this.flush();
          },
        );
        return;
      }
      this.finish(p);
      p.handlers.onStatus(null);
      p.handlers.onMessage(msg);
      return;
    }
    p.handlers.onMessage(msg);
    if (FINAL.has(msg.type)) this.finish(p);
  }
}

let conn: ServerConnection | null = null;
/** The page's connection to the server (made on first use). */
export function serverConnection(): ServerConnection {
  conn ??= new ServerConnection();
  return conn;
}

/** fetch() JSON from the API with retries on HTTP 429 / 503 ("busy, retrying in N s"). */
export async function fetchJson<T>(path: string, onStatus: (s: string | null) => void, tries = 4): Promise<T> {
  const base = (import.meta.env.BASE_URL ?? '/').replace(/\/$/, '');
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${base}${path}`, { headers: { accept: 'application/json' } });
    if ((res.status === 429 || res.status === 503) && attempt < tries) {
      const ra = Number(res.headers.get('retry-after'));
      const delay = Number.isFinite(ra) && ra > 0 ? ra : 2 ** attempt;
      await new Promise<void>((resolve) => countdown(delay, (s) => onStatus(`Server busy, retrying in ${s} s…`), resolve));
      continue;
    }
    onStatus(null);
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    return body as T;
  }
}
