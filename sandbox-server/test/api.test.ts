// Black-box tests of the JSON API against the real server process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { getJson, LEARNER_ENVIRONMENT, postJson, ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { requireRedis, requireStrongIsolation } from './support/prerequisites.ts';
import { trafficSchema } from '../src/shapes/traffic.ts';

const echo = (file: string) => readFileSync(path.join(ROOT, 'exercises/tcp-echo-server', file), 'utf8');
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ MAX_CODE_BYTES: '20000', RUN_TIMEOUT_MS: '4000' });
});
afterAll(async () => {
  await server?.stop();
});

describe('GET /api/health', () => {
  it('reports ok, the isolation mode and the shared reference servers', async () => {
    requireStrongIsolation();
    const { status, json } = await getJson(`${server.url}/api/health`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ status: 'ok', isolation: 'bwrap' });
    expect(json.referenceServers.echo).toBeGreaterThan(0);
    expect(json.referenceServers.chat).toBeGreaterThan(0);
    expect(json.referenceServers.socketIo).toBeGreaterThan(0);
  });

  it("reports whether runs can have a Redis of their own", async () => {
    requireRedis();
    expect((await getJson(`${server.url}/api/health`)).json.runServices).toEqual({ redis: 'available' });
  });

  it('reports the warm pool, which fills up to its target (2 in tests)', async () => {
    requireStrongIsolation(); // the pool is of pods
    const deadline = Date.now() + 15_000;
    let warmPods;
    do {
      warmPods = (await getJson(`${server.url}/api/health`)).json.warmPods;
      if (warmPods.ready === warmPods.target) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    expect(warmPods).toEqual({ ready: 2, target: 2 });
  });
});

describe('exercises', () => {
  it('lists exercises with id, title and lesson', async () => {
    const { status, json } = await getJson(`${server.url}/api/exercises`);
    expect(status).toBe(200);
    expect(json).toContainEqual(expect.objectContaining({ id: 'tcp-echo-server', title: expect.any(String), lesson: expect.any(String) }));
  });

  it('serves an exercise without its solution', async () => {
    const { status, json } = await getJson(`${server.url}/api/exercises/tcp-echo-server`);
    expect(status).toBe(200);
    expect(json.starter).toBe(echo('starter.ts'));
    expect(json.instructions).toContain('process.env.PORT');
    expect(json.hints.length).toBeGreaterThan(1);
    expect(JSON.stringify(json)).not.toContain(JSON.stringify(echo('solution.ts')).slice(1, -1));
    expect(json).not.toHaveProperty('solution');
  });

  it('serves the solution on its own route', async () => {
    const { status, json } = await getJson(`${server.url}/api/exercises/tcp-echo-server/solution`);
    expect(status).toBe(200);
    expect(json.solution).toBe(echo('solution.ts'));
  });

  it.each(['nope', '..%2F..%2Fpackage.json', '..', 'TCP-ECHO-SERVER', 'tcp-echo-server%00', 'a'.repeat(300)])('answers 404 for the id %s', async (id) => {
    const { status, json } = await getJson(`${server.url}/api/exercises/${id}`);
    expect(status).toBe(404);
    expect(json.error.message).toMatch(/no exercise|Nothing at|No API route/);
  });
});

describe('bad input', () => {
  it('400 for malformed JSON', async () => {
    const { status, json } = await postJson(`${server.url}/api/run`, '{"code": ');
    expect(status).toBe(400);
    expect(json.error.code).toBe('malformed_json');
  });

  it('400 for a missing or non-string code', async () => {
    expect((await postJson(`${server.url}/api/run`, {})).json.error.code).toBe('missing_code');
    expect((await postJson(`${server.url}/api/run`, { code: 42 })).status).toBe(400);
    expect((await postJson(`${server.url}/api/run`, [1, 2])).status).toBe(400);
    expect((await postJson(`${server.url}/api/run`, 'null')).status).toBe(400);
  });

  it('415 for a body that is not JSON', async () => {
    const res = await fetch(`${server.url}/api/run`, { method: 'POST', body: 'code=1' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).error.message).toMatch(/Content-Type: application\/json/);
  });

  it('413 over the code-size cap, naming the cap', async () => {
    const { status, json } = await postJson(`${server.url}/api/run`, { code: '//'.padEnd(20_001, 'x') });
    expect(status).toBe(413);
    expect(json.error.message).toContain('20000 bytes');
  });

  it('404 for an unknown exercise on submit and an unknown API route', async () => {
    expect((await postJson(`${server.url}/api/exercises/nope/submissions`, { code: '' })).status).toBe(404);
    expect((await getJson(`${server.url}/api/nothing-here`)).status).toBe(404);
  });
});

describe('POST /api/run', () => {
  it('runs TypeScript and returns its output', async () => {
    const { status, json } = await postJson(`${server.url}/api/run`, { code: 'const n: number = 6 * 7;\nconsole.log(`answer ${n}`);\nconsole.error("to stderr");' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ stdout: 'answer 42\n', stderr: 'to stderr\n', exitCode: 0, timedOut: false });
    expect(json.durationMs).toBeGreaterThan(0);
  });

  it('gives the program this run’s reference servers', async () => {
    const code = `import net from 'node:net';
const s = net.connect(Number(process.env.ECHO_PORT), process.env.HOST);
s.end('ping');
s.on('data', (d) => console.log('reply', d.toString()));`;
    expect((await postJson(`${server.url}/api/run`, { code })).json.stdout).toBe('reply ping\n');
  });

  it('joins the shared chat instead of a fresh one when asked (shared: ["chat"]), where others see it', async () => {
    const chatPort = (await getJson(`${server.url}/api/health`)).json.referenceServers.chat;
    const watcher = net.connect(chatPort, '127.0.0.1');
    let heard = '';
    watcher.on('data', (d) => (heard += d));
    try {
      watcher.write('watcher\n');
      await expect.poll(() => heard).toMatch(/Welcome, watcher!/);
      const code = `import net from 'node:net';
const s = net.connect(Number(process.env.CHAT_PORT), process.env.HOST);
s.on('data', (d) => {
  const text = d.toString();
  if (text.includes('username')) s.write('runner\\n');
  if (text.includes('Welcome, runner!')) s.write('hello from a run\\n/quit\\n');
});`;
      const { status, json } = await postJson(`${server.url}/api/run`, { code, shared: ['chat'] });
      expect(status).toBe(200);
      expect(json.exitCode).toBe(0);
      await expect.poll(() => heard).toMatch(/\* runner joined the chat\nrunner: hello from a run\n/);
      // without `shared`, a Run's chat is its own: the watcher hears nothing of it
      await postJson(`${server.url}/api/run`, { code: code.replace(/runner/g, 'loner') });
      expect(heard).not.toMatch(/loner/);
    } finally {
      watcher.destroy();
    }
  });

  it("records a Run's own conversation with the shared chat in its traffic (in a pod), and no one else's", async () => {
    requireStrongIsolation(); // under process isolation the program reaches the shared port directly
    const chatPort = (await getJson(`${server.url}/api/health`)).json.referenceServers.chat;
    const bystander = net.connect(chatPort, '127.0.0.1');
    bystander.on('data', () => {});
    try {
      bystander.write('bystander\n');
      const code = `import net from 'node:net';
const s = net.connect(Number(process.env.CHAT_PORT), process.env.HOST);
s.on('data', (d) => {
  const text = d.toString();
  if (text.includes('username')) s.write('recorded\\n');
  if (text.includes('Welcome, recorded!')) s.write('seen in my traffic\\n/quit\\n');
});`;
      const { json } = await postJson(`${server.url}/api/run`, { code, shared: ['chat'] });
      expect(json.exitCode).toBe(0);
      const traffic = trafficSchema.parse(json.traffic);
      const chat = traffic.events.filter((e) => e.endpoint === 'chat');
      expect(new Set(chat.map((e) => e.connection)).size).toBe(1);
      expect(chat[0].kind).toBe('open');
      const sent = chat.filter((e) => e.direction === 'from-learner').map((e) => e.preview?.text ?? '').join('');
      const received = chat.filter((e) => e.direction === 'to-learner').map((e) => e.preview?.text ?? '').join('');
      expect(sent).toBe('recorded\nseen in my traffic\n/quit\n');
      expect(received).toMatch(/username/);
      expect(received).toMatch(/Welcome, recorded!/);
      expect(chat.at(-1)?.kind).toBe('close');
      expect(traffic.endpoints.map((e) => e.name)).toContain('chat');
    } finally {
      bystander.destroy();
    }
  });

  it('lets a run hold only a few connections to a shared server at once (in a pod): the rest are closed at once', async () => {
    requireStrongIsolation();
    const code = `import net from 'node:net';
const outcomes = await Promise.all(Array.from({ length: 10 }, () => new Promise<string>((resolve) => {
  const s = net.connect(Number(process.env.CHAT_PORT), process.env.HOST);
  s.once('data', () => resolve('served'));
  s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  s.once('close', () => resolve('closed'));
})));
console.log(outcomes.filter((o) => o === 'served').length, 'served,', outcomes.filter((o) => o !== 'served').length, 'closed');
process.exit(0);`;
    const { json } = await postJson(`${server.url}/api/run`, { code, shared: ['chat'] });
    expect(json.stdout).toBe('4 served, 6 closed\n');
  });

  it.each([[['nope']], ['chat'], [['chat', 'chat', 'chat']]])('refuses shared %j with 400 and what it may be', async (shared) => {
    const { status, json } = await postJson(`${server.url}/api/run`, { code: 'console.log(1)', shared });
    expect(status).toBe(400);
    expect(json.error).toEqual({ code: 'invalid_shared', message: 'The field "shared" must be a list of the shared servers a Run may join instead of its own: "chat".' });
  });

  it('reports a compile error with line and column', async () => {
    const { json } = await postJson(`${server.url}/api/run`, { code: 'const a = 1;\nconst b = ;\n' });
    expect(json.exitCode).toBeNull();
    expect(json.compileError).toMatchObject({ line: 2, column: 11 });
    expect(json.stderr).toMatch(/main\.ts:2:11: error/);
  });

  it('shows stack traces against main.ts, without server paths', async () => {
    const { json } = await postJson(`${server.url}/api/run`, { code: '\n\nfunction boom(): never {\n  throw new Error("boom");\n}\nboom();' });
    expect(json.exitCode).toBe(1);
    expect(json.stderr).toMatch(/main\.ts:4:9/);
    expect(json.stderr).not.toMatch(/socket-mastery|sm-test-|run-/);
  });

  it('stops a program at the time limit and says so', async () => {
    const { json } = await postJson(`${server.url}/api/run`, { code: 'setInterval(() => {}, 1000);' });
    expect(json.timedOut).toBe(true);
    expect(json.limit).toBe('stopped after 4 s (time limit)');
  });

  it('runs with an empty environment apart from the documented variables', async () => {
    const { json } = await postJson(`${server.url}/api/run`, { code: 'console.log(Object.keys(process.env).sort().join(","))' });
    expect(json.stdout.trim()).toBe(LEARNER_ENVIRONMENT.join(','));
  });
});

describe('POST /api/exercises/:id/submissions', () => {
  it('passes the solution with an Exercism v2 verdict', async () => {
    const { status, json } = await postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code: echo('solution.ts') });
    expect(status).toBe(200);
    expect(json.version).toBe(2);
    expect(json.status).toBe('pass');
    expect(json.tests.length).toBeGreaterThanOrEqual(5);
    for (const t of json.tests) expect(t).toMatchObject({ name: expect.any(String), status: 'pass' });
    expect(json.durationMs).toBeGreaterThan(0);
  });

  it('fails the starter with a message per failing test', async () => {
    const { json } = await postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code: echo('starter.ts') });
    expect(json.status).toBe('fail');
    const failed = json.tests.filter((t: any) => t.status === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    for (const t of failed) expect(t.message).toMatch(/expected|server/);
  });

  it('answers a compile error with status "error" and main.ts:line:column', async () => {
    const { json } = await postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code: 'import net from "node:net";\nnet.createServer(.listen(1);' });
    expect(json).toMatchObject({ version: 2, status: 'error', tests: [] });
    expect(json.message).toMatch(/^main\.ts:2:18: error: /);
  });
});

describe('forged verdicts do not pass', () => {
  const forgeries: Record<string, string> = {
    'printing a passing results.json': `console.log(JSON.stringify({ version: 2, status: 'pass', tests: [] }));`,
    'exiting early with code 0': `process.exit(0);`,
    'writing to inherited descriptors': `import fs from 'node:fs';
for (const fd of [3, 4, 5]) { try { fs.writeSync(fd, '{"status":"pass"}\\n'); } catch (e) { console.error('fd', fd, (e as Error).message); } }
setInterval(() => {}, 1000);`,
    'patching test globals': `(globalThis as any).expect = () => ({ toBe() {} }); (globalThis as any).it = () => {};
import net from 'node:net'; net.createServer((s) => s.end()).listen(Number(process.env.PORT));`,
  };
  it.each(Object.entries(forgeries))('%s', async (_name, code) => {
    const { json } = await postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code });
    expect(json.status).toBe('fail');
    expect(json.tests.length).toBeGreaterThan(0); // every() of no tests would be true
    expect(json.tests.every((t: any) => t.status === 'fail')).toBe(true);
  });
});

describe('the server survives hostile programs', () => {
  it('floods of output are cut and reported', async () => {
    const { json } = await postJson(`${server.url}/api/run`, { code: `const line = 'x'.repeat(1023) + '\\n'; const flood = () => process.stdout.write(line, flood); flood();` });
    expect(json.limit).toBe('output cut at 1 MB; the program was stopped');
    expect(json.stdout.length).toBe(1_000_000);
    expect((await getJson(`${server.url}/api/health`)).json.status).toBe('ok');
  });

  it('a program that signals its parent does not stop the server', async () => {
    // Its parent is its pod's init (the program can only end its own run), never the server.
    await postJson(`${server.url}/api/run`, { code: `for (const s of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) { try { process.kill(process.ppid, s); } catch {} }` });
    expect((await getJson(`${server.url}/api/health`)).json.status).toBe('ok');
    expect((await postJson(`${server.url}/api/run`, { code: 'console.log("still here")' })).json.stdout).toBe('still here\n');
  });

  it('cannot read host files, start processes or write files', async () => {
    const code = `import fs from 'node:fs';
import cp from 'node:child_process';
const attempts: Record<string, () => unknown> = {
  read: () => fs.readFileSync('/etc/passwd', 'utf8'),
  source: () => fs.readFileSync('${ROOT}/sandbox-server/src/main.ts', 'utf8'),
  write: () => fs.writeFileSync('/pwned', 'x'),
  shell: () => cp.execSync('id'),
};
for (const [name, attempt] of Object.entries(attempts)) {
  try { attempt(); console.log(name, 'ALLOWED'); } catch (e) { console.log(name, (e as NodeJS.ErrnoException).code); }
}`;
    const { json } = await postJson(`${server.url}/api/run`, { code });
    // Denied by Node's permission model, or absent from the pod's filesystem altogether.
    expect(json.stdout).toMatch(/^read (ERR_ACCESS_DENIED|ENOENT)\nsource (ERR_ACCESS_DENIED|ENOENT)\nwrite (ERR_ACCESS_DENIED|EROFS|EACCES)\nshell ERR_ACCESS_DENIED\n$/);
  });
});
