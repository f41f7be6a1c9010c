// The npm packages learner code may import: one list for both isolation layers. A pod binds each
// (with everything it depends on) read-only at /node_modules/<name>; a plain process gets a
// node_modules directory of links to exactly the same directories, and may read only those.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../config.ts';

// socket.io and its client for the Socket.IO section; the Redis adapter and node-redis for its
// scaling lesson (each run that needs one gets its own redis-server; see harness/run-redis.ts).
export const LEARNER_PACKAGES = ['ws', 'socket.io', 'socket.io-client', '@socket.io/redis-adapter', 'redis'];

export function packageDirs(roots = LEARNER_PACKAGES): Map<string, string> {
  const dirs = new Map<string, string>();
  const visit = (name: string, from: string) => {
    if (dirs.has(name)) return;
    const manifest = findManifest(name, from);
    if (!manifest) return; // an optional dependency that is not installed
    const dir = path.dirname(manifest);
    dirs.set(name, dir);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    // A peer dependency (the Redis adapter's socket.io-adapter) is what the package imports too.
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) visit(dep, dir);
  };
  for (const name of roots) visit(name, PROJECT_ROOT);
  return dirs;
}

/** A package's package.json as Node would find it from `from` (its "exports" may hide package.json). */
function findManifest(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Writes `dir` as a node_modules directory holding a link to each learner package and each of its
 * dependencies (the same set a pod sees at /node_modules), and returns the real directories a
 * program may read.
 */
export async function linkLearnerPackages(dir: string): Promise<string[]> {
  const dirs = packageDirs();
  for (const [name, real] of dirs) {
    const link = path.join(dir, name); // a scoped name (@scope/pkg) is a folder and a link
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(real, link, 'dir');
  }
  return [...dirs.values()];
}
