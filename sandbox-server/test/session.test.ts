// A session: a private run directory, fresh reference servers, the learner's process, a traffic log.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { compileTypeScript } from '../src/compile/compile.ts';
import { Session } from '../src/harness/session.ts';
import { ProcessIsolation } from '../src/runner/process-isolation.ts';

const limits = { timeoutMs: 5000, memoryMb: 256, outputBytes: 100_000 };

/** Sessions a test opened and has not disposed (it failed first), and every base dir: cleared after each test. */
const undisposed = new Set<Session>();
const tmpDirs: string[] = [];
afterEach(async () => {
  await Promise.all([...undisposed].map((s) => dispose(s)));
  await Promise.all(tmpDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function open(code: string) {
  const compiled = await compileTypeScript(code);
  if (!compiled.ok) throw new Error(compiled.error.message);
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'session-'));
  tmpDirs.push(tmpDir);
  await chmod(tmpDir, 0o711); // the learner may run as another user: it must be able to reach its run directory
  const session = await Session.open(new ProcessIsolation(tmpDir), { js: compiled.js, limits, tmpDir });
  undisposed.add(session);
  return session;
}

async function dispose(session: Session) {
  undisposed.delete(session);
  await session.dispose();
}

describe('Session', () => {
  it('records the traffic between the learner and its reference servers, in order', async () => {
    const session = await open(`import net from 'node:net';
const s = net.connect(Number(process.env.ECHO_PORT), process.env.HOST);
s.write('ping\\n');
s.on('data', () => s.end());`);
    const exit = await session.startLearner().exited;
    expect(exit.exitCode).toBe(0);
    const echo = session.traffic.events.filter((e) => e.endpoint === 'echo');
    expect(echo.map((e) => [e.event, e.direction, e.bytes?.toString()])).toEqual([
      ['open', undefined, undefined],
      ['data', 'from-learner', 'ping\n'],
      ['data', 'to-learner', 'ping\n'],
      ['end', undefined, undefined],
      ['close', undefined, undefined],
    ]);
    expect(echo.every((e, i) => i === 0 || e.t >= echo[i - 1].t)).toBe(true);
    await dispose(session);
  });

  it('gives each session its own servers and leaves nothing behind', async () => {
    const a = await open('');
    const b = await open('');
    expect(a.servers.ports.echo).not.toBe(b.servers.ports.echo);
    expect(a.learnerPort).not.toBe(b.learnerPort);
    const learner = a.startLearner();
    await dispose(a);
    expect(learner.hasExited).toBe(true);
    expect(existsSync(a.runDir)).toBe(false);
    await dispose(b);
  });
});
