// One editor's WebSocket connection: it may have several jobs (runs and checks) running, keyed by
// the client's request id; closing the socket stops them all. Each job is charged to the shared
// rate limit and waits for a run slot; a peer that stops reading is dropped.
import type { WebSocket } from 'ws';
import { ApiError } from '../api/errors.ts';
import { requireCodeWithin } from '../api/validate.ts';
import { findExercise, inRunSlot, sharedServers, type Services } from '../services.ts';
import { readClientMessage, type CheckRequest, type RunRequest, type ServerMessage } from '../shapes/editor-protocol.ts';
import type { RunResult } from '../shapes/run.ts';
import type { Verdict } from '../shapes/verdict.ts';

const MAX_JOBS_PER_SOCKET = 4;
/** A peer with more than this much unsent data is not reading: it is dropped. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export class EditorConnection {
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

  private send(message: ServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ws.terminate(); // the peer stopped reading; its jobs stop with the connection
      return;
    }
    this.ws.send(JSON.stringify(message));
  }

  private async receive(text: string, isBinary: boolean): Promise<void> {
    let data: unknown;
    try {
      if (isBinary) throw new Error('binary frames are not accepted');
      data = JSON.parse(text);
    } catch (err) {
      return this.send({ type: 'error', code: 'malformed_message', message: `Malformed message: ${(err as Error).message}` });
    }
    const read = readClientMessage(data);
    if (!read.ok) return this.send({ type: 'error', ...(read.id !== undefined && { id: read.id }), ...read.refusal });
    const msg = read.message;
    try {
      switch (msg.type) {
        case 'run':
          return await this.job(msg.id, (signal) => this.run(msg, signal));
        case 'check':
          return await this.job(msg.id, (signal) => this.check(msg, signal));
        case 'stop':
          this.jobs.get(msg.id)?.abort();
          return;
      }
    } catch (err) {
      if (!(err instanceof ApiError)) console.error('websocket job failed:', err);
      const { code, message } = err instanceof ApiError ? err : { code: 'internal', message: 'Something went wrong on the server; the error was logged.' };
      const retryAfter = err instanceof ApiError ? err.retryAfter : undefined;
      this.send({ type: 'error', id: msg.id, code, message, ...(retryAfter !== undefined && { retryAfter }) });
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

  private async run({ id, code, exerciseId, shared }: RunRequest, signal: AbortSignal): Promise<void> {
    const { config, harness } = this.services;
    requireCodeWithin(code, config.maxCodeBytes);
    const exercise = exerciseId ? await findExercise(this.services, exerciseId) : undefined;
    const joined = sharedServers(this.services, shared);
    const started = Date.now();
    const result: RunResult = await inRunSlot(this.services, signal, () =>
      harness.run({
        code,
        limits: exercise?.limits,
        services: exercise?.services,
        shared: joined,
        signal,
        onOutput: (stream, text) => this.send({ type: 'output', id, stream, text }),
        onTraffic: (batch) => this.send({ type: 'traffic', id, ...batch }),
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

  private async check({ id, code, exerciseId }: CheckRequest, signal: AbortSignal): Promise<void> {
    const exercise = await findExercise(this.services, exerciseId);
    requireCodeWithin(code, this.services.config.maxCodeBytes);
    const started = Date.now();
    const verdict: Verdict = await inRunSlot(this.services, signal, () =>
      this.services.grader.grade(exercise, code, {
        signal,
        onOutput: (stream, text) => this.send({ type: 'output', id, stream, text }),
        onTest: (test) => this.send({ type: 'test', id, test }),
        onCompileError: (error) => this.send({ type: 'compile-error', id, ...error }),
        onTraffic: (batch) => this.send({ type: 'traffic', id, ...batch }),
      }),
    ).catch((err): Verdict => {
      if (!signal.aborted) throw err;
      // stopped while waiting for a slot: no test ran
      return { version: 2, status: 'error', message: 'Stopped before the tests started.', tests: [], durationMs: Date.now() - started };
    });
    this.send({ type: 'verdict', id, verdict });
  }
}
