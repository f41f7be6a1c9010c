// A run's own Redis, under both isolation layers: the program reaches it through REDIS_URL and can
// use it as the Redis adapter does (commands, pub/sub); it cannot reach another run's Redis, cannot
// reconfigure or stop its own, and flooding it is bounded (writes refused past the memory cap, a
// subscriber that falls behind cut off). Disposing the session stops it and removes its files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, chmod, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compileTypeScript } from '../src/compile/compile.ts';
import { loadConfig } from '../src/config.ts';
import { Session } from '../src/harness/session.ts';
import { redisInstalled } from '../src/harness/run-redis.ts';
import { createIsolation } from '../src/runner/index.ts';
import type { Isolation } from '../src/runner/learner-process.ts';
import { isAlive } from '../src/runner/is-alive.ts';
import { requireRedis, requireStrongIsolation } from './support/prerequisites.ts';

const limits = { timeoutMs: 15_000, memoryMb: 256, outputBytes: 100_000 };

/** A program that prints `name: result` or `name: ERR message` for each attempt. */
function attempts(body: string): string {
  return `import { createClient } from 'redis';
const tried = async (name: string, attempt: () => Promise<unknown>) => {
  try {
    console.log(name + ': ' + String(await attempt()).slice(0, 120));
  } catch (e) {
    console.log(name + ': ERR ' + (e as Error).message.slice(0, 120));
  }
};
${body}
process.exit(0);`;
}

function outcomes(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
}

function rssKb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

describe.each(['process', 'bwrap'] as const)('a run with its own Redis, under %s isolation', (mode) => {
  let workDir: string;
  let isolation: Isolation;

  beforeAll(async () => {
    requireRedis();
    if (mode === 'bwrap') requireStrongIsolation();
    workDir = await mkdtemp(path.join(os.tmpdir(), 'sm-test-redis-'));
    await chmod(workDir, 0o711);
    isolation = await createIsolation({ ...loadConfig({}), isolation: mode, tmpDir: workDir, warmPods: 0 }, () => {});
  });

  afterAll(async () => {
    await isolation?.shutdown?.();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function open(code: string, services: 'redis'[] = ['redis']): Promise<Session> {
    const compiled = await compileTypeScript(code);
    if (!compiled.ok) throw new Error(compiled.error.message);
    return Session.open(isolation, { js: compiled.js, limits, tmpDir: workDir, services });
  }

  async function run(session: Session, env?: Record<string, string>) {
    const learner = session.startLearner({ env });
    const exit = await learner.exited;
    return { exit, stdout: learner.stdout, stderr: learner.stderr };
  }

  it('gives the program REDIS_URL to a Redis it can use for commands and pub/sub', async () => {
    const session = await open(`import { createClient } from 'redis';
const client = createClient({ url: process.env.REDIS_URL });
const subscriber = client.duplicate();
await Promise.all([client.connect(), subscriber.connect()]);
await client.set('greeting', 'hello');
console.log('get:', await client.get('greeting'));
const heard = new Promise<string>((resolve) => subscriber.subscribe('news', (message) => resolve(message)));
await new Promise((r) => setTimeout(r, 50));
await client.publish('news', 'extra');
console.log('heard:', await heard);
await Promise.all([client.quit(), subscriber.quit()]);`);
    try {
      expect(session.env.REDIS_URL).toMatch(/^redis:\/\/:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+$/);
      const { exit, stdout, stderr } = await run(session);
      expect({ exit: exit.exitCode, stderr }).toEqual({ exit: 0, stderr: '' });
      expect(stdout).toBe('get: hello\nheard: extra\n');
    } finally {
      await session.dispose();
    }
  });

  it('has no REDIS_URL and no Redis unless the run asks for one', async () => {
    const session = await open(`console.log(process.env.REDIS_URL ?? 'none');`, []);
    try {
      expect(session.redis).toBeUndefined();
      expect((await run(session)).stdout).toBe('none\n');
    } finally {
      await session.dispose();
    }
  });

  it("cannot reach another run's Redis: not its port, not even with that run's password", async () => {
    const other = await open('');
    const session = await open(
      attempts(`const theirs = process.env.THEIR_URL!;
const withoutPassword = theirs.replace(/:[^:@]+@/, '@');
const probe = async (url: string) => {
  const client = createClient({ url, socket: { connectTimeout: 1500, reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.ping();
  } finally {
    await client.disconnect();
  }
};
await tried('with their password', () => probe(theirs));
await tried('without a password', () => probe(withoutPassword));
await tried('own', () => probe(process.env.REDIS_URL!));`),
    );
    try {
      // Its URL holds the password: a program that somehow learned it must still be stopped (bwrap), or at least stopped without it.
      const got = outcomes((await run(session, { THEIR_URL: other.redis!.url })).stdout);
      expect(got.own).toBe('PONG');
      expect(got['without a password']).toMatch(/^ERR (NOAUTH|connect ECONNREFUSED|.*ECONNREFUSED)/);
      if (mode === 'bwrap') expect(got['with their password']).toMatch(/^ERR .*ECONNREFUSED/);
      else expect(got['with their password']).toBe('PONG'); // process isolation shares the host's loopback: the password is the only wall (README, "Security model")
    } finally {
      await Promise.all([session.dispose(), other.dispose()]);
    }
  });

  it('cannot reconfigure, stop, script or wipe its Redis', async () => {
    const session = await open(
      attempts(`const client = createClient({ url: process.env.REDIS_URL });
await client.connect();
for (const command of [['CONFIG', 'SET', 'dir', '/tmp'], ['SHUTDOWN', 'NOSAVE'], ['EVAL', 'while true do end', '0'], ['FLUSHALL'], ['DEBUG', 'SLEEP', '5'], ['MODULE', 'LIST'], ['ACL', 'SETUSER', 'default', 'nopass'], ['SAVE'], ['REPLICAOF', '127.0.0.1', '1']]) {
  await tried(command[0], () => client.sendCommand(command));
}
await tried('PING', () => client.ping());`),
    );
    try {
      const got = outcomes((await run(session)).stdout);
      for (const command of ['CONFIG', 'SHUTDOWN', 'EVAL', 'FLUSHALL', 'MODULE', 'ACL', 'SAVE', 'REPLICAOF']) expect(got[command], command).toMatch(/^ERR NOPERM/);
      expect(got.DEBUG).toMatch(/^ERR .*DEBUG command not allowed/);
      expect(got.PING).toBe('PONG');
    } finally {
      await session.dispose();
    }
  });

  it('bounds a flood: writes past the memory cap are refused, a subscriber that stops reading is cut off, and Redis stays small', async () => {
    const session = await open(
      attempts(`const client = createClient({ url: process.env.REDIS_URL });
await client.connect();
const chunk = 'x'.repeat(1024 * 1024);
await tried('fill', async () => {
  for (let i = 0; i < 200; i++) await client.set('k' + i, chunk);
  return 'all 200 MB stored';
});
await client.sendCommand(['FLUSHDB']).catch(() => client.del(Array.from({ length: 200 }, (_, i) => 'k' + i)));
// A subscriber that never reads: raw TCP, SUBSCRIBE, then nothing.
const net = await import('node:net');
const url = new URL(process.env.REDIS_URL!);
const lazy = net.connect(Number(url.port), url.hostname);
lazy.pause();
lazy.write('AUTH ' + decodeURIComponent(url.password) + '\\r\\nSUBSCRIBE flood\\r\\n');
await new Promise((r) => setTimeout(r, 100));
lazy.on('error', () => {});
await tried('publish', async () => {
  for (let i = 0; i < 24; i++) await client.publish('flood', chunk); // under Redis's default 32 MB limit, over ours
  return 'published';
});
// Now read what Redis kept for it: everything (24 MB), or what it had when it cut the subscriber off.
let received = 0;
lazy.on('data', (data: Buffer) => void (received += data.length));
lazy.resume();
await tried('lazy subscriber', () =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still connected after ' + Math.round(received / 1e6) + ' MB'), 5000);
    lazy.on('close', () => {
      clearTimeout(timer);
      resolve(received < 16e6 ? 'cut off' : 'closed after all ' + Math.round(received / 1e6) + ' MB');
    });
  }),
);
await tried('still serves', () => client.ping());`),
    );
    try {
      const { stdout } = await run(session);
      const got = outcomes(stdout);
      expect(got.fill).toMatch(/^ERR OOM command not allowed/);
      expect(got.publish).toBe('published');
      expect(got['lazy subscriber']).toBe('cut off'); // client-output-buffer-limit pubsub
      expect(got['still serves']).toBe('PONG');
      expect(rssKb(session.redis!.pid!)).toBeLessThan(96 * 1024); // 32 MB cap + 8 MB buffers + the server itself
    } finally {
      await session.dispose();
    }
  });

  it('stops its Redis and removes its files when the session ends', async () => {
    const session = await open('');
    const pid = session.redis!.pid!;
    expect(isAlive(pid)).toBe(true);
    const before = await readdir(workDir);
    expect(before.filter((name) => name.startsWith('services-'))).toHaveLength(1);
    await session.dispose();
    expect(isAlive(pid)).toBe(false);
    expect((await readdir(workDir)).filter((name) => name.startsWith('services-'))).toEqual([]);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

describe('redisInstalled', () => {
  it('finds redis-server on PATH, and says no for a PATH without it', () => {
    requireRedis();
    expect(redisInstalled()).toBe(true);
    expect(redisInstalled('/nonexistent:/also/not')).toBe(false);
  });
});
