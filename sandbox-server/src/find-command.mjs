// Where a command is on PATH. Plain JavaScript so that set-up (scripts/setup.mjs, which runs before
// `npm ci`) and the server (health's view of redis-server) share one lookup.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The absolute path of `command` on PATH, or undefined. */
export function findCommand(command, searchPath = process.env.PATH ?? '') {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
