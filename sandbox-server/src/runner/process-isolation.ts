// Isolation mode "process": each learner program is a fresh `node` with a cleared environment,
// Node's permission model (reads only its own directory and the installed packages; no child
// processes, workers or file writes), rlimits via prlimit (CPU time, file size, open files), a
// different uid when the server runs as root (so it cannot signal the server), its own process
// group (killed as a whole), a resident-memory watchdog, a wall-clock timer and an output cap.
// What this does NOT give (network and PID namespaces, a kernel memory cap) is listed in README.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { OutputCapture } from './output-capture.ts';
import { watchMemory } from './memory-watch.ts';
import { formatBytes, formatLimitMs, type ExitInfo, type LearnerProcess, type Isolation, type StartOptions } from './learner-process.ts';

const NOBODY = 65534;
const NODE_MODULES = path.join(PROJECT_ROOT, 'node_modules');

export class ProcessIsolation implements Isolation {
  readonly isolation = 'process';
  private readonly runAsNobody = process.getuid?.() === 0;

  /** Owner for files the learner must read (the run directory). */
  get learnerUid(): number | undefined {
    return this.runAsNobody ? NOBODY : undefined;
  }

  start(options: StartOptions): LearnerProcess {
    return new ProcessLearner(options, this.runAsNobody);
  }
}

class ProcessLearner implements LearnerProcess {
  readonly startedAt = Date.now();
  readonly started = Promise.resolve();
  readonly exited: Promise<ExitInfo>;
  readonly pid: number | undefined;
  hasExited = false;
  private limitHit: string | undefined;
  private timedOut = false;
  private readonly capture: OutputCapture;
  private readonly child;

  constructor(options: StartOptions, runAsNobody: boolean) {
    const { limits } = options;
    this.capture = new OutputCapture(
      limits.outputBytes,
      () => this.kill(`output cut at ${formatBytes(limits.outputBytes)}; the program was stopped`),
      options.runDir + path.sep,
    );
    const cpuSeconds = Math.ceil(limits.timeoutMs / 1000) + 1;
    const nodeArgs = [
      '--experimental-permission',
      `--allow-fs-read=${options.runDir}`,
      `--allow-fs-read=${NODE_MODULES}`,
      '--disable-warning=ExperimentalWarning',
      '--enable-source-maps',
      `--max-old-space-size=${limits.memoryMb}`,
      path.join(options.runDir, options.entry),
    ];
    this.child = spawn(
      'prlimit',
      [`--cpu=${cpuSeconds}`, '--fsize=1048576', '--nofile=1024', '--core=0', '--', process.execPath, ...nodeArgs],
      {
        cwd: options.runDir,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group, so kill(-pid) reaches every descendant
        uid: runAsNobody ? NOBODY : undefined,
        gid: runAsNobody ? NOBODY : undefined,
      },
    );
    this.pid = this.child.pid;
    this.capture.attach('stdout', this.child.stdout!);
    this.capture.attach('stderr', this.child.stderr!);

    const timer = setTimeout(() => {
      this.timedOut = true;
      this.kill(`stopped after ${formatLimitMs(limits.timeoutMs)} (time limit)`);
    }, limits.timeoutMs);
    const stopWatching = this.pid
      ? watchMemory(this.pid, limits.memoryMb * 1024 * 1024, () => this.kill(`memory limit ${limits.memoryMb} MB exceeded`))
      : () => {};

    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (exitCode: number | null, signal: string | null) => {
        if (this.hasExited) return;
        this.hasExited = true;
        clearTimeout(timer);
        stopWatching();
        this.killGroup(); // nothing the program started outlives it
        resolve({ exitCode, signal, timedOut: this.timedOut, limit: this.limitHit ?? this.inferLimit(limits.memoryMb, signal) });
      };
      this.child.on('error', (err) => {
        this.capture.text.stderr += `could not start the program: ${err.message}\n`;
        finish(null, null);
      });
      this.child.on('close', finish);
    });
  }

  get stdout(): string {
    return this.capture.text.stdout;
  }

  get stderr(): string {
    return this.capture.text.stderr;
  }

  onOutput(listener: Parameters<OutputCapture['onOutput']>[0]): () => void {
    return this.capture.onOutput(listener);
  }

  kill(limit?: string): void {
    if (limit && !this.limitHit) this.limitHit = limit;
    this.killGroup();
  }

  connect(port: number): Promise<net.Socket> {
    // Same network as the server: the program's ports are on the host's loopback.
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  private killGroup(): void {
    if (!this.pid) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private inferLimit(memoryMb: number, signal: string | null): string | undefined {
    if (/heap out of memory|Reached heap limit/.test(this.stderr)) return `memory limit ${memoryMb} MB exceeded`;
    if (signal === 'SIGXCPU') return 'CPU time limit exceeded';
    return undefined;
  }
}
