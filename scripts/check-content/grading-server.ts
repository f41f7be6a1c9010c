// The real grading path for the checks: the sandbox server started as its own process (as `npm
// start` runs it) on the content's exercises folder, with submissions and runs POSTed to its API.
import os from 'node:os';
import { startServerProcess, type ServerProcess } from '../../sandbox-server/test/support/server-process.ts';
import { verdictSchema, type Verdict as ServerVerdict } from '../../sandbox-server/src/shapes/verdict.ts';
import { runResultSchema, type RunResult } from '../../sandbox-server/src/shapes/run.ts';

// The server's own shapes, checked on arrival: a verdict (less its format version, which the checker never reads) and a run.
export type Verdict = Omit<ServerVerdict, 'version'>;
export type { RunResult };

export interface GradingServer {
  url: string;
  submit(exerciseId: string, code: string): Promise<Verdict>;
  /** Runs as the Run button does; with an exercise id, with that exercise's limits and services (as a Playground with exercise="<id>"). */
  run(code: string, exerciseId?: string): Promise<RunResult>;
  stop(): Promise<void>;
}

/** How many submissions and runs are in flight at once: they mostly wait on sockets and timeouts. */
export const CONCURRENCY = Math.max(4, os.availableParallelism() * 3);

export async function startGradingServer(exercisesDir: string): Promise<GradingServer> {
  const server: ServerProcess = await startServerProcess({
    EXERCISES_DIR: exercisesDir,
    LOG_REQUESTS: '0',
    // the checker is one trusted client sending many requests: no rate limit, a slot for each
    RATE_LIMIT_PER_MIN: '0',
    RUN_SLOTS: String(CONCURRENCY),
    // SANDBOX_ISOLATION=process npm run check:content grades without the bubblewrap pods
    ...(process.env.SANDBOX_ISOLATION ? { SANDBOX_ISOLATION: process.env.SANDBOX_ISOLATION } : {}),
  });
  const limit = pool(CONCURRENCY);
  const post = (path: string, body: unknown) => limit(() => postWithRetry(`${server.url}${path}`, body));
  return {
    url: server.url,
    submit: (id, code) => post(`/api/exercises/${encodeURIComponent(id)}/submissions`, { code }).then((body) => verdictSchema.parse(body)),
    run: (code, exerciseId) => post('/api/run', { code, exerciseId }).then((body) => runResultSchema.parse(body)),
    async stop() {
      await server.stop();
    },
  };
}

/** POSTs JSON; on 429 or 503 waits as long as the server asks (Retry-After) and tries again. */
async function postWithRetry(url: string, body: unknown): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string; retryAfter?: number } };
    if ((res.status === 429 || res.status === 503) && attempt < 20) {
      const seconds = Number(res.headers.get('retry-after')) || json.error?.retryAfter || 1;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${json.error?.message ?? ''}`);
    return json;
  }
}

/** Runs at most `n` of the given jobs at a time, in the order they were asked for. */
function pool(n: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    try {
      return await job();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
