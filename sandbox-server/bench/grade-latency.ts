// `npm run bench`: time from submission to verdict for tcp-echo-server's solution, with a warm
// server, through POST /api/exercises/:id/submissions. Prints figures; asserts nothing about time.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { startServer } from '../src/main.ts';

const SEQUENTIAL = Number(process.env.BENCH_RUNS ?? 30);
const BURST = Number(process.env.BENCH_BURST ?? 20);
const WARMUP = 3;
const exerciseId = 'tcp-echo-server';
const code = readFileSync(path.join(PROJECT_ROOT, 'exercises', exerciseId, 'solution.ts'), 'utf8');

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Whole-machine CPU time so far (user, system, idle; seconds), from /proc/stat: it includes the
 * kernel's own work for namespaces and cgroups, which no process's rusage shows. Linux only. */
function machineCpu(): { user: number; system: number; idle: number } | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const hz = 100; // USER_HZ
  return { user: (user + nice) / hz, system: (system + irq + softirq) / hz, idle: (idle + iowait) / hz };
}

// The burst measures throughput through the run slots, so it is queued, not refused: the queue holds
// the whole burst and the rate limit (one client, 127.0.0.1) is off. RUN_SLOTS is left as configured.
const server = await startServer(
  loadConfig({ RUN_QUEUE: String(BURST), ...process.env, RATE_LIMIT_PER_MIN: '0', PORT: '0', ECHO_PORT: '0', CHAT_PORT: '0', UDP_ECHO_PORT: '0', LOG_REQUESTS: '0' }),
);
const submit = async (): Promise<{ ms: number; status: string }> => {
  const t = performance.now();
  const res = await fetch(`${server.url}/api/exercises/${exerciseId}/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  const verdict = (await res.json()) as { status: string };
  return { ms: performance.now() - t, status: verdict.status };
};

/** Runs `work` (which grades `count` submissions) and describes the CPU the whole machine spent on it. */
async function measureCpu<T>(count: number, work: () => Promise<T>): Promise<{ result: T; cpu: string }> {
  const before = machineCpu();
  const serverBefore = process.cpuUsage();
  const result = await work();
  const after = machineCpu();
  const serverCpu = process.cpuUsage(serverBefore);
  if (!before || !after) return { result, cpu: 'machine CPU: not measured (no /proc/stat)' };
  const user = after.user - before.user;
  const system = after.system - before.system;
  const cpu =
    `machine CPU ${((user + system) / count).toFixed(2)} CPU-s per grading (user ${user.toFixed(1)} s, system ${system.toFixed(1)} s, ` +
    `idle ${(after.idle - before.idle).toFixed(1)} s), of which this server process ${((serverCpu.user + serverCpu.system) / 1e6 / count).toFixed(2)}`;
  return { result, cpu };
}

try {
  console.log(`isolation: ${server.services.harness.sandbox.isolation}, run slots: ${server.services.slots.slots}`);
  for (let i = 0; i < WARMUP; i++) await submit();
  if (SEQUENTIAL > 0) {
    const { result: runs, cpu } = await measureCpu(SEQUENTIAL, async () => {
      const runs: Array<{ ms: number; status: string }> = [];
      for (let i = 0; i < SEQUENTIAL; i++) runs.push(await submit());
      return runs;
    });
    const times = runs.map((r) => r.ms).sort((a, b) => a - b);
    const passed = runs.filter((r) => r.status === 'pass').length;
    console.log(`sequential: ${SEQUENTIAL} submissions of ${exerciseId}'s solution, warm server`);
    console.log(`  median ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms, passed ${passed}/${SEQUENTIAL}`);
    console.log(`  ${cpu}`);
  }
  if (BURST > 0) {
    const t = performance.now();
    const { result: burst, cpu } = await measureCpu(BURST, () => Promise.all(Array.from({ length: BURST }, submit)));
    const seconds = (performance.now() - t) / 1000;
    const passed = burst.filter((r) => r.status === 'pass').length;
    console.log(`burst: ${BURST} concurrent submissions in ${seconds.toFixed(2)} s = ${(BURST / seconds).toFixed(1)} gradings/s, passed ${passed}/${BURST}`);
    console.log(`  ${cpu}`);
  }
} finally {
  await server.close();
}
