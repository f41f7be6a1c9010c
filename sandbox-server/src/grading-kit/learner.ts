// Starting the learner's program inside a grade and waiting until it is ready: a server that
// accepts connections on PORT, or a client program whose output and exit the test observes.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LearnerProcess } from '../runner/learner-process.ts';
import { currentGrade, GradingFailure, oncePerGrade } from './context.ts';
import { TestClient } from './test-client.ts';
import { TestWebSocket, type TestWebSocketOptions } from './test-websocket.ts';
import { TestSocketIo, type ConnectRefusal, type TestSocketIoOptions } from './test-socket-io.ts';

export const READY_WITHIN_MS = 3000;
/**
 * How long a server whose session has services of its own (a Redis) may take to listen: it loads a
 * Redis client and the adapter and connects before it listens, usually as several instances started
 * at once on shared cores (two such instances took 1.6-2.5 s on a busy 2-core machine, over 3 s in bursts).
 */
export const READY_WITH_SERVICES_MS = 10_000;

/** The readiness wait for a server of this session. */
export function readinessWindow(session: { redis?: unknown }): number {
  return session.redis ? READY_WITH_SERVICES_MS : READY_WITHIN_MS;
}

/**
 * Starts a fresh run of the learner's program (client exercises start one per test). `env` adds to
 * (or overrides) the session's environment, e.g. another PORT for a second instance.
 */
export function startLearner(options: { env?: Record<string, string> } = {}): LearnerProcess {
  const ctx = currentGrade();
  const learner = ctx.session.startLearner({ env: options.env });
  ctx.processes.push(learner);
  return learner;
}

/** The last lines of a process's output, for failure messages. */
export function outputTail(learner: LearnerProcess, max = 600): string {
  const text = (learner.stderr.trim() || learner.stdout.trim()).slice(-max);
  return text ? ` Its output ended with:\n${text}` : ' It printed nothing.';
}

export function describeExit(learner: LearnerProcess, exit: { exitCode: number | null; signal: string | null; limit?: string; unstarted?: string }): string {
  if (exit.unstarted) return `your program never ran: the server could not start its sandbox (${exit.unstarted}). The server was busy; this says nothing about your code.`;
  const how = exit.limit ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`);
  return `your program ${how}.${outputTail(learner)}`;
}

export interface LearnerServer {
  /** 0 for the first instance; an exercise run as several instances has 1, 2, … too. */
  instance: number;
  port: number;
  process: LearnerProcess;
  /** A new client connection to the learner's server. */
  connect(label?: string): Promise<TestClient>;
  /** A new WebSocket to the learner's server (its opening handshake done), over the same kind of connection. */
  connectWebSocket(options?: Partial<TestWebSocketOptions>): Promise<TestWebSocket>;
  /** A Socket.IO client connected to the learner's server (namespace joined); fails with the refusal if refused. */
  connectSocketIo(options?: Partial<TestSocketIoOptions>): Promise<TestSocketIo>;
  /** A Socket.IO client that expects the learner's server to refuse it: resolves with the connect_error. */
  connectSocketIoRefused(options?: Partial<TestSocketIoOptions>): Promise<ConnectRefusal>;
}

/**
 * The learner's server for this grade, started once and shared by the tests. Resolves when it
 * accepts a TCP connection on PORT (polling, no fixed sleep); fails with the reason if it exits
 * first or never listens. `instance` 1, 2, … are further processes of the same program, each
 * told its own PORT (and sharing the session's services, e.g. its Redis): a server run as several
 * instances. The grader starts `instances` of them (exercise.json) before the tests.
 */
export function learnerServer(instance = 0): Promise<LearnerServer> {
  return oncePerGrade(instance === 0 ? 'kit:learner-server' : `kit:learner-server:${instance}`, () => bootServer(instance));
}

async function bootServer(instance: number): Promise<LearnerServer> {
  const ctx = currentGrade();
  const port = instance === 0 ? ctx.session.learnerPort : await ctx.session.anotherPort();
  const learner = startLearner(instance === 0 ? {} : { env: { PORT: String(port) } });
  const probe = await waitForListening(learner, port, readinessWindow(ctx.session));
  ctx.cleanups.push(() => probe.destroy());
  let clients = 0;
  const openConnection = async () => {
    if (learner.hasExited) throw new GradingFailure(`your server is no longer running: ${describeExit(learner, await learner.exited)}`);
    return learner.connect(port).catch((err: Error) => {
      throw new GradingFailure(`could not connect to your server on port ${port}: ${err.message}`);
    });
  };
  return {
    instance,
    port,
    process: learner,
    async connect(label) {
      const client = new TestClient(await openConnection(), label ?? `client ${++clients}`, ctx.session.traffic);
      ctx.cleanups.push(() => client.destroy());
      return client;
    },
    async connectWebSocket(options = {}) {
      const socket = await openConnection();
      ctx.cleanups.push(() => socket.destroy());
      const client = await TestWebSocket.open(socket, port, { ...options, label: options.label ?? `client ${++clients}` }, ctx.session.traffic);
      ctx.cleanups.push(() => client.terminate());
      return client;
    },
    async connectSocketIo(options = {}) {
      const client = await TestSocketIo.open(openConnection, `http://127.0.0.1:${port}`, { ...options, label: options.label ?? `client ${++clients}` }, ctx.session.traffic);
      ctx.cleanups.push(() => client.close());
      return client;
    },
    async connectSocketIoRefused(options = {}) {
      return TestSocketIo.openRefused(openConnection, `http://127.0.0.1:${port}`, { ...options, label: options.label ?? `client ${++clients}` }, ctx.session.traffic);
    },
  };
}

/** Resolves with the first connection that succeeded (kept open, so the probe breaks nothing). */
async function waitForListening(learner: LearnerProcess, port: number, within: number): Promise<net.Socket> {
  await Promise.race([learner.started, learner.exited]).catch(() => {}); // the wait starts when the program does
  const deadline = Date.now() + within;
  while (Date.now() < deadline) {
    if (learner.hasExited) {
      throw new GradingFailure(`your server stopped before it listened on port ${port} (process.env.PORT): ${describeExit(learner, await learner.exited)}`);
    }
    const probe = await connectOnce(learner, port);
    if (probe) return probe;
    await sleep(10); // a retry interval, not a guess at start-up time
  }
  throw new GradingFailure(
    `your server did not accept connections on 127.0.0.1, port ${port} (process.env.PORT), within ${within / 1000} s. ` +
      `Does it call server.listen(Number(process.env.PORT)), with no host or with '127.0.0.1'? (A server listening on '::1' only cannot be reached there.)${outputTail(learner)}`,
  );
}

// A probe that hung up at once would make a server without an 'error' listener crash on its
// greeting (EPIPE) before any test ran; the probe stays connected, reads and ignores, until the end.
async function connectOnce(learner: LearnerProcess, port: number): Promise<net.Socket | undefined> {
  const probe = await learner.connect(port).catch(() => undefined);
  probe?.on('error', () => {});
  probe?.resume();
  return probe;
}

/** Waits until the learner's stdout has a line matching `match`. */
export async function expectOutputLine(learner: LearnerProcess, match: RegExp, what: string, within = READY_WITHIN_MS): Promise<string> {
  const find = () => learner.stdout.split('\n').find((line) => match.test(line));
  const found = find();
  if (found !== undefined) return found;
  return new Promise((resolve, reject) => {
    const stop = learner.onOutput(() => {
      const line = find();
      if (line !== undefined) finish(() => resolve(line));
    });
    const timer = setTimeout(() => finish(() => reject(new GradingFailure(`expected your program to print ${what} within ${within / 1000} s, but it did not.${outputTail(learner)}`))), within);
    void learner.exited.then(async (exit) => {
      const line = find();
      finish(() => (line !== undefined ? resolve(line) : reject(new GradingFailure(`expected your program to print ${what}, but ${describeExit(learner, exit)}`))));
    });
    let done = false;
    function finish(settle: () => void) {
      if (done) return;
      done = true;
      stop();
      clearTimeout(timer);
      settle();
    }
  });
}

/** Waits for the learner's program to end by itself; fails if it is still running after `within`. */
export async function expectExit(learner: LearnerProcess, within = READY_WITHIN_MS) {
  const exit = await Promise.race([learner.exited, sleep(within).then(() => undefined)]);
  if (!exit) throw new GradingFailure(`expected your program to finish by itself within ${within / 1000} s, but it was still running. Did you close the socket?${outputTail(learner)}`);
  return exit;
}

/** Polls `ready` every 10 ms (a retry interval, not a guess) until it holds or `within` ms passed. */
export async function waitUntil(ready: () => boolean, within: number): Promise<boolean> {
  const deadline = Date.now() + within;
  while (!ready()) {
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
  return true;
}
