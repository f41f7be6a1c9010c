// Isolation mode "process": each learner program is a fresh `node` with a cleared environment,
// Node's permission model (reads only its own directory and the learner packages; no child
// processes, workers or file writes), rlimits via prlimit (CPU time, file size, open files), a
// different uid when the server runs as root (so it cannot signal the server), its own process
// group (killed as a whole), a resident-memory watchdog, a wall-clock timer and an output cap.
// What this does NOT give (network and PID namespaces, a kernel memory cap) is listed in README.
import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, symlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { linkLearnerPackages } from './learner-packages.ts';
import { OutputCapture } from './output-capture.ts';
import { watchMemory } from './memory-watch.ts';
import { formatBytes, formatLimitMs, type ExitInfo, type LearnerProcess, type Isolation, type StartOptions } from './learner-process.ts';

const NOBODY = 65534;

export class ProcessIsolation implements Isolation {
  readonly isolation = 'process';
  private readonly runAsNobody = process.getuid?.() === 0;
  private packages?: Promise<{ modulesDir: string; readable: string[] }>;
  /** What a program may read besides its run directory: the links and the packages' directories. */
  private readable?: string[];

  /** `workDir` holds the node_modules of links to the learner packages, shared by every run. */
  constructor(private readonly workDir: string) {}

  /** The run directory's node_modules is the learner packages' and nothing else; the learner may read it all. */
  async prepareRunDir(runDir: string): Promise<void> {
    const { modulesDir } = await this.learnerPackages();
    await symlink(modulesDir, path.join(runDir, 'node_modules'));
    if (this.runAsNobody) {
      await chmod(runDir, 0o755);
      await chown(runDir, NOBODY, NOBODY);
    }
  }

  start(options: StartOptions): LearnerProcess {
    if (!this.readable) throw new Error('prepareRunDir() must run before start()');
    return new ProcessLearner(options, this.runAsNobody, this.readable);
  }

  private learnerPackages(): Promise<{ modulesDir: string; readable: string[] }> {
    return (this.packages ??= (async () => {
      const modulesDir = await mkdtemp(path.join(this.workDir, 'learner-packages-'));
      await chmod(modulesDir, 0o755);
      this.readable = [modulesDir, ...(await linkLearnerPackages(modulesDir))];
      return { modulesDir, readable: this.readable };
    })());
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

  constructor(options: StartOptions, runAsNobody: boolean, readable: string[]) {
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
      ...readable.map((dir) => `--allow-fs-read=${dir}`),
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
