// Each server process works in its own directory under the configured base (several servers, test
// runs and scripts may share one machine). Directories left by processes that died are removed.
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function claimWorkDir(base: string): Promise<string> {
  // 0o711: a learner running as another user can reach its run directory but not list others.
  await mkdir(base, { recursive: true });
  await chmod(base, 0o711);
  for (const entry of await readdir(base)) {
    const pid = Number(/^pid-(\d+)$/.exec(entry)?.[1]);
    if (pid && pid !== process.pid && !isAlive(pid)) await rm(path.join(base, entry), { recursive: true, force: true });
  }
  const dir = path.join(base, `pid-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o711 });
  return dir;
}
