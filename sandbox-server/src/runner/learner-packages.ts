// The npm packages learner code may import, with everything they depend on, as directories to
// bind read-only into the sandbox at /node_modules/<name>.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config.ts';

export const LEARNER_PACKAGES = ['ws', 'socket.io-client'];

export function packageDirs(roots = LEARNER_PACKAGES): Map<string, string> {
  const dirs = new Map<string, string>();
  const visit = (name: string, from: string) => {
    if (dirs.has(name)) return;
    const manifest = findManifest(name, from);
    if (!manifest) return; // an optional dependency that is not installed
    const dir = path.dirname(manifest);
    dirs.set(name, dir);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir);
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
