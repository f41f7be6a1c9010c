// The WebSocket endpoint the editors use (/api/ws): run and check, streamed. Each connection may
// have several jobs running, keyed by the client's request id; closing the socket stops them all.
// Guards: a cap on connections per IP (refused at the upgrade with HTTP 429), a cap on message size
// (ws closes with 1009), ping/pong heartbeats that drop dead peers (and so stop their jobs), the
// shared rate limit and run slots, and a cap on unsent data for a peer that stops reading.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError } from '../api/errors.ts';
import { clientIp } from '../api/rate-limit.ts';
import { optionalExerciseId, requireCode } from '../api/validate.ts';
import type { RunResult } from '../harness/run-harness.ts';
import type { Verdict } from '../grading/verdict.ts';
import { findExercise, inRunSlot, type Services } from '../services.ts';

export const WS_PATH = '/api/ws';
const MAX_JOBS_PER_SOCKET = 4;
/** A peer with more than this much unsent data is not reading: it is dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

type Outgoing = Record<string, unknown> & { type: string };

export function attachWebSocketEndpoint(server: Server, services: Services): WebSocketServer {
  const { maxCodeBytes, webSocket, trustProxyHops } = services.config;
  const maxPayload = maxCodeBytes * 2 + 4096;
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  const perIp = new Map<string, number>();
  const connections = new Set<EditorConnection>();
  let nextId = 1;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {}); // a client that resets mid-handshake
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const ip = clientIp(req, trustProxyHops);
    if ((perIp.get(ip) ?? 0) >= webSocket.maxPerIp) {
      const body = JSON.stringify({
        error: { code: 'too_many_connections', message: `At most ${webSocket.maxPerIp} WebSocket connections per address; close another tab or try again later.` },
      });
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    // handleUpgrade calls back in the same tick, so the count cannot be overtaken between check and add.
    wss.handleUpgrade(req, socket, head, (ws) => {
      perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
      const connection = new EditorConnection(ws, services, nextId++, ip);
      connections.add(connection);
      ws.once('close', () => {
        connections.delete(connection);
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left > 0) perIp.set(ip, left);
        else perIp.delete(ip);
      });
      wss.emit('connection', ws, req);
    });
  });

  const heartbeat = setInterval(() => connections.forEach((c) => c.heartbeat()), webSocket.heartbeatMs);
  heartbeat.unref();
  wss.on('close', () => clearInterval(heartbeat));
  return wss;
}

class EditorConnection {
  private readonly jobs = new Map<string, AbortController>();
  /** Cleared by each heartbeat's ping, set again by the pong. */
  private alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly services: Services,
    readonly id: number,
    readonly ip: string,
  ) {
    ws.on('message', (data, isBinary) => void this.receive(data.toString(), isBinary));
    ws.on('close', () => this.jobs.forEach((job) => job.abort()));
    ws.on('error', () => {}); // e.g. maxPayload exceeded: ws closes the socket with 1009
    ws.on('pong', () => (this.alive = true));
  }

  /** Drops a peer that did not answer the previous ping (closing stops its jobs), then pings again. */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private send(message: Outgoing): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ws.terminate(); // the peer stopped reading; its jobs stop with the connection
      return;
    }
    this.ws.send(JSON.stringify(message));
  }

  private async receive(text: string, isBinary: boolean): Promise<void> {
    let msg: Record<string, unknown>;
    try {
      if (isBinary) throw new Error('binary frames are not accepted');
      msg = JSON.parse(text);
      if (!msg || typeof msg !== 'object' || Array.isArray(msg)) throw new Error('a message must be a JSON object');
    } catch (err) {
      return this.send({ type: 'error', code: 'malformed_message', message: `Malformed message: ${(err as Error).message}` });
    }
    const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? String(msg.id) : undefined;
    if (!id) return this.send({ type: 'error', code: 'missing_id', message: 'Every message needs an "id" (string).' });
    try {
      switch (msg.type) {
        case 'run':
          return await this.job(id, (signal) => this.run(id, msg, signal));
        case 'check':
          return await this.job(id, (signal) => this.check(id, msg, signal));
        case 'stop':
          this.jobs.get(id)?.abort();
          return;
        default:
          return this.send({ type: 'error', id, code: 'unknown_type', message: `Unknown message type ${JSON.stringify(msg.type)}; use "run", "check" or "stop".` });
      }
    } catch (err) {
      if (!(err instanceof ApiError)) console.error('websocket job failed:', err);
      const { code, message } = err instanceof ApiError ? err : { code: 'internal', message: 'Something went wrong on the server; the error was logged.' };
      const retryAfter = err instanceof ApiError ? err.retryAfter : undefined;
      this.send({ type: 'error', id, code, message, ...(retryAfter !== undefined && { retryAfter }) });
    }
  }

  private async job(id: string, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.jobs.has(id)) throw new ApiError(400, 'duplicate_id', `A job with id "${id}" is already running.`);
    if (this.jobs.size >= MAX_JOBS_PER_SOCKET) throw new ApiError(429, 'too_many_jobs', `At most ${MAX_JOBS_PER_SOCKET} runs at once per connection; wait for one to finish.`, 1);
    this.services.rateLimiter.take(`ws:${this.id}`, this.ip);
    const controller = new AbortController();
    this.jobs.set(id, controller);
    try {
      await work(controller.signal);
    } finally {
      this.jobs.delete(id);
    }
  }

  private async run(id: string, msg: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const { config, harness } = this.services;
    const code = requireCode(msg, config.maxCodeBytes);
    const exerciseId = optionalExerciseId(msg);
    const exercise = exerciseId ? await findExercise(this.services, exerciseId) : undefined;
    const started = Date.now();
    const result: RunResult = await inRunSlot(this.services, signal, () =>
      harness.run({
        code,
        limits: exercise?.limits,
        signal,
        onOutput: (stream, text) => this.send({ type: 'output', id, stream, text }),
      }),
    ).catch((err) => {
      if (!signal.aborted) throw err;
      // stopped while waiting for a slot: it never ran
      return { stdout: '', stderr: '', exitCode: null, signal: null, timedOut: false, limit: 'stopped on request', durationMs: Date.now() - started };
    });
    if (result.compileError) this.send({ type: 'compile-error', id, ...result.compileError });
    if (result.limit) this.send({ type: 'limit', id, message: result.limit });
    this.send({ type: 'exit', id, result });
  }

  private async check(id: string, msg: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const exerciseId = optionalExerciseId(msg);
    if (!exerciseId) throw new ApiError(400, 'missing_exercise_id', 'A "check" needs an "exerciseId".');
    const exercise = await findExercise(this.services, exerciseId);
    const code = requireCode(msg, this.services.config.maxCodeBytes);
    const started = Date.now();
    const verdict: Verdict = await inRunSlot(this.services, signal, () =>
      this.services.grader.grade(exercise, code, {
        signal,
        onOutput: (stream, text) => this.send({ type: 'output', id, stream, text }),
        onTest: (test) => this.send({ type: 'test', id, test }),
        onCompileError: (error) => this.send({ type: 'compile-error', id, ...error }),
      }),
    ).catch((err) => {
      if (!signal.aborted) throw err;
      // stopped while waiting for a slot: no test ran
      return { version: 2, status: 'error', message: 'Stopped before the tests started.', tests: [], durationMs: Date.now() - started };
    });
    this.send({ type: 'verdict', id, verdict });
  }
}
