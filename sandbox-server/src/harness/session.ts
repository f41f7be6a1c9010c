// One run or one grade: a private directory holding the compiled program, a fresh set of reference
// servers, a traffic log, the environment the learner sees, and every learner process started for
// it. dispose() leaves nothing behind: processes killed, servers closed, directory removed.
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
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
import { TrafficLog } from '../traffic/traffic-log.ts';
import { freePort } from './free-port.ts';

export const PROGRAM_FILE = 'main.mjs';

export interface SessionOptions {
  js: string;
  limits: RunLimits;
  tmpDir: string;
  /** Extra trusted files to place beside the program (e.g. a driver for module exercises). */
  files?: Record<string, string>;
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
  ) {}

  static async open(isolation: Isolation, options: SessionOptions): Promise<Session> {
    const runDir = await mkdtemp(path.join(options.tmpDir, 'run-'));
    try {
      await writeFile(path.join(runDir, PROGRAM_FILE), options.js);
      for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(path.join(runDir, name), text);
      await isolation.prepareRunDir?.(runDir);
      const traffic = new TrafficLog();
      const servers = await startReferenceServers({ traffic });
      return new Session(isolation, runDir, servers, await freePort(), options.limits, traffic);
    } catch (err) {
      await rm(runDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** What the learner's process sees as process.env: this and nothing else. */
  get env(): Record<string, string> {
    return { HOST: '127.0.0.1', PORT: String(this.learnerPort), ...referenceEnvironment(this.servers.ports) };
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
      const port = this.servers.ports[name];
      const server = this.servers[name] as StreamReferenceServer | DatagramReferenceServer;
      if ('acceptSocket' in server) streams.push({ port, accept: (socket) => server.acceptSocket(socket) });
      else datagrams.push({ port, receive: (message, from, reply) => server.receive(message, from, reply) });
    }
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

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.processes) p.kill();
    await Promise.all(this.processes.map((p) => p.exited));
    await this.servers.close();
    await rm(this.runDir, { recursive: true, force: true });
  }
}
