// `npm run bench`: time from submission to verdict for each benchmarked exercise's solution
// (tcp-echo-server, ws-echo-server, sio-event-server, sio-redis-scaling; BENCH_EXERCISES=a,b to choose), through
// POST /api/exercises/:id/submissions. Prints figures; asserts nothing about time.
//
//   sequential  BENCH_RUNS submissions one after another, warm server (pods ready)
//   burst       BENCH_BURST concurrent submissions, warm server
//   cold burst  the first exercise's burst on a server that keeps no pod ready: every grading also
//               pays for starting its sandbox, as under load that outlasts the warm pool
//
// Each phase also prints the CPU the whole machine spent per grading (/proc/stat: it includes the
// kernel's work for namespaces and cgroups, which no process's rusage shows).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { startServer } from '../src/main.ts';
import { REFERENCE_SERVERS } from '../src/reference-servers/registry.ts';

/** Each shared reference server on a free port: other servers may run on this machine. */
const EVERY_REFERENCE_SERVER_ON_A_FREE_PORT = Object.fromEntries(Object.values(REFERENCE_SERVERS).map((s) => [s.env, '0']));

const SEQUENTIAL = Number(process.env.BENCH_RUNS ?? 30);
const BURST = Number(process.env.BENCH_BURST ?? 20);
const COLD = process.env.BENCH_COLD !== '0';
const WARMUP = 3;
const EXERCISES = (process.env.BENCH_EXERCISES ?? 'tcp-echo-server,ws-echo-server,sio-event-server,sio-redis-scaling')
  .split(',')
  .filter((id) => existsSync(path.join(PROJECT_ROOT, 'exercises', id, 'solution.ts')))
  .map((id) => ({ id, code: readFileSync(path.join(PROJECT_ROOT, 'exercises', id, 'solution.ts'), 'utf8') }));
type Exercise = (typeof EXERCISES)[number];

type Server = Awaited<ReturnType<typeof startServer>>;
interface Graded {
  ms: number;
  status: string;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Whole-machine CPU time so far (seconds). Linux only. */
function machineCpu(): { user: number; system: number; idle: number } | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const hz = 100; // USER_HZ
  return { user: (user + nice) / hz, system: (system + irq + softirq) / hz, idle: (idle + iowait) / hz };
}

/** Runs `work` (which grades `count` submissions) and describes the CPU the machine spent on it. */
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
    `idle ${(after.idle - before.idle).toFixed(1)} s), of which the server process ${((serverCpu.user + serverCpu.system) / 1e6 / count).toFixed(2)}`;
  return { result, cpu };
}

// A burst is queued, not refused: the queue holds it whole and the rate limit (one client,
// 127.0.0.1) is off. RUN_SLOTS and SANDBOX_WARM_PODS are left as configured, except for the cold burst.
async function start(env: Record<string, string> = {}): Promise<Server> {
  return startServer(
    loadConfig({ RUN_QUEUE: String(BURST), ...process.env, ...env, RATE_LIMIT_PER_MIN: '0', PORT: '0', ...EVERY_REFERENCE_SERVER_ON_A_FREE_PORT, LOG_REQUESTS: '0' }),
  );
}

async function submit(server: Server, exercise: Exercise): Promise<Graded> {
  const t = performance.now();
  const res = await fetch(`${server.url}/api/exercises/${exercise.id}/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: exercise.code }),
  });
  const verdict = (await res.json()) as { status: string };
  return { ms: performance.now() - t, status: verdict.status };
}

/** Waits until the server is warm: its pods started ahead of time are all ready. */
const warm = (server: Server) => server.services.harness.isolation.whenWarm?.();

async function sequential(server: Server, exercise: Exercise, runs: number): Promise<void> {
  await warm(server);
  const { result, cpu } = await measureCpu(runs, async () => {
    const graded: Graded[] = [];
    for (let i = 0; i < runs; i++) graded.push(await submit(server, exercise));
    return graded;
  });
  const times = result.map((r) => r.ms).sort((a, b) => a - b);
  const passed = result.filter((r) => r.status === 'pass').length;
  console.log(`${exercise.id} sequential: ${runs} submissions of its solution, warm server`);
  console.log(`  median ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms, passed ${passed}/${runs}`);
  console.log(`  ${cpu}`);
}

async function burst(server: Server, exercise: Exercise, size: number, label: string): Promise<void> {
  await warm(server);
  const t = performance.now();
  const { result, cpu } = await measureCpu(size, () => Promise.all(Array.from({ length: size }, () => submit(server, exercise))));
  const seconds = (performance.now() - t) / 1000;
  const passed = result.filter((r) => r.status === 'pass').length;
  console.log(`${exercise.id} ${label}: ${size} concurrent submissions in ${seconds.toFixed(2)} s = ${(size / seconds).toFixed(1)} gradings/s, passed ${passed}/${size}`);
  console.log(`  ${cpu}`);
}

const server = await start();
try {
  const { isolation } = server.services.harness.isolation;
  console.log(`isolation: ${isolation}, run slots: ${server.services.slots.slots}, warm pods: ${isolation === 'bwrap' ? server.services.harness.config.warmPods : 'none'}`);
  for (const exercise of EXERCISES) {
    for (let i = 0; i < WARMUP; i++) await submit(server, exercise);
    if (SEQUENTIAL > 0) await sequential(server, exercise, SEQUENTIAL);
    if (BURST > 0) await burst(server, exercise, BURST, 'burst');
  }
} finally {
  await server.close();
}

if (COLD && BURST > 0 && EXERCISES.length > 0) {
  const cold = await start({ SANDBOX_WARM_PODS: '0' });
  try {
    for (let i = 0; i < WARMUP; i++) await submit(cold, EXERCISES[0]);
    await burst(cold, EXERCISES[0], BURST, 'cold burst (no pod ready: each grading starts its sandbox)');
  } finally {
    await cold.close();
  }
}
