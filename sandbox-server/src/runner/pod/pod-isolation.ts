// Isolation mode "bwrap": each learner program runs in its own pod (see pod.ts): a bubblewrap
// sandbox with one node process, its own namespaces, cgroups and limits, whose private network is
// linked to the run's reference servers and to the grader through unix sockets.
//
// Pods are started ahead of time (node in a sandbox takes ~100 ms of CPU to be ready), each serves
// one program, then it is destroyed with everything in it.
import type net from 'node:net';
import type { RunLimits } from '../../config.ts';
import type { OutputListener } from '../output-capture.ts';
import { formatBytes, formatLimitMs, type ExitInfo, type LearnerProcess, type Isolation, type StartOptions } from '../learner-process.ts';
import { sweepDeadServers, type CgroupRoots } from './cgroup.ts';
import { Pod, sandboxArgs } from './pod.ts';

/** After a pod failed to start, how long to wait before starting the next warm one. */
const REFILL_RETRY_MS = 1_000;

export interface PodSandboxOptions {
  workDir: string;
  cgroups: CgroupRoots;
  /** Pods kept started and waiting. */
  warm: number;
  /** The CPU-time rlimit every pod gets (the longest a program may compute). */
  maxCpuSeconds: number;
  defaultLimits: RunLimits;
}

export class PodIsolation implements Isolation {
  readonly isolation = 'bwrap';
  private readonly idle: Pod[] = [];
  private readonly live = new Set<Pod>();
  private nextId = 1;
  private closed = false;
  private readonly bwrapArgs: string[];

  constructor(private readonly options: PodSandboxOptions) {
    this.bwrapArgs = sandboxArgs();
  }

  /** Starts the warm pods; resolves when the first is ready (or rejects with why pods fail here). */
  async warmUp(): Promise<void> {
    await sweepDeadServers(this.options.cgroups);
    const first = this.spawnPod(this.options.defaultLimits, true); // also the proof that pods start here
    await first.ready;
    if (this.options.warm > 0) this.idle.push(first);
    else void first.destroy();
    this.refill();
  }

  start(options: StartOptions): LearnerProcess {
    // Warm pods are made for the default limits; other limits need their own pod.
    const i = this.idle.findIndex((pod) => pod.fits(options.limits));
    const pod = i === -1 ? this.spawnPod(options.limits, false) : this.idle.splice(i, 1)[0];
    pod.promote();
    this.refill();
    return new PodLearner(pod, options);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.live].map((p) => p.destroy()));
  }

  // One pod at a time, the next once the last has booted: starting a pod blocks this process for a
  // moment (fork), so refilling the whole pool at once would stall the gradings a burst is running.
  private refill(): void {
    if (this.refilling || this.closed) return;
    if (this.idle.length >= this.options.warm) {
      for (const resolve of this.warmWaiters.splice(0)) resolve();
      return;
    }
    this.refilling = true;
    const pod = this.spawnPod(this.options.defaultLimits, true);
    this.idle.push(pod);
    pod.ready.then(
      () => {
        this.refilling = false;
        this.refill();
      },
      () => setTimeout(() => ((this.refilling = false), this.refill()), REFILL_RETRY_MS).unref(), // cannot start pods now: retry later
    );
  }
  private refilling = false;
  private readonly warmWaiters: Array<() => void> = [];

  get warmPods(): { ready: number; target: number } {
    return { ready: this.idle.filter((pod) => pod.isReady).length, target: this.options.warm };
  }

  /** Resolves once every warm pod is started and ready (a benchmark's "warm server"). */
  whenWarm(): Promise<void> {
    return new Promise((resolve) => {
      this.warmWaiters.push(resolve);
      this.refill();
    });
  }

  /** A pod for `limits`; a `warming` one is started ahead of time and boots on idle CPU only. */
  private spawnPod(limits: RunLimits, warming: boolean): Pod {
    const { workDir, cgroups, maxCpuSeconds } = this.options;
    const pod = new Pod(this.nextId++, { workDir, cgroups, maxCpuSeconds, memoryMb: limits.memoryMb, outputBytes: limits.outputBytes, warming }, this.bwrapArgs);
    this.live.add(pod);
    void pod.gone.then(() => {
      this.live.delete(pod);
      const i = this.idle.indexOf(pod);
      if (i !== -1) this.idle.splice(i, 1); // died while waiting: replace it
      this.refill();
    });
    return pod;
  }
}

class PodLearner implements LearnerProcess {
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  hasExited = false;
  readonly pid = undefined; // the program's pid is in the pod's own PID namespace
  readonly started: Promise<void>;
  private limitHit: string | undefined;
  private timedOut = false;

  constructor(
    private readonly pod: Pod,
    options: StartOptions,
  ) {
    const { limits } = options;
    pod.onOverflow = () => this.kill(`output cut at ${formatBytes(limits.outputBytes)}; the program was stopped`);
    pod.onTamper = () => this.kill('the program wrote to its sandbox\'s control channel (descriptor 3) and was stopped');
    const started = pod.run({ programDir: options.runDir, entry: options.entry, env: options.env, services: options.services, datagramServices: options.datagramServices ?? [] });
    started.catch(() => {});
    this.started = started;
    this.exited = (async () => {
      // The time limit counts from the program's start, not from the pod's (a busy host may take a while).
      let timer: NodeJS.Timeout | undefined;
      let unstarted: string | undefined;
      try {
        await started;
        timer = setTimeout(() => {
          this.timedOut = true;
          this.kill(`stopped after ${formatLimitMs(limits.timeoutMs)} (time limit)`);
        }, limits.timeoutMs);
      } catch (err) {
        unstarted = (err as Error).message;
        pod.capture.text.stderr += `${unstarted}\n`;
        this.kill();
      }
      const exit = await pod.exited;
      clearTimeout(timer);
      const outOfMemory = exit.memoryLimitHit || /heap out of memory|Reached heap limit/.test(pod.capture.text.stderr);
      if (outOfMemory && !this.limitHit) this.limitHit = `memory limit ${limits.memoryMb} MB exceeded`;
      this.hasExited = true;
      return { exitCode: this.limitHit ? null : exit.code, signal: this.limitHit ? 'SIGKILL' : exit.signal, timedOut: this.timedOut, limit: this.limitHit, ...(unstarted && { unstarted }) };
    })();
  }

  get stdout(): string {
    return this.pod.capture.text.stdout;
  }

  get stderr(): string {
    return this.pod.capture.text.stderr;
  }

  onOutput(listener: OutputListener): () => void {
    return this.pod.capture.onOutput(listener);
  }

  kill(limit?: string): void {
    if (limit && !this.limitHit) this.limitHit = limit;
    void this.pod.destroy();
  }

  async connect(port: number): Promise<net.Socket> {
    await this.started;
    return this.pod.connect(port);
  }
}
