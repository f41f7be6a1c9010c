// `npm run bench`: time from submission to verdict for tcp-echo-server's solution, with a warm
// server, through POST /api/exercises/:id/submissions. Prints figures; asserts nothing about time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { startServer } from '../src/main.ts';

const SEQUENTIAL = Number(process.env.BENCH_RUNS ?? 30);
const BURST = Number(process.env.BENCH_BURST ?? 20);
const WARMUP = 3;
const exerciseId = 'tcp-echo-server';
const code = readFileSync(path.join(PROJECT_ROOT, 'exercises', exerciseId, 'solution.ts'), 'utf8');

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

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

try {
  for (let i = 0; i < WARMUP; i++) await submit();
  const times: number[] = [];
  let wrong = 0;
  for (let i = 0; i < SEQUENTIAL; i++) {
    const r = await submit();
    times.push(r.ms);
    if (r.status !== 'pass') wrong++;
  }
  times.sort((a, b) => a - b);
  console.log(`isolation: ${server.services.harness.sandbox.isolation}, run slots: ${server.services.slots.slots}`);
  console.log(`sequential: ${SEQUENTIAL} submissions of ${exerciseId}'s solution, warm server`);
  console.log(`  median ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms, not passed: ${wrong}`);

  const t = performance.now();
  const burst = await Promise.all(Array.from({ length: BURST }, submit));
  const seconds = (performance.now() - t) / 1000;
  const passed = burst.filter((r) => r.status === 'pass').length;
  console.log(`burst: ${BURST} concurrent submissions in ${seconds.toFixed(2)} s = ${(BURST / seconds).toFixed(1)} gradings/s, passed ${passed}/${BURST}`);
} finally {
  await server.close();
}
