// One run or one grade: a private directory holding the compiled program, a fresh set of reference
// servers, a traffic log, the services it asked for (its own Redis), the environment the learner
// sees, and every learner process started for it (several, each with its own port, for a program
// run as more than one instance). dispose() leaves nothing behind: processes killed, servers and
// services stopped, directories removed.
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import type { RunLimits } from '../config.ts';
import {
  REFERENCE_SERVER_NAMES,
  referenceEnvironment,
  startReferenceServers,
  type DatagramReferenceServer,
  type ReferenceServers,
  type StreamReferenceServer,
} from '../reference-servers/index.ts';
import type { DatagramService, LearnerProcess, Isolation, StreamService } from '../runner/learner-process.ts';
import type { OutputListener } from '../runner/output-capture.ts';
import type { ReferenceTcpServer } from '../reference-servers/tcp-server-base.ts';
import type { RunService } from '../shapes/exercise.ts';
import type { ShareableServer } from '../shapes/requests.ts';
import { TrafficLog } from '../traffic/traffic-log.ts';
import { freePort } from './free-port.ts';
import { RunRedis } from './run-redis.ts';

export const PROGRAM_FILE = 'main.mjs';

/**
 * Connections one run may hold open to a shared server at once: a chat client needs one or two,
 * and a program opening hundreds would fill the server everyone shares. Past it a connection is
 * closed at once. (Under process isolation the program reaches the shared port directly; the cap is a pod's.)
 */
export const SHARED_CONNECTIONS_PER_RUN = 4;

export interface SessionOptions {
  js: string;
  limits: RunLimits;
  tmpDir: string;
  /** Extra trusted files to place beside the program (e.g. a driver for module exercises). */
  files?: Record<string, string>;
  /** Services of this session's own, started before any program (e.g. "redis": REDIS_URL). */
  services?: readonly RunService[];
  /** Shared long-running reference servers to use instead of this session's fresh ones (a Run joining the lessons' chat). */
  shared?: SharedServer[];
}

/** A shared reference server a program is pointed at instead of its session's own. */
export interface SharedServer {
  name: ShareableServer;
  port: number;
  /** A TCP server: it can record one connection in a run's traffic log. */
  server: ReferenceTcpServer;
}

export class Session {
  readonly processes: LearnerProcess[] = [];
  /** Receives the output of every learner process of this session, as it happens. */
  outputListener?: OutputListener;
  private disposed = false;

  private constructor(
    private readonly isolation: Isolation,
    readonly runDir: string,
    readonly servers: ReferenceServers,
    /** The port a learner's server must listen on (PORT). */
    readonly learnerPort: number,
    readonly limits: RunLimits,
    readonly traffic: TrafficLog,
    /** This session's own Redis, when it asked for one. */
    readonly redis: RunRedis | undefined,
    private readonly serviceDir: string | undefined,
    private readonly shared: readonly SharedServer[],
  ) {}

  static async open(isolation: Isolation, options: SessionOptions): Promise<Session> {
    const runDir = await mkdtemp(path.join(options.tmpDir, 'run-'));
    let servers: ReferenceServers | undefined;
    let serviceDir: string | undefined;
    let redis: RunRedis | undefined;
    try {
      await writeFile(path.join(runDir, PROGRAM_FILE), options.js);
      for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(path.join(runDir, name), text);
      await isolation.prepareRunDir?.(runDir);
      const traffic = new TrafficLog();
      const needsRedis = options.services?.includes('redis') ?? false;
      // Services keep their files outside the run directory, which the program can read.
      if (needsRedis) serviceDir = await mkdtemp(path.join(options.tmpDir, 'services-'));
      [servers, redis] = await Promise.all([startReferenceServers({ traffic }), needsRedis ? RunRedis.start({ dir: serviceDir! }) : undefined]);
      return new Session(isolation, runDir, servers, await freePort(), options.limits, traffic, redis, serviceDir, options.shared ?? []);
    } catch (err) {
      await Promise.allSettled([servers?.close(), redis?.stop()]);
      await rm(runDir, { recursive: true, force: true });
      if (serviceDir) await rm(serviceDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** What the learner's process sees as process.env: this and nothing else. */
  get env(): Record<string, string> {
    return {
      HOST: '127.0.0.1',
      PORT: String(this.learnerPort),
      ...referenceEnvironment({ ...this.servers.ports, ...Object.fromEntries(this.shared.map((s) => [s.name, s.port])) }),
      ...(this.redis && { REDIS_URL: this.redis.url }),
    };
  }

  /** Another port for a program of this session to listen on (a second instance's PORT). */
  async anotherPort(): Promise<number> {
    return freePort();
  }

  /**
   * Starts the program. `services` adds trusted TCP services it may reach besides this session's
   * reference servers (e.g. the grader's channel to a module exercise).
   */
  startLearner(options: { entry?: string; env?: Record<string, string>; services?: StreamService[] } = {}): LearnerProcess {
    if (this.disposed) throw new Error('session already disposed');
    const streams: StreamService[] = [];
    const datagrams: DatagramService[] = [];
    for (const name of REFERENCE_SERVER_NAMES) {
      const shared = this.shared.find((s) => s.name === name);
      if (shared) {
        // The shared server keeps no log; this run's connections to it are recorded in its own.
        streams.push({ port: shared.port, accept: (socket) => this.acceptShared(shared, socket) });
        continue;
      }
      const port = this.servers.ports[name];
      const server = this.servers[name] as StreamReferenceServer | DatagramReferenceServer;
      if ('acceptSocket' in server) streams.push({ port, accept: (socket) => server.acceptSocket(socket) });
      else datagrams.push({ port, receive: (message, from, reply) => server.receive(message, from, reply) });
    }
    const redis = this.redis;
    if (redis) streams.push({ port: redis.port, accept: (socket) => redis.accept(socket) });
    const learner = this.isolation.start({
      runDir: this.runDir,
      entry: options.entry ?? PROGRAM_FILE,
      env: { ...this.env, ...options.env },
      limits: this.limits,
      services: [...streams, ...(options.services ?? [])],
      datagramServices: datagrams,
    });
    this.processes.push(learner);
    if (this.outputListener) learner.onOutput(this.outputListener);
    return learner;
  }

  private readonly sharedOpen = new Map<ShareableServer, number>();

  private acceptShared(shared: SharedServer, socket: net.Socket): void {
    const open = this.sharedOpen.get(shared.name) ?? 0;
    if (open >= SHARED_CONNECTIONS_PER_RUN) {
      // (a relayed connection is a unix socket: it can be closed, not reset)
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.sharedOpen.set(shared.name, open + 1);
    socket.once('close', () => this.sharedOpen.set(shared.name, (this.sharedOpen.get(shared.name) ?? 1) - 1));
    shared.server.acceptSocket(socket, this.traffic);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.processes) p.kill();
    await Promise.all(this.processes.map((p) => p.exited));
    await Promise.allSettled([this.servers.close(), this.redis?.stop()]);
    await rm(this.runDir, { recursive: true, force: true });
    if (this.serviceDir) await rm(this.serviceDir, { recursive: true, force: true });
  }
}
