// Shared machinery of the hostile-input suite: one real server process (strong isolation, short
// limits), request helpers that know how many runs are in flight, a bounded case scheduler, and
// host-side inspection of what the server's pods left behind (processes, cgroups, files).
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import WebSocket from 'ws';
import { ROOT, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { requireStrongIsolation } from '../support/prerequisites.ts';
import type { RunResult } from '../../src/shapes/run.ts';

export { ROOT };

/** The limits the suite's server runs with (the messages learners get are built from them). */
export const LIMITS = {
  /**
   * A 256 MB memory bomb needs ~1.5 s to reach the cap on an idle 2-core machine, but up to ~5 s when
   * the machine is heavily loaded (measured at load average 10); it must hit the memory cap first.
   */
  timeoutMs: 8000,
  memoryMb: 256,
  outputBytes: 1_000_000,
  maxCodeBytes: 100_000,
  warmPods: 3,
};
export const TIME_LIMIT_MESSAGE = `stopped after ${LIMITS.timeoutMs / 1000} s (time limit)`;
export const MEMORY_LIMIT_MESSAGE = `memory limit ${LIMITS.memoryMb} MB exceeded`;
export const OUTPUT_LIMIT_MESSAGE = 'output cut at 1 MB; the program was stopped';
/**
 * The server gets this extra descriptor, as a supervisor or CI runner may leave one open (this very
 * machine's tool runner leaves fd 251 open). Node marks inherited fds 0-15 close-on-exec at start-up,
 * so a leak shows only with a higher one.
 */
export const INHERITED_FD = 200;

const NOBODY = 65534;
const CGROUP_BASE = '/sys/fs/cgroup';
const CGROUP_GROUP = 'socket-mastery';

export type { RunResult };

export class HostileServer {
  /** Runs and grades of this suite that may hold a pod right now. */
  inFlight = 0;
  /** Everything that arrived on the test's end of the descriptor the server inherited. */
  readonly leakedToSupervisor: Buffer[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly url: string;
  private readonly inherited: Readable;

  private constructor(
    private readonly serverProcess: ServerProcess,
    readonly tmpBase: string,
  ) {
    this.child = serverProcess.child;
    this.exited = serverProcess.exited;
    this.url = serverProcess.url;
    this.inherited = (serverProcess.child.stdio as unknown as Readable[])[INHERITED_FD];
    this.inherited.on('data', (d: Buffer) => this.leakedToSupervisor.push(d));
    this.inherited.on('error', () => {});
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The server's own work directory (it claims `pid-N` under SANDBOX_TMP_DIR). */
  get workDir(): string {
    return path.join(this.tmpBase, `pid-${this.pid}`);
  }

  log(): string {
    return this.serverProcess.log();
  }

  static async start(): Promise<HostileServer> {
    requireStrongIsolation(); // else the server refuses to start; this says in one line what the host lacks
    const tmpBase = mkdtempSync(path.join(os.tmpdir(), 'sm-hostile-'));
    const env = {
      SANDBOX_TMP_DIR: tmpBase,
      SANDBOX_ISOLATION: 'bwrap', // strong isolation or the server refuses to start (and says why)
      SANDBOX_WARM_PODS: String(LIMITS.warmPods),
      RUN_TIMEOUT_MS: String(LIMITS.timeoutMs),
      RUN_MEMORY_MB: String(LIMITS.memoryMb),
      RUN_OUTPUT_BYTES: String(LIMITS.outputBytes),
      MAX_CODE_BYTES: String(LIMITS.maxCodeBytes),
      GRADE_TIMEOUT_MS: '15000',
      // This suite sends far more runs than a learner would; the rate limit has its own tests.
      RATE_LIMIT_IP_PER_MIN: '0',
      LOG_REQUESTS: '0',
    };
    try {
      return new HostileServer(await startServerProcess(env, { inheritFd: INHERITED_FD }), tmpBase);
    } catch (err) {
      rmSync(tmpBase, { recursive: true, force: true });
      throw err;
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const code = await this.exited;
    this.inherited.destroy();
    this.workDirAfterExit ??= existsSync(this.workDir) ? readdirSync(this.workDir, { recursive: true }).map(String) : null;
    rmSync(this.tmpBase, { recursive: true, force: true }); // the suite's own base; the server should have removed pid-N in it
    return code;
  }

  /** What was left of the server's work directory once it had exited (null: removed, as it should be). */
  workDirAfterExit?: string[] | null;

  // ---- requests ----

  async post(route: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    const res = await fetch(this.url + route, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${route} answered ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
    }
    return { status: res.status, json };
  }

  async tracked<T>(job: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await job();
    } finally {
      this.inFlight--;
    }
  }

  /** POST /api/run; fails the test unless the answer is 200. */
  /** A Run, as the Run button does it (`exerciseId`: with that exercise's limits and services). */
  async run(code: string, exerciseId?: string): Promise<RunResult> {
    const { status, json } = await this.tracked(() => this.post('/api/run', { code, ...(exerciseId && { exerciseId }) }));
    if (status !== 200) throw new Error(`/api/run answered ${status}: ${JSON.stringify(json)}`);
    return json;
  }

  async submit(exerciseId: string, code: string): Promise<any> {
    const { status, json } = await this.tracked(() => this.post(`/api/exercises/${exerciseId}/submissions`, { code }));
    if (status !== 200) throw new Error(`submission answered ${status}: ${JSON.stringify(json)}`);
    return json;
  }

  async health(): Promise<{ status: number; json: any }> {
    const res = await fetch(`${this.url}/api/health`);
    return { status: res.status, json: await res.json() };
  }

  async openWebSocket(): Promise<EditorSocket> {
    const ws = new WebSocket(this.url.replace('http', 'ws') + '/api/ws');
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new EditorSocket(ws, this);
  }

  // ---- host-side inspection ----

  /** Pod ids by the cgroups (pids and memory) this server created. */
  podCgroups(): { pids: number[]; memory: number[] } {
    const ids = (controller: string) =>
      safeReaddir(path.join(CGROUP_BASE, controller, CGROUP_GROUP))
        .map((name) => new RegExp(`^${this.pid}-pod-(\\d+)$`).exec(name)?.[1])
        .filter((id): id is string => id !== undefined)
        .map(Number);
    return { pids: ids('pids'), memory: ids('memory') };
  }

  cgroupDir(controller: 'pids' | 'memory', podId: number): string {
    return path.join(CGROUP_BASE, controller, CGROUP_GROUP, `${this.pid}-pod-${podId}`);
  }

  /** The cpu group pods boot in (on idle CPU only), if the server could set it up (it is optional). */
  get warmingCpuGroup(): string | undefined {
    const dir = path.join(CGROUP_BASE, 'cpu', CGROUP_GROUP, 'warming');
    const read = (file: string) => (existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), 'utf8').trim() : undefined);
    return read('cpu.idle') === '1' || read('cpu.shares') === '2' ? `/${CGROUP_GROUP}/warming` : undefined;
  }

  /** Everything this server's pods and runs left on the host right now. */
  snapshot(): Snapshot {
    const podsDir = path.join(this.workDir, 'pods');
    const podDirs = safeReaddir(podsDir)
      .map((name) => /^pod-(\d+)$/.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number);
    // A pod's work/ directory stays empty until the pod is given a program.
    const busyPods = podDirs.filter((id) => safeReaddir(path.join(podsDir, `pod-${id}`, 'work')).length > 0);
    const runDirs = safeReaddir(this.workDir).filter((name) => name.startsWith('run-'));
    // A run's own services (its Redis) and their directories live exactly as long as the run.
    const serviceDirs = safeReaddir(this.workDir).filter((name) => name.startsWith('services-'));
    const cgroups = this.podCgroups();
    const processes = listProcesses();
    const mine = new RegExp(`^/${CGROUP_GROUP}/${this.pid}-pod-(\\d+)$`);
    const podProcesses: ProcessInfo[] = [];
    const strays: string[] = [];
    for (const p of processes) {
      const pod = mine.exec(p.pidsCgroup ?? '')?.[1];
      if (pod !== undefined) {
        podProcesses.push(p);
        if (!podDirs.includes(Number(pod))) strays.push(`pid ${p.pid} (uid ${p.uid}, ${p.cmd}) still runs in pod ${pod}, which was destroyed`);
      } else if (p.uid === NOBODY && descendsFrom(p, this.pid, processes)) {
        strays.push(`pid ${p.pid} (${p.cmd}) runs as nobody under the server outside every pod cgroup`);
      }
    }
    const orphanCgroups = [...cgroups.pids.map((id) => `pids/${id}`), ...cgroups.memory.map((id) => `memory/${id}`)].filter(
      (entry) => !podDirs.includes(Number(entry.split('/')[1])),
    );
    const redisServers = processes.filter((p) => p.cmd.startsWith('redis-server') && descendsFrom(p, this.pid, processes)).map((p) => p.pid);
    return { podDirs, busyPods, runDirs, serviceDirs, redisServers, cgroups, podProcesses, strays, orphanCgroups };
  }

  /**
   * Polls until nothing is left over beyond what runs still in flight may hold: no process of a
   * destroyed pod, no nobody process outside the pods, no cgroup without its pod, no run directory
   * or busy pod more than runs in flight, no more pods than the warm ones plus those in use.
   */
  async leftovers(withinMs = 6000): Promise<string[]> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const allowed = this.inFlight;
      const s = this.snapshot();
      const problems = [
        ...s.strays,
        ...s.orphanCgroups.map((c) => `cgroup ${c} of a destroyed pod is still there`),
        ...(s.runDirs.length > allowed ? [`${s.runDirs.length} run directories left (${s.runDirs.join(', ')}) with ${allowed} runs in flight`] : []),
        ...(s.serviceDirs.length > allowed ? [`${s.serviceDirs.length} service directories left (${s.serviceDirs.join(', ')}) with ${allowed} runs in flight`] : []),
        ...(s.redisServers.length > allowed ? [`${s.redisServers.length} redis-server processes (${s.redisServers.join(', ')}) with ${allowed} runs in flight`] : []),
        ...(s.busyPods.length > allowed ? [`${s.busyPods.length} pods still hold a program (${s.busyPods.join(', ')}) with ${allowed} runs in flight`] : []),
        ...(s.podDirs.length > LIMITS.warmPods + allowed ? [`${s.podDirs.length} pods exist (${s.podDirs.join(', ')}): more than ${LIMITS.warmPods} warm + ${allowed} in use`] : []),
      ];
      if (problems.length === 0 || Date.now() > deadline) return problems;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The learner process running the program that contains `marker` (found through its pod's /work). */
  async findLearner(marker: string, withinMs = 5000): Promise<ProcessInfo> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      for (const p of this.snapshot().podProcesses) {
        if (p.cmd.split(' ')[1] !== '--experimental-permission') continue; // the pod's node process, not bubblewrap
        try {
          if (readFileSync(`/proc/${p.pid}/root/work/main.mjs`, 'utf8').includes(marker)) return p;
        } catch {
          // not this one, or gone
        }
      }
      if (Date.now() > deadline) throw new Error(`no learner process running a program with ${marker}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Open descriptors of the server process. */
  descriptors(): Map<number, string> {
    return descriptorsOf(this.pid);
  }
}

export interface Snapshot {
  podDirs: number[];
  busyPods: number[];
  runDirs: string[];
  serviceDirs: string[];
  redisServers: number[];
  cgroups: { pids: number[]; memory: number[] };
  podProcesses: ProcessInfo[];
  strays: string[];
  orphanCgroups: string[];
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  cmd: string;
  pidsCgroup?: string;
}

export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const cgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      const pidsCgroup = /^\d+:pids:(.*)$/m.exec(cgroup)?.[1];
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 300);
      out.push({ pid: Number(entry), ppid, uid, cmd, pidsCgroup });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function descendsFrom(p: ProcessInfo, ancestor: number, all: ProcessInfo[]): boolean {
  const byPid = new Map(all.map((q) => [q.pid, q]));
  for (let cur: ProcessInfo | undefined = p, hops = 0; cur && hops < 64; cur = byPid.get(cur.ppid), hops++) {
    if (cur.ppid === ancestor) return true;
  }
  return false;
}

export function descriptorsOf(pid: number | 'self'): Map<number, string> {
  const fds = new Map<number, string>();
  for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
    try {
      fds.set(Number(fd), readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile
    }
  }
  return fds;
}

export function readCgroupFile(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8').trim();
}

/** Bytes of regular files under `dir` (what a program could have put on the host's disk). */
export function diskBytes(dir: string): number {
  let total = 0;
  for (const name of safeReaddir(dir)) {
    const full = path.join(dir, name);
    try {
      const st = lstatSync(full); // a run directory links the project's node_modules: not the program's bytes
      if (st.isDirectory()) total += diskBytes(full);
      else if (st.isFile()) total += st.size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

function safeReaddir(dir: string): string[] {
  try {
    return existsSync(dir) ? readdirSync(dir) : [];
  } catch {
    return [];
  }
}

type Msg = { type: string; id?: string; [k: string]: any };

/** One editor connection to /api/ws, remembering every message. */
export class EditorSocket {
  readonly messages: Msg[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly open = new Set<string>();
  readonly closed: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    private readonly server: HostileServer,
  ) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Msg;
      this.messages.push(msg);
      if (msg.id && this.open.has(msg.id) && ['exit', 'verdict', 'error'].includes(msg.type)) this.finish(msg.id);
      this.waiters.forEach((w) => w());
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', () => {
        [...this.open].forEach((id) => this.finish(id));
        this.waiters.forEach((w) => w());
        resolve();
      }),
    );
  }

  private finish(id: string): void {
    if (this.open.delete(id)) this.server.inFlight--;
  }

  /** Sends a run or check; it counts as in flight until its exit/verdict/error or the socket closes. */
  start(message: { type: 'run' | 'check'; id: string; code: string; exerciseId?: string }): void {
    this.open.add(message.id);
    this.server.inFlight++;
    this.ws.send(JSON.stringify(message));
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  until(pred: (m: Msg) => boolean, ms = 20_000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(pred);
        if (found) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`socket closed; got ${JSON.stringify(this.messages).slice(0, 800)}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages).slice(0, 800)}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  /** Text of one job's output messages on one stream. */
  output(id: string, stream: 'stdout' | 'stderr' = 'stdout'): string {
    return this.messages
      .filter((m) => m.type === 'output' && m.id === id && m.stream === stream)
      .map((m) => m.text)
      .join('');
  }

  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

/** A counting semaphore: cases take `weight` slots, so heavy ones can run alone. */
export class Slots {
  private used = 0;
  private readonly queue: Array<{ weight: number; go: () => void }> = [];

  constructor(readonly capacity: number) {}

  async take<T>(weight: number, job: () => Promise<T>): Promise<T> {
    const w = Math.min(weight, this.capacity);
    if (this.used + w > this.capacity || this.queue.length > 0) {
      await new Promise<void>((go) => this.queue.push({ weight: w, go }));
    } else this.used += w;
    try {
      return await job();
    } finally {
      this.used -= w;
      this.pump();
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && this.used + this.queue[0].weight <= this.capacity) {
      const next = this.queue.shift()!;
      this.used += next.weight;
      next.go();
    }
  }
}
