// Process-level memory cap: polls the resident set size (which counts Buffers and other off-heap
// memory, unlike --max-old-space-size) and reports when it goes over. The kernel-enforced cgroup cap
// of the isolated mode replaces this; here it is the best a plain process can do.
import { readFile } from 'node:fs/promises';

const PAGE_SIZE = 4096;

export async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const statm = await readFile(`/proc/${pid}/statm`, 'utf8');
    return Number(statm.split(' ')[1]) * PAGE_SIZE;
  } catch {
    return undefined; // gone, or not Linux
  }
}

export function watchMemory(pid: number, limitBytes: number, onExceeded: (rss: number) => void, intervalMs = 20): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const rss = await residentBytes(pid);
    if (stopped || rss === undefined) return;
    if (rss > limitBytes) {
      onExceeded(rss);
      return;
    }
    timer = setTimeout(tick, intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
