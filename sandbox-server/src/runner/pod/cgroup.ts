// cgroup v1 memory and pids limits for one pod: a kernel-enforced memory cap (Buffers included,
// swap included where accounted) and a cap on tasks (processes and threads), so a heap bomb is
// OOM-killed at the cap and a fork bomb stops at pids.max. Where the cpu controller is available
// too, pods started ahead of time boot in a group that only gets CPU nobody else wants, so
// refilling the warm pool never slows the gradings running meanwhile.
import { access, mkdir, readdir, readFile, rmdir, writeFile, constants } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from '../is-alive.ts';

export interface CgroupRoots {
  memory: string;
  pids: string;
  /** The cpu controller's group for pods, if usable: running pods join it, warming pods its `warming` child. */
  cpu?: string;
}

/** The parent groups this server may create pod groups in, or the reason it cannot. */
export async function findCgroupRoots(base = '/sys/fs/cgroup', group = 'socket-mastery'): Promise<CgroupRoots | string> {
  const roots: CgroupRoots = { memory: path.join(base, 'memory', group), pids: path.join(base, 'pids', group) };
  for (const dir of [roots.memory, roots.pids]) {
    try {
      await usableGroup(dir);
    } catch (err) {
      return `cgroup v1 group ${dir} is not usable (${(err as Error).message}); create it and give it to the server's user`;
    }
  }
  roots.cpu = await warmingGroup(path.join(base, 'cpu', group));
  return roots;
}

async function usableGroup(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK);
  await access(path.join(dir, 'cgroup.procs'), constants.W_OK);
}

/** `dir` with a `warming` child that gets only idle CPU, or undefined where that cannot be set up (optional). */
async function warmingGroup(dir: string): Promise<string | undefined> {
  try {
    await usableGroup(dir);
    await usableGroup(path.join(dir, 'warming'));
    // cpu.idle (Linux 5.15+) runs the group only when no other task wants the CPU; else a minimal weight.
    await writeFile(path.join(dir, 'warming', 'cpu.idle'), '1').catch(() => writeFile(path.join(dir, 'warming', 'cpu.shares'), '2'));
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Removes the pod groups of servers that are gone (killed before they could clean up), with
 * anything still running in them.
 */
export async function sweepDeadServers(roots: CgroupRoots): Promise<void> {
  const names = new Set((await readdir(roots.pids).catch(() => [] as string[])).filter((n) => /^\d+-pod-\d+$/.test(n)));
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (pid === process.pid || isAlive(pid)) continue;
    await new PodCgroup(roots, name).remove();
  }
}

export class PodCgroup {
  readonly memoryDir: string;
  readonly pidsDir: string;
  private readonly cpuDir: string | undefined;

  constructor(roots: CgroupRoots, name: string) {
    this.memoryDir = path.join(roots.memory, name);
    this.pidsDir = path.join(roots.pids, name);
    this.cpuDir = roots.cpu;
  }

  async create(memoryBytes: number, maxTasks: number): Promise<void> {
    await mkdir(this.memoryDir, { recursive: true });
    await mkdir(this.pidsDir, { recursive: true });
    await this.setMemory(memoryBytes);
    await writeFile(path.join(this.pidsDir, 'pids.max'), String(maxTasks));
  }

  async setMemory(bytes: number): Promise<void> {
    // memsw must stay >= the memory limit, so lower/raise them in the order the kernel accepts.
    const mem = path.join(this.memoryDir, 'memory.limit_in_bytes');
    const memsw = path.join(this.memoryDir, 'memory.memsw.limit_in_bytes');
    const current = Number(await readFile(mem, 'utf8').catch(() => '0'));
    const order = bytes < current ? [mem, memsw] : [memsw, mem];
    for (const file of order) await writeFile(file, String(bytes)).catch(() => {}); // memsw absent without swap accounting
  }

  /** The files a shell writes its pid to, to join the groups before it execs the sandbox. */
  procFiles(warming: boolean): string[] {
    const files = [path.join(this.memoryDir, 'cgroup.procs'), path.join(this.pidsDir, 'cgroup.procs')];
    if (this.cpuDir) files.push(path.join(this.cpuDir, warming ? 'warming' : '', 'cgroup.procs'));
    return files;
  }

  /** Moves the pod's processes out of the warming group: it runs a program now, at normal priority. */
  async promote(): Promise<void> {
    if (!this.cpuDir) return;
    const procs = await readFile(path.join(this.pidsDir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) {
      await writeFile(path.join(this.cpuDir, 'cgroup.procs'), pid).catch(() => {}); // it may have exited
    }
  }

  /** Whether the kernel had to stop the pod at its memory cap. */
  async memoryLimitHit(): Promise<boolean> {
    const oom = await readFile(path.join(this.memoryDir, 'memory.oom_control'), 'utf8').catch(() => '');
    const kills = Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? 0);
    const failcnt = Number(await readFile(path.join(this.memoryDir, 'memory.failcnt'), 'utf8').catch(() => '0'));
    return kills > 0 || failcnt > 0;
  }

  /** Kills whatever is still in the group. */
  async killAll(): Promise<void> {
    const procs = await readFile(path.join(this.pidsDir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await rmdir(this.memoryDir).catch((e) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
        await rmdir(this.pidsDir).catch((e) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
        return;
      } catch {
        await this.killAll();
        await new Promise((r) => setTimeout(r, 20)); // tasks take a moment to leave after SIGKILL
      }
    }
  }
}
