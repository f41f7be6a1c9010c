// The WebSocket endpoint the editors use (/api/ws): run and check, streamed. Each connection may
// have several jobs running, keyed by the client's request id; closing the socket stops them all.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError } from '../api/errors.ts';
import { optionalExerciseId, requireCode } from '../api/validate.ts';
import { findExercise, type Services } from '../services.ts';

export const WS_PATH = '/api/ws';
const MAX_JOBS_PER_SOCKET = 4;

type Outgoing = Record<string, unknown> & { type: string };

export function attachWebSocketEndpoint(server: Server, services: Services): WebSocketServer {
  const maxPayload = services.config.maxCodeBytes * 2 + 4096;
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== WS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws) => new EditorConnection(ws, services));
  return wss;
}

class EditorConnection {
  private readonly jobs = new Map<string, AbortController>();

  constructor(
    private readonly ws: WebSocket,
    private readonly services: Services,
  ) {
    ws.on('message', (data, isBinary) => void this.receive(data.toString(), isBinary));
    ws.on('close', () => this.jobs.forEach((job) => job.abort()));
    ws.on('error', () => {}); // e.g. maxPayload exceeded: ws closes the socket with 1009
  }

  private send(message: Outgoing): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
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
      this.send({ type: 'error', id, code, message, ...(code === 'too_many_jobs' && { retryAfter: 1 }) });
    }
  }

  private async job(id: string, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.jobs.has(id)) throw new ApiError(400, 'duplicate_id', `A job with id "${id}" is already running.`);
    if (this.jobs.size >= MAX_JOBS_PER_SOCKET) throw new ApiError(429, 'too_many_jobs', `At most ${MAX_JOBS_PER_SOCKET} runs at once per connection; wait for one to finish.`);
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
    const result = await harness.run({
      code,
      limits: exercise?.limits,
      signal,
      onOutput: (stream, text) => this.send({ type: 'output', id, stream, text }),
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
    const verdict = await this.services.grader.grade(exercise, code, {
      signal,
      onOutput: (stream, text) => this.send({ type: 'output', id, stream, text }),
      onTest: (test) => this.send({ type: 'test', id, test }),
      onCompileError: (error) => this.send({ type: 'compile-error', id, ...error }),
    });
    this.send({ type: 'verdict', id, verdict });
  }
}
