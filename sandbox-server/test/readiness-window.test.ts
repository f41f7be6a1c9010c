// The kit waits longer for a server whose grade has a Redis of its own (it loads the Redis client
// and the adapter and connects before it listens, often as two instances at once): a server that
// needs 3.5 s to listen is ready there, and still too late without a Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compileTypeScript } from '../src/compile/compile.ts';
import { loadConfig } from '../src/config.ts';
import { Session } from '../src/harness/session.ts';
import { createIsolation } from '../src/runner/index.ts';
import type { Isolation } from '../src/runner/learner-process.ts';
import { gradingContext, type GradeContext } from '../src/grading-kit/context.ts';
import { learnerServer, readinessWindow, READY_WITH_SERVICES_MS, READY_WITHIN_MS } from '../src/grading-kit/learner.ts';
import { requireRedis } from './support/prerequisites.ts';

const SLOW_SERVER = `import net from 'node:net';
setTimeout(() => net.createServer((s) => s.end()).listen(Number(process.env.PORT), '127.0.0.1'), 3500);`;

describe('the readiness wait of a learner server', () => {
  let workDir: string;
  let isolation: Isolation;

  beforeAll(async () => {
    requireRedis();
    workDir = await mkdtemp(path.join(os.tmpdir(), 'sm-test-ready-'));
    await chmod(workDir, 0o711); // the program may run as another user
    isolation = await createIsolation({ ...loadConfig({}), isolation: 'process', tmpDir: workDir, warmPods: 0 }, () => {});
  });

  afterAll(async () => {
    await isolation?.shutdown?.();
    await rm(workDir, { recursive: true, force: true });
  });

  it('is 3 s, and 10 s when the session has a Redis of its own', () => {
    expect(readinessWindow({})).toBe(READY_WITHIN_MS);
    expect(readinessWindow({ redis: {} })).toBe(READY_WITH_SERVICES_MS);
    expect(READY_WITH_SERVICES_MS).toBeGreaterThan(READY_WITHIN_MS);
  });

  async function boot(services: 'redis'[]): Promise<string> {
    const compiled = await compileTypeScript(SLOW_SERVER);
    if (!compiled.ok) throw new Error(compiled.error.message);
    const session = await Session.open(isolation, { js: compiled.js, limits: { timeoutMs: 10_000, memoryMb: 256, outputBytes: 100_000 }, tmpDir: workDir, services });
    const ctx: GradeContext = { session, exerciseId: 'slow', kind: 'server', shared: new Map(), processes: [], cleanups: [] };
    try {
      return await gradingContext.run(ctx, async () => {
        const server = await learnerServer();
        return `listening on ${server.port === session.learnerPort ? 'PORT' : server.port}`;
      });
    } catch (err) {
      return (err as Error).message;
    } finally {
      ctx.cleanups.forEach((c) => c());
      await session.dispose();
    }
  }

  it('finds a server with a Redis of its own that listens after 3.5 s; without one, it says the server did not listen within 3 s', async () => {
    const [withRedis, without] = await Promise.all([boot(['redis']), boot([])]);
    expect(withRedis).toBe('listening on PORT');
    expect(without).toMatch(/^your server did not accept connections on 127\.0\.0\.1, port \d+ \(process\.env\.PORT\), within 3 s/);
  }, 15_000);
});
