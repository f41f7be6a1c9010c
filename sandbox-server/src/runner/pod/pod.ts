// One pod: a bubblewrap sandbox holding ONE node process (pod-boot.mjs, which becomes the learner's
// program), with its own network, PID, mount, IPC and user namespaces, as an unprivileged user, seeing
// only node, its libraries, the allowed packages, the pod's boot code and its own program (all
// read-only) and a size-capped /tmp, in its own memory and pids cgroups, under rlimits and Node's
// permission model. The host side of the pod lives here: its start, its control channel, the unix
// sockets that link its private network to the run's services and to the grader, and its end.
//
// Host directory of a pod (pods/pod-<id>/), visible inside READ-ONLY, so the pod creates nothing:
//   sock/  port-<port>.sock (the run's stream services, served here), udp-<port>.sock (its datagram
//          services: datagrams framed on a stream, see datagram-frames.ts) and into.sock (inward connections)
//   work/  the program, written when the pod is given its job
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunLimits } from '../../config.ts';
import { OutputCapture } from '../output-capture.ts';
import { PodCgroup, type CgroupRoots } from './cgroup.ts';
import { packageDirs } from '../learner-packages.ts';
import type { DatagramService, StreamService } from '../learner-process.ts';
import { DatagramFrameReader, encodeDatagramFrame, MAX_DATAGRAM_BYTES } from './datagram-frames.mjs';

const POD_FILES = ['pod-boot.mjs', 'pod-relay.mjs', 'datagram-frames.mjs'].map((name) => [fileURLToPath(new URL(`./${name}`, import.meta.url)), `/pod/${name}`]);

/** Node flags of the pod's process: the permission model inside the pod, and the heap limit. */
function podNodeArgs(memoryMb: number): string[] {
  return [
    '--experimental-permission',
    '--allow-fs-read=/work/',
    '--allow-fs-read=/node_modules/',
    '--allow-fs-read=/tmp/',
    '--allow-fs-read=/pod/',
    '--allow-fs-write=/tmp/',
    '--disable-warning=ExperimentalWarning',
    '--enable-source-maps',
    `--max-old-space-size=${memoryMb}`,
  ];
}

const NOBODY = 65534;
/** Memory node itself needs (code, stacks, buffers outside the JS heap) on top of the program's limit. */
const NODE_OVERHEAD_MB = 64;
/** Tasks (processes + threads) per pod: one node process uses ~11. */
const MAX_TASKS = 64;
const TMP_BYTES = 8 * 1024 * 1024;
const READY_WITHIN_MS = 10_000;
/** All a pod says on its control channel is a few dozen bytes; more means the program wrote there. */
const MAX_CONTROL_BYTES = 64 * 1024;
/** Listen backlog of the pod's unix sockets: above RLIMIT_NOFILE (1024); the kernel caps it at net.core.somaxconn. */
const UNIX_BACKLOG = 2048;
/** Replies queued for a pod's datagram relay past which more are dropped. */
const MAX_UNSENT_DATAGRAM_BYTES = 1024 * 1024;
/** How long the pod may take to answer an inward connection request before it counts as refused. */
const CONNECT_WITHIN_MS = 5_000;

export interface PodOptions {
  workDir: string;
  cgroups: CgroupRoots;
  /** The CPU-time rlimit (the longest a program may compute). */
  maxCpuSeconds: number;
  /** The program's memory limit: node's heap limit, and (plus node's own needs) the cgroup's. */
  memoryMb: number;
  outputBytes: number;
  /** Started ahead of time: boots on idle CPU only, until promote(). */
  warming: boolean;
}

export interface PodJob {
  /** Directory whose files are the program (copied into the pod's read-only /work). */
  programDir: string;
  entry: string;
  env: Record<string, string>;
  services: StreamService[];
  datagramServices: DatagramService[];
}

/** How the pod's process ended, as bubblewrap reports it. */
export interface PodExit {
  code: number | null;
  signal: string | null;
  /** The kernel stopped the pod at its memory cap. */
  memoryLimitHit: boolean;
}

/** bubblewrap arguments shared by every pod: what the sandbox sees. */
export function sandboxArgs(): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--hostname', 'pod', '--clearenv'];
  const roBind = (from: string, to = from) => args.push('--ro-bind', from, to);
  roBind(process.execPath);
  for (const dir of ['/usr/lib', '/usr/lib64', '/lib', '/lib64']) {
    if (!existsSync(dir)) continue;
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir); // e.g. /lib -> usr/lib
    else roBind(dir);
  }
  for (const [from, to] of POD_FILES) roBind(from, to);
  for (const [name, dir] of packageDirs()) roBind(dir, `/node_modules/${name}`);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(TMP_BYTES), '--tmpfs', '/tmp');
  args.push('--chdir', '/work');
  return args;
}

type PodMessage =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'failed'; message: string }
  | { type: 'outward-reset'; port: number; source: number };

export class Pod {
  /** Resolves when the pod's process is booted and waits for its job. */
  readonly ready: Promise<void>;
  /** Resolves when the pod's process has ended (never rejects). */
  readonly exited: Promise<PodExit>;
  /** Resolves when everything of the pod is gone: processes, cgroups, files. */
  readonly gone: Promise<void>;
  readonly capture: OutputCapture;
  /** Booted and waiting for its job (or running it). */
  isReady = false;
  onOverflow = () => {};
  /** Called before the pod is stopped for writing garbage or too much to its control channel. */
  onTamper = () => {};

  private readonly dir: string;
  private readonly cgroup: PodCgroup;
  private child?: ChildProcess;
  private closed: Promise<void> = Promise.resolve();
  private control?: net.Socket;
  private readonly listeners = new Set<(m: PodMessage) => void>();
  private readonly hostServers: net.Server[] = [];
  private readonly pendingConnects = new Map<number, { resolve(s: net.Socket): void; refuse(): void }>();
  /** The program's connections to services, by "<service port>:<its source port>", until they close. */
  private readonly outward = new Map<string, net.Socket>();
  private nextConnectId = 1;
  private destroying?: Promise<void>;
  private settleGone!: () => void;

  constructor(
    readonly id: number,
    private readonly options: PodOptions,
    bwrapArgs: string[],
  ) {
    this.dir = path.join(options.workDir, 'pods', `pod-${id}`);
    this.cgroup = new PodCgroup(options.cgroups, `${process.pid}-pod-${id}`);
    this.capture = new OutputCapture(options.outputBytes, () => this.onOverflow(), '/work/');
    this.gone = new Promise((resolve) => (this.settleGone = resolve));
    const booted = this.boot(bwrapArgs);
    this.exited = booted.then(
      () => this.whenEnded(),
      () => this.whenEnded(),
    );
    this.ready = booted.catch(async (err) => {
      await this.destroy();
      throw err;
    });
    this.ready.then(() => (this.isReady = true), () => {});
    void this.exited.then(() => this.destroy());
  }

  private async boot(bwrapArgs: string[]): Promise<void> {
    await mkdir(path.dirname(this.dir), { recursive: true });
    await chmod(path.dirname(this.dir), 0o711); // the sandbox user passes through, cannot list other pods
    await mkdir(path.join(this.dir, 'sock'), { recursive: true, mode: 0o755 });
    await mkdir(path.join(this.dir, 'work'), { mode: 0o755 });
    await chmod(this.dir, 0o755);
    await this.listen('into.sock', (socket) => this.acceptInward(socket));
    await this.cgroup.create((this.options.memoryMb + NODE_OVERHEAD_MB) * 1024 * 1024, MAX_TASKS);
    // The shell joins the cgroups, sets the rlimits (hard and soft; -f counts 512-byte blocks), then
    // becomes (exec) the unprivileged sandbox.
    const join = this.cgroup.procFiles(this.options.warming).map((f) => `echo $$ > ${f}`).join(' && ');
    const limits = `ulimit -t ${this.options.maxCpuSeconds} && ulimit -f 32768 && ulimit -n 1024 && ulimit -c 0`;
    const dropRoot = process.getuid?.() === 0 ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] : [];
    // Destroyed while preparing (a shutdown): start nothing that nobody would stop.
    if (this.destroying) throw new Error('the sandbox was destroyed before it started');
    this.child = spawn(
      'sh',
      [
        '-c',
        `${join} && ${limits} && exec "$@"`,
        'pod',
        ...dropRoot,
        'bwrap',
        ...bwrapArgs,
        '--ro-bind',
        path.join(this.dir, 'sock'),
        '/sock',
        '--ro-bind',
        path.join(this.dir, 'work'),
        '/work',
        '--',
        process.execPath,
        ...podNodeArgs(this.options.memoryMb),
        '/pod/pod-boot.mjs',
      ],
      { env: {}, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true },
    );
    // 'close', not 'exit', ends the pod: by then its output pipes are drained too.
    const child = this.child;
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
    this.capture.attach('stdout', this.child.stdout!);
    this.capture.attach('stderr', this.child.stderr!);
    this.readControl(this.child.stdio[3] as net.Socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a sandbox did not start within ${READY_WITHIN_MS / 1000} s`)), READY_WITHIN_MS);
      this.on((m) => m.type === 'ready' && (clearTimeout(timer), resolve()));
      void this.closed.then(() => {
        clearTimeout(timer);
        reject(new Error(`a sandbox could not start (exit ${child.exitCode}): ${this.capture.text.stderr.trim().slice(0, 500)}`));
      });
    });
  }

  // The pod's process will run the learner's program: what comes over the channel is untrusted.
  // Once the program runs, the only message that means anything is a reset of one of its own
  // connections (it can do no more than reset its own connection). A pod says a few dozen bytes in
  // all: one that says more than MAX_CONTROL_BYTES, or garbles it, is stopped (the channel must
  // still be read to its end, so a flood would otherwise keep this process busy for the whole run).
  private readControl(control: net.Socket): void {
    this.control = control;
    let buffered = '';
    let received = 0;
    let started = false;
    control.setEncoding('utf8');
    control.on('error', () => {});
    control.on('data', (text: string) => {
      received += text.length;
      if (received > MAX_CONTROL_BYTES) return this.tampered();
      buffered += text;
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        let message: PodMessage;
        try {
          message = JSON.parse(buffered.slice(0, nl)) as PodMessage;
        } catch {
          return this.tampered();
        }
        buffered = buffered.slice(nl + 1);
        if (!started) for (const l of this.listeners) l(message);
        else if (message?.type === 'outward-reset') this.resetOutward(Number(message.port), Number(message.source));
        if (message?.type === 'started') started = true;
      }
    });
  }

  private tampered(): void {
    if (this.destroying) return;
    this.onTamper();
    void this.destroy();
  }

  private on(listener: (m: PodMessage) => void): void {
    this.listeners.add(listener);
  }

  private send(message: unknown): void {
    if (this.control?.writable) this.control.write(JSON.stringify(message) + '\n');
  }

  /** Whether the pod was made for these limits (its node's heap limit, its output cap). */
  fits(limits: RunLimits): boolean {
    return limits.memoryMb === this.options.memoryMb && limits.outputBytes === this.options.outputBytes;
  }

  /** The pod is wanted now: it leaves the warming group (again once booted, for processes forked meanwhile). */
  promote(): void {
    if (!this.options.warming) return;
    void this.cgroup.promote();
    void this.ready.then(() => this.cgroup.promote(), () => {});
  }

  /** Gives the pod its program; resolves when the program starts (rejects if it cannot). */
  async run(job: PodJob): Promise<void> {
    await this.ready;
    const work = path.join(this.dir, 'work');
    const files = (await readdir(job.programDir, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
    await Promise.all([
      ...job.services.map((service) => this.listen(`port-${service.port}.sock`, (socket) => this.acceptOutward(socket, service.port, service.accept))),
      ...job.datagramServices.map((service) => this.listen(`udp-${service.port}.sock`, (socket) => this.acceptDatagrams(socket, service))),
      ...files.map(async (name) => {
        await copyFile(path.join(job.programDir, name), path.join(work, name));
        await chmod(path.join(work, name), 0o644);
      }),
    ]);
    const started = new Promise<void>((resolve, reject) => {
      this.on((m) => {
        if (m.type === 'started') resolve();
        if (m.type === 'failed') reject(new Error(`the sandbox could not start the program: ${String(m.message).slice(0, 500)}`));
      });
      void this.exited.then(() => reject(new Error('the sandbox ended before the program started')));
    });
    this.send({
      type: 'job',
      entry: job.entry,
      env: job.env,
      bridgedPorts: job.services.map((s) => s.port),
      datagramPorts: job.datagramServices.map((s) => s.port),
    });
    await started;
  }

  /** A connection to `port` inside the pod (the grader reaching the learner's server). */
  connect(port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      if (this.destroying) return reject(refused(port));
      const id = this.nextConnectId++;
      const timer = setTimeout(() => settle(() => reject(refused(port))), CONNECT_WITHIN_MS);
      const settle = (then: () => void) => {
        clearTimeout(timer);
        this.pendingConnects.delete(id);
        then();
      };
      this.pendingConnects.set(id, {
        resolve: (socket) => settle(() => resolve(socket)),
        refuse: () => settle(() => reject(refused(port))),
      });
      this.send({ type: 'connect', id, port });
    });
  }

  /** Serves `accept` on a unix socket of the pod's sock/ directory. */
  private async listen(name: string, accept: (s: net.Socket) => void): Promise<void> {
    const file = path.join(this.dir, 'sock', name);
    // Not half-open: these sockets behave as the TCP sockets they stand for (the grader's own
    // connections, the services' accepted ones), which end their side when the peer ends.
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      accept(socket);
    });
    this.hostServers.push(server);
    // A program's connections come straight here (pod-relay.mjs connectDirectly): a unix socket whose
    // backlog is full refuses a connect with EAGAIN, where TCP would wait. A backlog above the pod's
    // open-files limit means a program can never have enough connects pending to fill it.
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ path: file, backlog: UNIX_BACKLOG }, resolve));
    if (this.destroying) return void server.close(); // destroyed while it started listening
    await chmod(file, 0o666);
  }

  // A connection from the program to a service: 2 bytes of its source port, then the stream. The
  // service sees the same socket semantics and the same view of the peer as on its own TCP port.
  private acceptOutward(socket: net.Socket, port: number, accept: (s: net.Socket) => void): void {
    takeHeader(socket, 2, (header) => {
      const source = header.readUInt16BE(0);
      Object.defineProperties(socket, {
        remoteAddress: { value: '127.0.0.1' },
        remotePort: { value: source },
        remoteFamily: { value: 'IPv4' },
        localAddress: { value: '127.0.0.1' },
        localPort: { value: port },
      });
      const key = `${port}:${source}`;
      this.outward.set(key, socket);
      socket.once('close', () => this.outward.get(key) === socket && this.outward.delete(key));
      accept(socket);
    });
  }

  // The program reset its connection (a unix socket cannot carry a TCP reset): the service sees the
  // error a reset brings, as on its own TCP port.
  private resetOutward(port: number, source: number): void {
    const socket = this.outward.get(`${port}:${source}`);
    if (!socket || socket.destroyed) return;
    socket.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' }));
  }

  // Datagrams the program sent to a datagram service's port, framed on a stream by the pod's relay;
  // the service's replies go back the same way. Untrusted like everything from the pod: a frame is at
  // most one datagram (the reader holds no more), and replies to a relay that stops reading are dropped
  // (as UDP may drop anything).
  private acceptDatagrams(socket: net.Socket, service: DatagramService): void {
    const reader = new DatagramFrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const { port, payload } of reader.push(chunk)) {
        service.receive(payload, { address: '127.0.0.1', port }, (reply) => {
          if (reply.length > MAX_DATAGRAM_BYTES || socket.writableLength > MAX_UNSENT_DATAGRAM_BYTES || socket.destroyed) return;
          socket.write(encodeDatagramFrame(port, reply));
        });
      }
    });
  }

  // The pod's answer to a connect request: 4 bytes of request id, 1 status byte, then the stream.
  // Anything that does not answer a pending request (the program can connect here too) is dropped.
  private acceptInward(socket: net.Socket): void {
    takeHeader(socket, 5, (header) => {
      const pending = this.pendingConnects.get(header.readUInt32BE(0));
      if (!pending || header[4] !== 1) {
        socket.destroy();
        return pending?.refuse();
      }
      const id = header.readUInt32BE(0);
      // A unix socket cannot send a TCP reset: the pod resets the inside connection on request,
      // and then closes this socket itself (closing it first would end the connection politely).
      Object.assign(socket, {
        resetAndDestroy: () => {
          socket.pause();
          if (!this.control?.writable) return socket.destroy();
          this.send({ type: 'reset', id });
          setTimeout(() => socket.destroy(), CONNECT_WITHIN_MS).unref();
          return socket;
        },
      });
      pending.resolve(socket);
    });
  }

  private async whenEnded(): Promise<PodExit> {
    const child = this.child;
    if (!child?.pid) return { code: null, signal: null, memoryLimitHit: false };
    await this.closed;
    const memoryLimitHit = await this.cgroup.memoryLimitHit();
    return { ...decodeExit(child.exitCode, child.signalCode), memoryLimitHit };
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
      for (const pending of this.pendingConnects.values()) pending.refuse();
      this.destroying = (async () => {
        await this.cgroup.killAll(); // anything that escaped the process group
        await this.exited; // its output drained, and the kernel's memory verdict read before the cgroup goes
        await this.cgroup.remove();
        await rm(this.dir, { recursive: true, force: true });
        this.settleGone();
      })();
    }
    return this.destroying;
  }
}

function refused(port: number): Error {
  return Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
}

/**
 * Reads exactly `length` bytes, then hands the socket over unread: as a socket nobody has read from
 * yet, so a consumer that pauses it (to hold the peer's bytes back) stays in control, and a 'data'
 * listener alone starts the flow.
 */
function takeHeader(socket: net.Socket, length: number, then: (header: Buffer) => void): void {
  let received = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    if (received.length < length) return;
    socket.removeListener('data', onData);
    socket.pause();
    if (received.length > length) socket.unshift(received.subarray(length));
    (socket as { readableFlowing: boolean | null }).readableFlowing = null; // typed read-only; Node has a setter
    then(received.subarray(0, length));
  };
  socket.on('data', onData);
}

/** bubblewrap exits with the program's code, or 128 + the signal that ended it. */
function decodeExit(code: number | null, signal: NodeJS.Signals | null): { code: number | null; signal: string | null } {
  if (signal || code === null) return { code: null, signal: signal ?? 'SIGKILL' };
  if (code > 128) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return { code: null, signal: name };
  }
  return { code, signal: null };
}
