// Each server process works in its own directory under the configured base (several servers, test
// runs and scripts may share one machine). Directories left by processes that died are removed.
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from '../runner/is-alive.ts';


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
