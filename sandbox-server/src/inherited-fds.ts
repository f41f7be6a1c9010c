// Descriptors this process inherited but never uses would pass on to every process it starts,
// learner programs in their sandboxes included: Node marks only the low inherited descriptors
// (0-15) close-on-exec at start-up, so e.g. a CI runner's or supervisor's open fd 251 reached every
// pod and every learner program, which could write to it. The entry point closes them first thing.
import { closeSync, readdirSync, readFileSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

/**
 * Closes every descriptor above 2 that is not close-on-exec (Node opens all of its own with
 * close-on-exec; an IPC channel from a parent is kept). Returns the descriptors it closed.
 */
export function closeInheritedDescriptors(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return []; // not Linux
  }
  const ipc = Number(process.env.NODE_CHANNEL_FD ?? -1);
  const closed: number[] = [];
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || fd <= 2 || fd === ipc) continue;
    let flags: number;
    try {
      flags = parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '', 8);
    } catch {
      continue; // the directory listing's own descriptor, already closed
    }
    if (Number.isNaN(flags) || flags & O_CLOEXEC) continue;
    try {
      closeSync(fd);
      closed.push(fd);
    } catch {
      // gone meanwhile
    }
  }
  return closed;
}
