// Chooses the isolation layer: "bwrap" (pods: bubblewrap namespaces + cgroups) where the host
// supports it, else "process" (a plain process with limits) with a loud warning, or a refusal to
// start when SANDBOX_REQUIRE_ISOLATION=1.
import { execFileSync } from 'node:child_process';
import type { Config } from '../config.ts';
import type { Isolation } from './learner-process.ts';
import { ProcessIsolation } from './process-isolation.ts';
import { PodIsolation } from './pod/pod-isolation.ts';
import { findCgroupRoots } from './pod/cgroup.ts';

export class IsolationUnavailableError extends Error {}

/** Why strong isolation cannot be used here, or undefined when it can. */
async function strongIsolationProblem(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `the host is ${process.platform}, not Linux`;
  try {
    execFileSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true'], { stdio: 'pipe', timeout: 5000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    return e.code === 'ENOENT' ? 'bubblewrap (bwrap) is not installed' : `bubblewrap cannot create namespaces here: ${e.stderr?.toString().trim() || e.message}`;
  }
  const roots = await findCgroupRoots();
  return typeof roots === 'string' ? roots : undefined;
}

export async function createIsolation(config: Config, log: (line: string) => void = console.warn): Promise<Isolation> {
  const wanted = config.isolation;
  if (wanted !== 'process') {
    const problem = await strongIsolationProblem();
    if (!problem) {
      const roots = await findCgroupRoots();
      if (typeof roots === 'string') throw new Error(roots);
      const sandbox = new PodIsolation({
        workDir: config.tmpDir,
        cgroups: roots,
        warm: config.warmPods,
        maxCpuSeconds: Math.ceil(Math.max(config.limits.timeoutMs, config.grade.processTimeoutMs) / 1000) + 1,
        defaultLimits: config.limits,
      });
      try {
        await sandbox.warmUp();
        return sandbox;
      } catch (err) {
        await sandbox.shutdown();
        if (config.requireIsolation || wanted === 'bwrap') throw new IsolationUnavailableError(`strong isolation failed to start: ${(err as Error).message}`);
        log(`WARNING: strong isolation failed to start (${(err as Error).message}); falling back to process isolation`);
      }
    } else {
      if (config.requireIsolation || wanted === 'bwrap') throw new IsolationUnavailableError(`strong isolation is required but unavailable: ${problem}`);
      log(
        `WARNING: learner code runs with process-level limits only (${problem}). Learner programs can reach this host's ` +
          'loopback services and are not in their own namespaces. Install bubblewrap and give the server a cgroup (see README, ' +
          '"Security model"), or set SANDBOX_REQUIRE_ISOLATION=1 to refuse to start without it.',
      );
    }
  }
  return new ProcessIsolation(config.tmpDir);
}
