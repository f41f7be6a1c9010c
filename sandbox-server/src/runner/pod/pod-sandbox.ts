// Isolation mode "bwrap": each learner program runs in a "pod", a bubblewrap sandbox with its own
// network, PID, mount, IPC and user namespaces, as an unprivileged user, with only node, its
// libraries, the allowed packages and its own program visible (read-only), a size-capped /tmp,
// cgroup memory and pids caps, rlimits, and Node's permission model inside. Its network holds
// nothing but loopback: the run's reference servers and the grader are reached through unix
// sockets that pod-relay.mjs (inside) bridges to ordinary TCP ports.
//
// Pods are started ahead of time (node in a sandbox takes ~100 ms to be ready), each serves one
// program, then it is destroyed with everything in it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunLimits } from '../../config.ts';
import { OutputCapture, type OutputListener } from '../output-capture.ts';
import { formatBytes, formatLimitMs, type ExitInfo, type LearnerProcess, type Sandbox, type StartOptions } from '../learner-process.ts';
import { PodCgroup, sweepDeadServers, type CgroupRoots } from './cgroup.ts';
import { packageDirs } from './allowed-packages.ts';

const RELAY = fileURLToPath(new URL('./pod-relay.mjs', import.meta.url));
const LEARNER_BOOT = fileURLToPath(new URL('./learner-boot.mjs', import.meta.url));

/** Node flags of a learner process: the permission model inside the pod, and the heap limit. */
export function learnerNodeArgs(memoryMb: number): string[] {
  return [
    '--experimental-permission',
    '--allow-fs-read=/work/',
    '--allow-fs-read=/node_modules/',
    '--allow-fs-read=/tmp/',
    '--allow-fs-read=/pod/learner-boot.mjs',
    '--allow-fs-write=/tmp/',
    '--disable-warning=ExperimentalWarning',
    '--enable-source-maps',
    `--max-old-space-size=${memoryMb}`,
  ];
}
const NOBODY = 65534;
/** Memory the relay itself needs inside the pod's cgroup, on top of the program's limit. */
const RELAY_MEMORY_MB = 64;
/** Tasks (processes + threads) per pod: two node processes use ~25. */
const MAX_TASKS = 64;
const TMP_BYTES = 8 * 1024 * 1024;
const READY_WITHIN_MS = 10_000;
/** A control message is a few hundred bytes; anything longer means the channel was tampered with. */
const MAX_CONTROL_BYTES = 64 * 1024;

export interface PodSandboxOptions {
  workDir: string;
  cgroups: CgroupRoots;
  /** Pods kept started and waiting. */
  warm: number;
  /** The CPU-time rlimit every pod gets (the longest a program may compute). */
  maxCpuSeconds: number;
  defaultLimits: RunLimits;
}

export class PodSandbox implements Sandbox {
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
    const first = this.spawnPod();
    this.idle.push(first);
    await first.ready;
    this.refill();
  }

  start(options: StartOptions): LearnerProcess {
    const pod = this.idle.shift() ?? this.spawnPod();
    this.refill();
    return new PodLearner(pod, options);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.live].map((p) => p.destroy()));
  }

  private refill(): void {
    while (!this.closed && this.idle.length < this.options.warm) this.idle.push(this.spawnPod());
  }

  private spawnPod(): Pod {
    const pod = new Pod(this.nextId++, this.options, this.bwrapArgs);
    this.live.add(pod);
    pod.gone.then(() => {
      this.live.delete(pod);
      const i = this.idle.indexOf(pod);
      if (i !== -1) this.idle.splice(i, 1); // died while waiting: replace it
      this.refill();
    });
    return pod;
  }
}

/** bubblewrap arguments shared by every pod: what the sandbox sees. */
function sandboxArgs(): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--hostname', 'pod', '--clearenv'];
  const roBind = (from: string, to = from) => args.push('--ro-bind', from, to);
  roBind(process.execPath);
  for (const dir of ['/usr/lib', '/usr/lib64', '/lib', '/lib64']) {
    if (!existsSync(dir)) continue;
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir); // e.g. /lib -> usr/lib
    else roBind(dir);
  }
  roBind(RELAY, '/pod/pod-relay.mjs');
  roBind(LEARNER_BOOT, '/pod/learner-boot.mjs');
  for (const [name, dir] of packageDirs()) roBind(dir, `/node_modules/${name}`);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(TMP_BYTES), '--tmpfs', '/tmp');
  args.push('--size', String(4 * 1024 * 1024), '--tmpfs', '/work');
  args.push('--chdir', '/work');
  return args;
}

type PodMessage = { type: 'ready' } | { type: 'started'; pid: number } | { type: 'exit'; code: number | null; signal: string | null } | { type: 'failed'; message: string };

class Pod {
  readonly ready: Promise<void>;
  readonly gone: Promise<void>;
  readonly dir: string;
  readonly cgroup: PodCgroup;
  readonly capture: OutputCapture;
  child?: ChildProcess;
  private control?: net.Socket;
  private listeners = new Set<(m: PodMessage) => void>();
  private readonly hostServers: net.Server[] = [];
  onOverflow = () => {};

  constructor(
    readonly id: number,
    private readonly options: PodSandboxOptions,
    bwrapArgs: string[],
  ) {
    this.dir = path.join(options.workDir, 'pods', `pod-${id}`);
    this.cgroup = new PodCgroup(options.cgroups, `${process.pid}-pod-${id}`);
    this.capture = new OutputCapture(options.defaultLimits.outputBytes, () => this.onOverflow(), '/work/');
    // Whether the kernel stopped the pod at its memory cap, read before the cgroup is removed.
    this.finished = new Promise((resolve) => (this.settleFinished = resolve));
    let settleGone: () => void;
    this.gone = new Promise((resolve) => (settleGone = resolve));
    this.ready = this.boot(bwrapArgs).catch(async (err) => {
      await this.destroy();
      throw err;
    });
    this.ready.catch(() => {});
    void this.ready.then(
      () =>
        this.child?.once('close', async () => {
          this.settleFinished({ memoryLimitHit: await this.cgroup.memoryLimitHit() });
          void this.destroy();
        }),
      () => this.settleFinished({ memoryLimitHit: false }),
    );
    this.goneResolve = () => settleGone();
  }
  private goneResolve: () => void;
  readonly finished: Promise<{ memoryLimitHit: boolean }>;
  private settleFinished!: (f: { memoryLimitHit: boolean }) => void;

  private async boot(bwrapArgs: string[]): Promise<void> {
    await mkdir(path.dirname(this.dir), { recursive: true });
    await chmod(path.dirname(this.dir), 0o711); // the sandbox user passes through, cannot list other pods
    await mkdir(this.dir, { mode: 0o700 });
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chown(this.dir, NOBODY, NOBODY);
    await this.cgroup.create((this.options.defaultLimits.memoryMb + RELAY_MEMORY_MB) * 1024 * 1024, MAX_TASKS);
    // The shell joins the cgroups, then becomes (exec) the rlimited, unprivileged sandbox.
    const join = this.cgroup.procFiles.map((f) => `echo $$ > ${f}`).join(' && ');
    const dropRoot = asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] : [];
    this.child = spawn(
      'sh',
      [
        '-c',
        `${join} && exec "$@"`,
        'pod',
        'prlimit',
        `--cpu=${this.options.maxCpuSeconds}`,
        '--fsize=16777216',
        '--nofile=1024',
        '--core=0',
        '--',
        ...dropRoot,
        'bwrap',
        ...bwrapArgs,
        '--bind',
        this.dir,
        '/sock',
        '--',
        process.execPath,
        '/pod/pod-relay.mjs',
        JSON.stringify(learnerNodeArgs(this.options.defaultLimits.memoryMb)),
      ],
      { env: {}, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true },
    );
    this.capture.attach('stdout', this.child.stdout!);
    this.capture.attach('stderr', this.child.stderr!);
    this.control = this.child.stdio[3] as net.Socket;
    // The relay shares a user with the program: treat what comes over the channel as untrusted.
    let buffered = '';
    this.control.setEncoding('utf8');
    this.control.on('data', (text: string) => {
      buffered += text;
      if (buffered.length > MAX_CONTROL_BYTES) return void this.destroy();
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        let message: PodMessage;
        try {
          message = JSON.parse(buffered.slice(0, nl)) as PodMessage;
        } catch {
          return void this.destroy();
        }
        buffered = buffered.slice(nl + 1);
        for (const l of this.listeners) l(message);
      }
    });
    this.control.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a sandbox did not start within ${READY_WITHIN_MS / 1000} s`)), READY_WITHIN_MS);
      this.on((m) => m.type === 'ready' && (clearTimeout(timer), resolve()));
      this.child!.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`a sandbox could not start (exit ${code}): ${this.capture.text.stderr.trim().slice(0, 500)}`));
      });
    });
  }

  on(listener: (m: PodMessage) => void): void {
    this.listeners.add(listener);
  }

  send(job: unknown): void {
    this.control!.write(JSON.stringify(job) + '\n');
  }

  /** Serves `accept` on a unix socket the relay connects to for `port`. */
  async serve(port: number, accept: (s: net.Socket) => void): Promise<void> {
    const file = path.join(this.dir, `port-${port}.sock`);
    // The same socket semantics as the server's own TCP listener, and the same view of the peer.
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      let header = Buffer.alloc(0);
      const onHeader = (chunk: Buffer) => {
        header = Buffer.concat([header, chunk]);
        if (header.length < 2) return;
        socket.removeListener('data', onHeader);
        socket.pause();
        if (header.length > 2) socket.unshift(header.subarray(2));
        // Back to the state of a socket nobody has read from yet: a hook that pauses it (to hold the
        // program's bytes back) stays in control, and a 'data' listener alone starts the flow.
        (socket as { readableFlowing: boolean | null }).readableFlowing = null; // typed read-only; Node has a setter
        Object.defineProperties(socket, {
          remoteAddress: { value: '127.0.0.1' },
          remotePort: { value: header.readUInt16BE(0) },
          remoteFamily: { value: 'IPv4' },
          localAddress: { value: '127.0.0.1' },
          localPort: { value: port },
        });
        accept(socket);
      };
      socket.on('data', onHeader);
    });
    this.hostServers.push(server);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(file, resolve));
    await chmod(file, 0o666);
  }

  /** A connection to `port` inside the pod, through the relay (see pod-relay.mjs for the protocol). */
  connect(port: number): Promise<net.Socket> {
    const refused = () => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
    return new Promise((resolve, reject) => {
      const socket = net.connect(path.join(this.dir, 'connect.sock'));
      socket.once('error', reject);
      socket.once('close', () => reject(refused()));
      socket.once('connect', () => {
        const request = Buffer.alloc(3);
        request[0] = 1;
        request.writeUInt16BE(port, 1);
        socket.write(request);
      });
      const readAck = () => {
        const status = socket.read(1) as Buffer | null;
        if (!status) return void socket.once('readable', readAck);
        if (status[0] !== 1) {
          socket.destroy();
          return reject(refused());
        }
        const readId = () => {
          const id = socket.read(4) as Buffer | null;
          if (!id) return void socket.once('readable', readId);
          // A unix socket cannot send a TCP reset; the relay does it inside on request.
          // The reset must reach the relay before this socket's close would end the connection politely.
          Object.assign(socket, { resetAndDestroy: () => void this.reset(id.readUInt32BE(0)).then(() => socket.destroy()) });
          resolve(socket);
        };
        readId();
      };
      socket.once('readable', readAck);
    });
  }

  /** Asks the relay to reset connection `id` inside the pod; resolves when it has. */
  private reset(id: number): Promise<void> {
    const request = Buffer.alloc(5);
    request[0] = 2;
    request.writeUInt32BE(id, 1);
    return new Promise((resolve) => {
      const socket = net.connect(path.join(this.dir, 'connect.sock'), () => socket.end(request));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
    });
  }

  /** Kills everything in the pod at once; resolves when its cgroups and files are gone too. */
  destroy(): Promise<void> {
    if (!this.destroying) {
      if (this.child?.pid) {
        try {
          process.kill(-this.child.pid, 'SIGKILL'); // bwrap; its PID namespace dies with it
        } catch {
          // gone
        }
      }
      for (const s of this.hostServers) s.close();
      this.destroying = (async () => {
        await this.cgroup.killAll(); // anything that escaped the process group
        await this.cgroup.remove();
        await rm(this.dir, { recursive: true, force: true });
        this.goneResolve();
      })();
    }
    return this.destroying;
  }
  private destroying?: Promise<void>;
}

class PodLearner implements LearnerProcess {
  readonly startedAt = Date.now();
  readonly exited: Promise<ExitInfo>;
  hasExited = false;
  pid: number | undefined;
  private limitHit: string | undefined;
  private timedOut = false;
  readonly started: Promise<void>;

  constructor(
    private readonly pod: Pod,
    options: StartOptions,
  ) {
    const { limits } = options;
    pod.onOverflow = () => this.kill(`output cut at ${formatBytes(limits.outputBytes)}; the program was stopped`);
    // The time limit counts from the program's start, not from the pod's (a busy host may take a while).
    let timer: NodeJS.Timeout | undefined;
    const startTimer = () => {
      timer = setTimeout(() => {
        this.timedOut = true;
        this.kill(`stopped after ${formatLimitMs(limits.timeoutMs)} (time limit)`);
      }, limits.timeoutMs);
    };
    let exitMessage: { code: number | null; signal: string | null } | undefined;
    pod.on((m) => {
      if (m.type === 'exit') exitMessage = m;
      if (m.type === 'failed') pod.capture.text.stderr += `the sandbox could not start the program: ${m.message}\n`;
    });
    const started = this.begin(options);
    this.started = started;
    started.then(startTimer, () => {});
    this.exited = (async () => {
      try {
        await started;
      } catch (err) {
        pod.capture.text.stderr += `${(err as Error).message}\n`;
      }
      const { memoryLimitHit } = await pod.finished;
      clearTimeout(timer);
      if (memoryLimitHit && !this.limitHit) this.limitHit = `memory limit ${limits.memoryMb} MB exceeded`;
      if (!this.limitHit && /heap out of memory|Reached heap limit/.test(pod.capture.text.stderr)) this.limitHit = `memory limit ${limits.memoryMb} MB exceeded`;
      void pod.destroy(); // processes are dead already; cgroup and files are removed in the background
      this.hasExited = true;
      if (!this.limitHit && !exitMessage) this.limitHit = 'the run ended because the program stopped its own sandbox (it signalled its parent process?)';
      const killed = this.limitHit || !exitMessage;
      return {
        exitCode: killed ? null : exitMessage!.code,
        signal: killed ? 'SIGKILL' : exitMessage!.signal,
        timedOut: this.timedOut,
        limit: this.limitHit,
      };
    })();
  }

  private async begin(options: StartOptions): Promise<void> {
    const pod = this.pod;
    await pod.ready;
    await pod.cgroup.setMemory((options.limits.memoryMb + RELAY_MEMORY_MB) * 1024 * 1024);
    for (const service of options.services) await pod.serve(service.port, service.accept);
    const files: Record<string, string> = {};
    for (const entry of await readdir(options.runDir, { withFileTypes: true })) {
      if (entry.isFile()) files[entry.name] = await readFile(path.join(options.runDir, entry.name), 'utf8');
    }
    const startedMsg = new Promise<void>((resolve) => pod.on((m) => m.type === 'started' && ((this.pid = m.pid), resolve())));
    pod.send({
      files,
      entry: options.entry,
      env: options.env,
      bridgedPorts: options.services.map((s) => s.port),
      udpEchoPort: options.udpEchoPort,
      nodeArgs: learnerNodeArgs(options.limits.memoryMb),
    });
    await startedMsg;
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
