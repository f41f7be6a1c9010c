// Runs a learner program once ("Run" in the editor): compile, open a fresh session, start the
// process, stream its output, and report how it ended.
import { compileTypeScript } from '../compile/compile.ts';
import { loadConfig, type Config, type RunLimits } from '../config.ts';
import { createIsolation } from '../runner/index.ts';
import { claimWorkDir } from './work-dir.ts';
import type { Isolation } from '../runner/learner-process.ts';
import type { OutputListener } from '../runner/output-capture.ts';
import type { RunResult } from '../shapes/run.ts';
import type { RunService } from '../shapes/exercise.ts';
import { Session, type SessionOptions, type SharedServer } from './session.ts';
import { followTraffic, type TrafficListener } from './session-traffic.ts';

export interface RunOptions {
  code: string;
  limits?: Partial<RunLimits>;
  /** Services of the run's own (an exercise's, e.g. "redis"). */
  services?: readonly RunService[];
  /** Shared reference servers the program uses instead of fresh ones (e.g. the lessons' chat). */
  shared?: SharedServer[];
  onOutput?: OutputListener;
  /** Aborting stops the program (the editor's Stop, or a closed WebSocket). */
  signal?: AbortSignal;
  /** Streams the run's traffic in batches as it goes; without it, the result holds the whole traffic. */
  onTraffic?: TrafficListener;
}

export class Harness {
  private readonly live = new Set<Session>();

  constructor(
    readonly config: Config,
    readonly isolation: Isolation,
  ) {}

  limitsFor(overrides: Partial<RunLimits> = {}): RunLimits {
    return { ...this.config.limits, ...overrides };
  }

  /** Opens a session that shutdown() will close if it is still open. */
  async openSession(js: string, limits: RunLimits, extra: Pick<SessionOptions, 'files' | 'services' | 'shared'> = {}): Promise<Session> {
    const session = await Session.open(this.isolation, { js, limits, tmpDir: this.config.tmpDir, ...extra });
    this.live.add(session);
    return session;
  }

  async closeSession(session: Session): Promise<void> {
    this.live.delete(session);
    await session.dispose();
  }

  async run(options: RunOptions): Promise<RunResult> {
    const started = Date.now();
    const compiled = await compileTypeScript(options.code);
    if (!compiled.ok) {
      return { stdout: '', stderr: compiled.error.message + '\n', exitCode: null, signal: null, timedOut: false, compileError: compiled.error, durationMs: Date.now() - started };
    }
    const session = await this.openSession(compiled.js, this.limitsFor(options.limits), { services: options.services, shared: options.shared });
    const traffic = followTraffic(session, options.onTraffic);
    let result: RunResult;
    try {
      session.outputListener = options.onOutput;
      const learner = session.startLearner();
      const stop = () => learner.kill('stopped on request');
      options.signal?.addEventListener('abort', stop, { once: true });
      const exit = await learner.exited;
      options.signal?.removeEventListener('abort', stop);
      result = { stdout: learner.stdout, stderr: learner.stderr, ...exit, durationMs: Date.now() - started };
    } finally {
      await this.closeSession(session).finally(() => traffic.finish()); // the stream stops however the run ended
    }
    return { ...result, ...traffic.finish() };
  }

  /** Kills every running learner process and closes every session (server shutdown). */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.live].map((s) => this.closeSession(s)));
    await this.isolation.shutdown?.();
  }
}

let defaultHarness: Harness | undefined;

/** Runs a program with the default configuration (scripts and tests that need no server). */
export async function runProgram(options: RunOptions & { exerciseId?: string }): Promise<RunResult> {
  if (!defaultHarness) {
    const base = loadConfig({});
    const config = { ...base, tmpDir: await claimWorkDir(base.tmpDir) };
    defaultHarness = new Harness(config, await createIsolation(config));
  }
  return defaultHarness.run(options);
}
