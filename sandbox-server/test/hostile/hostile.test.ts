// The hostile-input suite (issue #3): learner programs that attack the sandbox, each checked for a
// specific contained outcome with a clear message, then for a healthy server (health answers, a
// normal run works) and for nothing left behind (no process of a finished pod, no cgroup, no run
// directory). One server process with strong isolation ("bwrap") and short limits serves every case;
// independent cases run a few at a time (heavy ones alone) to keep the suite short on 2 cores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readlinkSync } from 'node:fs';
import { LEARNER_ENVIRONMENT } from '../support/server-process.ts';
import { REDIS_LIMITS } from '../../src/harness/run-redis.ts';
import net from 'node:net';
import path from 'node:path';
import {
  diskBytes,
  HostileServer,
  INHERITED_FD,
  LIMITS,
  listProcesses,
  MEMORY_LIMIT_MESSAGE,
  OUTPUT_LIMIT_MESSAGE,
  readCgroupFile,
  ROOT,
  Slots,
  TIME_LIMIT_MESSAGE,
} from './support.ts';

let server: HostileServer;
/** Three cases at once; memory bombs take all three (they must reach the cap within the time limit). */
const slots = new Slots(3);
const ALONE = 3;
let fdsAtStart = 0;

beforeAll(async () => {
  server = await HostileServer.start();
  // Every warm pod booted and the server settled: the baseline for leaked descriptors.
  await settled();
  fdsAtStart = server.descriptors().size;
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function settled(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (server.snapshot().podDirs.length < LIMITS.warmPods || (await server.leftovers(0)).length > 0) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The server answers health with strong isolation and still runs an ordinary program. */
async function expectHealthy(): Promise<void> {
  const health = await server.health();
  expect(health.status).toBe(200);
  expect(health.json).toMatchObject({ status: 'ok', isolation: 'bwrap' });
  const normal = await server.run('const n: number = 6 * 7;\nconsole.log(`still fine ${n}`);');
  expect(normal).toMatchObject({ stdout: 'still fine 42\n', stderr: '', exitCode: 0, timedOut: false });
  expect(normal.limit).toBeUndefined();
}

/** One hostile case: its own assertions, then a healthy server and no leftovers. */
function hostile(name: string, body: () => Promise<void>, options: { weight?: number; timeout?: number } = {}): void {
  it(
    name,
    async () => {
      await slots.take(options.weight ?? 1, async () => {
        await body();
        await expectHealthy();
        expect(await server.leftovers()).toEqual([]);
      });
    },
    options.timeout ?? 60_000,
  );
}

/** A program that reports each attempt as `name: CODE message` (or `name: ALLOWED …`). */
function attempts(imports: string, entries: Record<string, string>, tail = ''): string {
  const list = Object.entries(entries)
    .map(([name, fn]) => `  [${JSON.stringify(name)}, ${fn}],`)
    .join('\n');
  return `${imports}
const attempts: Array<[string, () => unknown]> = [
${list}
];
for (const [name, attempt] of attempts) {
  try {
    const result = await attempt();
    console.log(name + ': ALLOWED ' + String(result).slice(0, 200).replace(/\\n/g, ' '));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    console.log(name + ': ' + err.code + ' ' + err.message);
  }
}
${tail}`;
}

/** Lines `name: …` of an attempts() program, by name. */
function outcomes(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([^:]+): (.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const DENIED = 'ERR_ACCESS_DENIED Access to this API has been restricted';

describe('strong isolation is in force', () => {
  it('the suite runs against a server with isolation "bwrap"', async () => {
    const { status, json } = await server.health();
    expect(status).toBe(200);
    expect(json.isolation).toBe('bwrap');
    expect(server.snapshot().podDirs.length).toBeGreaterThanOrEqual(1);
  });
});

describe.concurrent('hostile programs', () => {
  // ---- time ----

  hostile('an infinite loop is stopped at the time limit', async () => {
    const result = await server.run('let n = 0;\nfor (;;) n++;');
    expect(result).toMatchObject({ timedOut: true, limit: TIME_LIMIT_MESSAGE, exitCode: null, signal: 'SIGKILL' });
    expect(result.durationMs).toBeGreaterThanOrEqual(LIMITS.timeoutMs);
  });

  hostile('a storm of timers and immediates is stopped at the time limit', async () => {
    const result = await server.run(`for (let i = 0; i < 10_000; i++) setInterval(() => { for (let j = 0; j < 1000; j++); }, 0);
setImmediate(function again() { setImmediate(again); });
process.nextTick(() => console.log('storm started'));`);
    expect(result).toMatchObject({ stdout: 'storm started\n', timedOut: true, limit: TIME_LIMIT_MESSAGE });
  });

  hostile('a program that never exits (ignores SIGTERM/SIGINT, keeps a server and a pending promise) is stopped at the time limit', async () => {
    const result = await server.run(`import net from 'node:net';
process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
process.on('SIGINT', () => console.log('ignoring SIGINT'));
process.on('beforeExit', () => setTimeout(() => {}, 1e9));
net.createServer().listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening'));
await new Promise(() => {});`);
    expect(result).toMatchObject({ stdout: 'listening\n', timedOut: true, limit: TIME_LIMIT_MESSAGE, signal: 'SIGKILL' });
  });

  hostile('a program that closes stdout and stderr and keeps running is stopped at the time limit', async () => {
    const result = await server.run(`import fs from 'node:fs';
console.log('closing my output');
process.stdout.destroy();
process.stderr.destroy();
for (const fd of [1, 2]) { try { fs.closeSync(fd); } catch {} }
setInterval(() => {}, 1000);`);
    expect(result).toMatchObject({ stdout: 'closing my output\n', stderr: '', timedOut: true, limit: TIME_LIMIT_MESSAGE });
  });

  // ---- memory ----

  hostile(
    'a heap bomb is stopped at the memory limit',
    async () => {
      const result = await server.run('const keep: number[][] = [];\nfor (;;) keep.push(new Array(3e7).fill(1.5));');
      expect(result, JSON.stringify(result)).toMatchObject({ limit: MEMORY_LIMIT_MESSAGE, timedOut: false, exitCode: null });
    },
    { weight: ALONE },
  );

  hostile(
    'a Buffer bomb (memory outside the V8 heap) is stopped at the memory limit',
    async () => {
      const result = await server.run('const keep: Buffer[] = [];\nfor (;;) keep.push(Buffer.alloc(32e6, 1));');
      expect(result, JSON.stringify(result)).toMatchObject({ limit: MEMORY_LIMIT_MESSAGE, timedOut: false, exitCode: null });
    },
    { weight: ALONE },
  );

  // ---- output ----

  hostile('a flood on stdout is cut at 1 MB and the program stopped', async () => {
    const result = await server.run(`const line = 'x'.repeat(1023) + '\\n';
const flood = () => process.stdout.write(line, flood);
flood();`);
    expect(result.limit).toBe(OUTPUT_LIMIT_MESSAGE);
    expect(result.stdout.length).toBe(LIMITS.outputBytes);
    expect(result.timedOut).toBe(false);
  });

  hostile('a flood on its sandbox’s control channel (descriptor 3) stops the program at once (it would keep the server reading)', async () => {
    const result = await server.run(`import fs from 'node:fs';
const chunk = Buffer.alloc(64 * 1024, 'x');
for (;;) fs.writeSync(3, chunk);`);
    expect(result.limit).toBe("the program wrote to its sandbox's control channel (descriptor 3) and was stopped");
    expect(result.timedOut).toBe(false);
  });

  hostile('a flood of 4-byte characters on stderr is cut at 1 MB', async () => {
    const result = await server.run(`const line = '🚀'.repeat(255) + '\\n';
const flood = () => process.stderr.write(line, flood);
flood();`);
    expect(result.limit).toBe(OUTPUT_LIMIT_MESSAGE);
    // At most 1 MB of the program's bytes; a character cut in half shows as one U+FFFD at the very end.
    const kept = result.stderr.replace(/\uFFFD$/, '');
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(LIMITS.outputBytes);
    expect(Buffer.byteLength(kept)).toBeGreaterThan(LIMITS.outputBytes - 4);
    expect(kept).not.toContain('\uFFFD');
  });

  hostile('a flood over the WebSocket streams at most 1 MB, then the limit and the exit', async () => {
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'flood', code: `import fs from 'node:fs';\nconst line = 'y'.repeat(4095) + '\\n';\nfor (;;) fs.writeSync(1, line);` });
    const exit = await ws.until((m) => m.type === 'exit' && m.id === 'flood');
    const limit = ws.messages.find((m) => m.type === 'limit' && m.id === 'flood');
    expect(limit?.message).toBe(OUTPUT_LIMIT_MESSAGE);
    expect(exit.result.limit).toBe(OUTPUT_LIMIT_MESSAGE);
    expect(ws.output('flood').length).toBe(LIMITS.outputBytes);
    await ws.close();
  });

  // ---- processes ----

  hostile('a fork bomb is denied (child processes and worker threads), and the pod is capped at 64 tasks', async () => {
    const marker = 'fork-bomb-' + Date.now();
    const code = `import cp from 'node:child_process';
import { Worker } from 'node:worker_threads';
const marker = ${JSON.stringify(marker)};
const tries: Array<[string, () => unknown]> = [
  ['spawn', () => cp.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'])],
  ['fork', () => cp.fork('/work/main.mjs')],
  ['exec', () => cp.exec('sleep 100')],
  ['execFileSync', () => cp.execFileSync(process.execPath, ['-e', '0'])],
  ['spawnSync', () => cp.spawnSync(process.execPath, ['-e', '0'])],
  ['worker', () => new Worker('setInterval(() => {}, 1000)', { eval: true })],
];
for (const [name, attempt] of tries) {
  let started = 0;
  let last = '';
  for (let i = 0; i < 100; i++) {
    try { attempt(); started++; } catch (e) { last = (e as NodeJS.ErrnoException).code + ' ' + (e as Error).message; }
  }
  console.log(name + ': ' + started + ' started, ' + last);
}
console.log('done ' + marker);
setInterval(() => {}, 1000);`;
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'bomb', code });
    await ws.until((m) => m.type === 'output' && ws.output('bomb').includes('done '));
    const lines = outcomes(ws.output('bomb'));
    for (const name of ['spawn', 'fork', 'exec', 'execFileSync', 'spawnSync', 'worker']) expect(lines[name], name).toBe(`0 started, ${DENIED}`);
    // Even a spawn that got through would be held: the pod's pids cgroup caps tasks (threads included).
    const learner = await server.findLearner(marker);
    const podId = Number(/-pod-(\d+)$/.exec(learner.pidsCgroup!)![1]);
    expect(readCgroupFile(server.cgroupDir('pids', podId), 'pids.max')).toBe('64');
    expect(Number(readCgroupFile(server.cgroupDir('pids', podId), 'pids.current'))).toBeLessThan(64);
    ws.send({ type: 'stop', id: 'bomb' });
    expect((await ws.until((m) => m.type === 'exit' && m.id === 'bomb')).result.limit).toBe('stopped on request');
    await ws.close();
  });

  hostile('a detached child meant to outlive the run is denied, and nothing survives the run', async () => {
    const result = await server.run(
      attempts("import cp from 'node:child_process';", {
        detached: `() => { const c = cp.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' }); c.unref(); return c.pid; }`,
        'detached shell': `() => cp.spawn('/bin/sh', ['-c', 'nohup sleep 1000 &'], { detached: true, stdio: 'ignore' }).unref()`,
      }, 'process.exit(0);'),
    );
    expect(outcomes(result.stdout)).toEqual({ detached: DENIED, 'detached shell': DENIED });
    expect(result.exitCode).toBe(0);
  });

  hostile('spawning a shell is denied', async () => {
    const result = await server.run(
      attempts("import cp from 'node:child_process';", {
        execSync: `() => cp.execSync('id; cat /etc/passwd')`,
        'spawn sh': `() => cp.spawn('/bin/sh', ['-c', 'id'])`,
        'shell option': `() => cp.spawnSync('id', { shell: true })`,
        'execFile bash': `() => cp.execFile('/bin/bash', ['-c', 'id'])`,
      }),
    );
    expect(outcomes(result.stdout)).toEqual({ execSync: DENIED, 'spawn sh': DENIED, 'shell option': DENIED, 'execFile bash': DENIED });
  });

  hostile('signals cannot reach the server: its pid does not exist in the pod, and the pod init ignores them', async () => {
    const result = await server.run(`const targets: Array<[string, number]> = [['server', ${server.pid}], ['pod init', 1]];
for (const [name, pid] of targets) {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    try { process.kill(pid, signal); console.log(name + ' ' + signal + ': sent'); } catch (e) { console.log(name + ' ' + signal + ': ' + (e as NodeJS.ErrnoException).code); }
  }
}
setTimeout(() => console.log('still running'), 200);`);
    expect(result.stdout).toBe('server SIGTERM: ESRCH\nserver SIGKILL: ESRCH\npod init SIGTERM: sent\npod init SIGKILL: sent\nstill running\n');
    expect(result.exitCode).toBe(0);
    expect(server.child.exitCode).toBeNull();
  });

  hostile('kill -1 and killing its parent reach no process outside its own pod', async () => {
    const result = await server.run(`for (const [name, pid] of [['everyone', -1], ['parent', process.ppid]] as const) {
  try { process.kill(pid, 'SIGKILL'); console.log(name + ': sent'); } catch (e) { console.log(name + ': ' + (e as NodeJS.ErrnoException).code); }
}
setTimeout(() => console.log('still running'), 200);`);
    // The program is alone in its PID namespace: kill -1 finds nobody to signal, and its parent is
    // the namespace's init, which ignores signals from inside.
    expect(result.stdout).toBe('everyone: ESRCH\nparent: sent\nstill running\n');
    expect(result.exitCode).toBe(0);
    expect(server.child.exitCode).toBeNull();
  });

  hostile('no process of the pod can be switched into debug mode (SIGUSR1 opens no inspector to take over)', async () => {
    const result = await server.run(`import net from 'node:net';
for (let pid = 1; pid < 64; pid++) {
  if (pid !== process.pid) try { process.kill(pid, 'SIGUSR1'); } catch {}
}
await new Promise((r) => setTimeout(r, 400));
const outcome = await new Promise<string>((resolve) => {
  const s = net.connect(9229, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve('connected'); });
  s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
});
console.log('inspector port 9229: ' + outcome);`);
    expect(result.stdout).toBe('inspector port 9229: ECONNREFUSED\n');
    expect(result.stderr).not.toContain('Debugger listening');
  });

  // ---- files ----

  hostile('host files and the project source cannot be read', async () => {
    const result = await server.run(
      attempts("import fs from 'node:fs';", {
        '/etc/shadow': `() => fs.readFileSync('/etc/shadow', 'utf8')`,
        '/etc/passwd': `() => fs.readFileSync('/etc/passwd', 'utf8')`,
        'project package.json': `() => fs.readFileSync(${JSON.stringify(path.join(ROOT, 'package.json'))}, 'utf8')`,
        'project source': `() => fs.readFileSync(${JSON.stringify(path.join(ROOT, 'sandbox-server/src/config.ts'))}, 'utf8')`,
        'server work dir': `() => fs.readdirSync(${JSON.stringify(server.workDir)})`,
        'symlink to /etc/passwd': `() => fs.symlinkSync('/etc/passwd', '/tmp/passwd')`,
        'hard link to /etc/passwd': `() => fs.linkSync('/etc/passwd', '/tmp/passwd')`,
      }),
    );
    const o = outcomes(result.stdout);
    expect(o['/etc/shadow']).toBe(DENIED);
    expect(o['/etc/passwd']).toBe(DENIED);
    // Nothing of the project is inside the pod: denied by the permission model or simply absent.
    for (const key of ['project package.json', 'project source', 'server work dir']) expect(o[key], key).toMatch(/^(ERR_ACCESS_DENIED|ENOENT) /);
    expect(o['symlink to /etc/passwd']).toBe('ERR_ACCESS_DENIED fs.symlink API requires full fs.read and fs.write permissions.');
    expect(o['hard link to /etc/passwd']).toMatch(/^ERR_ACCESS_DENIED /);
    expect(result.stdout).not.toMatch(/root:|socket-mastery|RunLimits/);
  });

  hostile('/proc of other processes and /sys cannot be read', async () => {
    const result = await server.run(
      attempts("import fs from 'node:fs';", {
        'list /proc': `() => fs.readdirSync('/proc')`,
        '/proc/1/environ': `() => fs.readFileSync('/proc/1/environ', 'utf8')`,
        '/proc/1/cmdline': `() => fs.readFileSync('/proc/1/cmdline', 'utf8')`,
        'server environ': `() => fs.readFileSync('/proc/${server.pid}/environ', 'utf8')`,
        'parent cmdline': `() => fs.readFileSync('/proc/' + process.ppid + '/cmdline', 'utf8')`,
        '/proc/self/environ': `() => fs.readFileSync('/proc/self/environ', 'utf8')`,
        '/proc/self/mem': `() => fs.openSync('/proc/self/mem', 'r+')`,
        'list /sys': `() => fs.readdirSync('/sys')`,
        '/sys/fs/cgroup': `() => fs.readdirSync('/sys/fs/cgroup')`,
      }),
    );
    const o = outcomes(result.stdout);
    for (const key of ['list /proc', '/proc/1/environ', '/proc/1/cmdline', 'server environ', 'parent cmdline', '/proc/self/environ', '/proc/self/mem', 'list /sys', '/sys/fs/cgroup']) {
      expect(o[key], key).toBe(DENIED);
    }
  });

  hostile('another run’s files are out of reach (its /tmp, its run directory)', async () => {
    const marker = 'secret-' + Date.now();
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'owner', code: `import fs from 'node:fs';\nfs.writeFileSync('/tmp/${marker}', 'top secret');\nconsole.log('written');\nsetInterval(() => {}, 1000);` });
    await ws.until((m) => m.type === 'output' && m.id === 'owner' && m.text.includes('written'));
    const runDir = server.snapshot().runDirs.map((d) => path.join(server.workDir, d))[0] ?? server.workDir;
    const result = await server.run(
      attempts("import fs from 'node:fs';", {
        'own /tmp': `() => JSON.stringify(fs.readdirSync('/tmp'))`,
        "the other run's /tmp file": `() => fs.readFileSync('/tmp/${marker}', 'utf8')`,
        "the other run's directory": `() => fs.readdirSync(${JSON.stringify(runDir)})`,
        "the other run's program": `() => fs.readFileSync(${JSON.stringify(path.join(runDir, 'main.mjs'))}, 'utf8')`,
        'root directory': `() => JSON.stringify(fs.readdirSync('/'))`,
      }),
    );
    const o = outcomes(result.stdout);
    expect(o['own /tmp']).toBe('ALLOWED []');
    expect(o["the other run's /tmp file"]).toBe(`ENOENT ENOENT: no such file or directory, open '/tmp/${marker}'`);
    expect(o["the other run's directory"]).toMatch(/^(ERR_ACCESS_DENIED|ENOENT) /);
    expect(o["the other run's program"]).toMatch(/^(ERR_ACCESS_DENIED|ENOENT) /);
    const root: string[] = JSON.parse(o['root directory'].replace(/^ALLOWED /, ''));
    for (const hostDir of ['etc', 'home', 'root', 'var', 'run', 'boot', 'opt', 'srv']) expect(root).not.toContain(hostDir);
    expect(result.stdout).not.toContain('top secret');
    ws.send({ type: 'stop', id: 'owner' });
    await ws.until((m) => m.type === 'exit' && m.id === 'owner');
    await ws.close();
  });

  hostile('writing outside the temp dir is denied (/work, /, /node_modules, /usr)', async () => {
    const result = await server.run(
      attempts("import fs from 'node:fs';", {
        'its own program': `() => fs.writeFileSync('/work/main.mjs', 'pwned')`,
        'a new file beside it': `() => fs.writeFileSync('/work/new', 'x')`,
        '/': `() => fs.writeFileSync('/pwned', 'x')`,
        '/node_modules/ws/index.js': `() => fs.appendFileSync('/node_modules/ws/index.js', 'x')`,
        '/usr/lib': `() => fs.mkdirSync('/usr/lib/pwned')`,
        'tmp/.. escape': `() => fs.writeFileSync('/tmp/../work/escape', 'x')`,
        'chmod': `() => fs.chmodSync('/work/main.mjs', 0o777)`,
        'rename': `() => fs.renameSync('/work/main.mjs', '/tmp/main.mjs')`,
        '/tmp': `() => { fs.writeFileSync('/tmp/ok', 'fine'); return fs.readFileSync('/tmp/ok', 'utf8'); }`,
      }),
    );
    const o = outcomes(result.stdout);
    for (const key of ['its own program', 'a new file beside it', '/', '/node_modules/ws/index.js', '/usr/lib', 'tmp/.. escape', 'chmod', 'rename']) expect(o[key], key).toBe(DENIED);
    expect(o['/tmp']).toBe('ALLOWED fine');
  });

  hostile('unix sockets the program binds never appear on the host’s disk', async () => {
    const marker = 'unix-' + Date.now();
    const code = `import net from 'node:net';
const marker = ${JSON.stringify(marker)};
const dirs = ['/', '/work', '/sock', '/pod', '/node_modules', '/usr', '/tmp'];
for (const dir of dirs) {
  const file = (dir === '/' ? '' : dir) + '/learner-' + marker + '.sock';
  const outcome = await new Promise<string>((resolve) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.listen(file, () => resolve('bound'));
  });
  console.log(dir + ': ' + outcome);
}
console.log('done ' + marker);
setInterval(() => {}, 1000);`;
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'unix', code });
    await ws.until((m) => m.type === 'output' && ws.output('unix').includes('done '));
    const learner = await server.findLearner(marker);
    const podId = Number(/-pod-(\d+)$/.exec(learner.pidsCgroup!)![1]);
    // The pod's host-backed directories are read-only inside: they hold the server's own sockets and
    // the program, and nothing the program made.
    const podDir = path.join(server.workDir, 'pods', `pod-${podId}`);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(podDir).sort()).toEqual(['sock', 'work']);
    expect(readdirSync(path.join(podDir, 'sock')).filter((name) => !/^(port-\d+|udp-\d+|into)\.sock$/.test(name))).toEqual([]);
    expect(readdirSync(path.join(podDir, 'work'))).toEqual(['main.mjs']);
    for (const dir of ['/sock', '/work']) expect(outcomes(ws.output('unix'))[dir], dir).toMatch(/^(EROFS|EACCES|ERR_ACCESS_DENIED)$/);
    expect(outcomes(ws.output('unix'))['/tmp']).toBe('bound'); // its own temp dir is fine
    ws.send({ type: 'stop', id: 'unix' });
    await ws.until((m) => m.type === 'exit' && m.id === 'unix');
    await ws.close();
  });

  hostile('filling the temp dir stops at 8 MB with ENOSPC, and nothing grows on the host', async () => {
    const code = `import fs from 'node:fs';
const chunk = Buffer.alloc(1 << 20, 120);
let written = 0;
try {
  const fd = fs.openSync('/tmp/fill', 'w');
  for (let i = 0; i < 20; i++) { fs.writeSync(fd, chunk); written += chunk.length; }
  console.log('wrote 20 MB');
} catch (e) {
  console.log('stopped after ' + (written >> 20) + ' MB: ' + (e as Error).message);
}
try { fs.writeFileSync('/tmp/more', Buffer.alloc(1 << 20)); console.log('more: written'); } catch (e) { console.log('more: ' + (e as Error).message); }
console.log('filled');
setInterval(() => {}, 1000);`;
    const hostBefore = diskBytes(server.tmpBase);
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'fill', code });
    await ws.until((m) => m.type === 'output' && ws.output('fill').includes('filled'));
    expect(ws.output('fill')).toMatch(/^stopped after [78] MB: ENOSPC: no space left on device, write\nmore: ENOSPC: no space left on device, write\nfilled\n$/);
    // While the program still runs with a full /tmp, the server's directories on the host stay small.
    expect(diskBytes(server.tmpBase) - hostBefore).toBeLessThan(1 << 20);
    ws.send({ type: 'stop', id: 'fill' });
    await ws.until((m) => m.type === 'exit' && m.id === 'fill');
    await ws.close();
  });

  // ---- what the process is, seen from the host ----

  hostile('seen from the host, the program runs as nobody, without capabilities, in its own namespaces and capped cgroups', async () => {
    const marker = 'inspect-' + Date.now();
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'inspect', code: `const marker = ${JSON.stringify(marker)};\nconsole.log('ready ' + marker);\nsetInterval(() => {}, 1000);` });
    await ws.until((m) => m.type === 'output' && m.id === 'inspect' && m.text.includes('ready'));
    const learner = await server.findLearner(marker);
    const status = readFileSync(`/proc/${learner.pid}/status`, 'utf8');
    expect(/^Uid:\s+(.*)$/m.exec(status)![1].split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(/^Gid:\s+(.*)$/m.exec(status)![1].split(/\s+/)).toEqual(['65534', '65534', '65534', '65534']);
    expect(/^CapEff:\s+(\S+)/m.exec(status)![1]).toBe('0000000000000000');
    expect(/^CapPrm:\s+(\S+)/m.exec(status)![1]).toBe('0000000000000000');
    expect(/^NoNewPrivs:\s+(\d)/m.exec(status)![1]).toBe('1');
    for (const ns of ['pid', 'net', 'mnt', 'ipc', 'uts', 'user']) {
      expect(readlinkSync(`/proc/${learner.pid}/ns/${ns}`), ns).not.toBe(readlinkSync(`/proc/${server.pid}/ns/${ns}`));
    }
    // Its PID namespace holds only its own pod's processes.
    const pidNs = readlinkSync(`/proc/${learner.pid}/ns/pid`);
    const sameNs = listProcesses().filter((p) => {
      try {
        return readlinkSync(`/proc/${p.pid}/ns/pid`) === pidNs;
      } catch {
        return false;
      }
    });
    expect(sameNs.length).toBeLessThanOrEqual(8);
    for (const p of sameNs) expect(p.pidsCgroup).toBe(learner.pidsCgroup);
    // Cgroup caps: tasks and memory (the program's limit plus room for node itself).
    const podId = Number(/-pod-(\d+)$/.exec(learner.pidsCgroup!)![1]);
    expect(readCgroupFile(server.cgroupDir('pids', podId), 'pids.max')).toBe('64');
    const memoryCap = Number(readCgroupFile(server.cgroupDir('memory', podId), 'memory.limit_in_bytes'));
    expect(memoryCap).toBeGreaterThanOrEqual(LIMITS.memoryMb * 2 ** 20);
    expect(memoryCap).toBeLessThanOrEqual((LIMITS.memoryMb + 128) * 2 ** 20);
    // Pods boot on idle CPU only; a pod running a program has left that group for its fair share.
    if (server.warmingCpuGroup) {
      expect(cpuGroup(learner.pid)).toBe(`/socket-mastery`);
    }
    // rlimits: open files, no core dumps, file size, CPU time.
    const limits = readFileSync(`/proc/${learner.pid}/limits`, 'utf8');
    expect(limits).toMatch(/^Max open files\s+1024\s+1024/m);
    expect(limits).toMatch(/^Max core file size\s+0\s+0/m);
    expect(limits).toMatch(/^Max file size\s+16777216\s+16777216/m);
    expect(limits).not.toMatch(/^Max cpu time\s+unlimited/m);
    // The environment it was started with holds nothing of the host's (no secrets, no NODE_OPTIONS):
    // bubblewrap's PWD only; the program's variables are set inside (see the environment test below).
    const environ = readFileSync(`/proc/${learner.pid}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(environ).toEqual(['PWD=/work']);
    // Its root file system has none of the host's directories.
    const root = (await import('node:fs')).readdirSync(`/proc/${learner.pid}/root`);
    for (const hostDir of ['etc', 'home', 'root', 'var', 'boot']) expect(root).not.toContain(hostDir);
    ws.send({ type: 'stop', id: 'inspect' });
    expect((await ws.until((m) => m.type === 'exit' && m.id === 'inspect')).result.limit).toBe('stopped on request');
    await ws.close();
  });

  hostile(`descriptors the server inherited (fd ${INHERITED_FD} from this suite, as a supervisor might leave one) never reach the program`, async () => {
    const marker = 'fds-' + Date.now();
    const code = `import fs from 'node:fs';
const marker = ${JSON.stringify(marker)};
const open: Array<[number, number, string]> = [];
for (let fd = 3; fd < 1024; fd++) {
  try {
    const st = fs.fstatSync(fd);
    open.push([fd, st.ino, st.isFIFO() ? 'pipe' : st.isSocket() ? 'socket' : st.isFile() ? 'file' : 'other']);
  } catch {}
}
console.log(JSON.stringify(open));
// A hostile program would write to whatever it finds; this one writes only to the suite's own descriptor.
try { fs.writeSync(${INHERITED_FD}, 'hello supervisor from ' + marker + '\\n'); } catch {}
console.log('done ' + marker);
setInterval(() => {}, 1000);`;
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'fds', code });
    await ws.until((m) => m.type === 'output' && ws.output('fds').includes('done '));
    const open: Array<[number, number, string]> = JSON.parse(ws.output('fds').split('\n')[0]);
    // Every pipe and socket the server holds, by inode: a learner descriptor on one of them is a leak.
    const serverInodes = new Map<number, string>();
    for (const [fd, target] of server.descriptors()) {
      const m = /^(pipe|socket):\[(\d+)\]$/.exec(target);
      if (m) serverInodes.set(Number(m[2]), `server fd ${fd} (${target})`);
    }
    const shared = open.filter(([, ino, kind]) => (kind === 'pipe' || kind === 'socket') && serverInodes.has(ino)).map(([fd, ino]) => `learner fd ${fd} = ${serverInodes.get(ino)}`);
    expect(shared).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    expect(Buffer.concat(server.leakedToSupervisor).toString()).not.toContain(marker);
    ws.send({ type: 'stop', id: 'fds' });
    await ws.until((m) => m.type === 'exit' && m.id === 'fds');
    await ws.close();
  });

  // ---- environment and Node internals ----

  hostile('the environment holds only HOST, PORT and the reference servers\' ports (no NODE_OPTIONS, no --inspect)', async () => {
    const result = await server.run(`console.log(JSON.stringify({
  keys: Object.keys(process.env).sort(),
  host: process.env.HOST,
  nodeOptions: process.env.NODE_OPTIONS ?? null,
  inspectFlags: process.execArgv.filter((a) => /inspect|debug/.test(a)),
  permission: process.execArgv.includes('--experimental-permission'),
  uid: process.getuid!(),
}));`);
    expect(JSON.parse(result.stdout)).toEqual({
      keys: LEARNER_ENVIRONMENT,
      host: '127.0.0.1',
      nodeOptions: null,
      inspectFlags: [],
      permission: true,
      uid: 65534,
    });
  });

  hostile('process.binding, process.dlopen and the permission model’s own answers', async () => {
    const result = await server.run(
      attempts('', {
        'process.binding': `() => (process as any).binding('spawn_sync')`,
        'process.dlopen': `() => (process as any).dlopen({ exports: {} }, '/usr/lib/x86_64-linux-gnu/libc.so.6')`,
        'may write /work': `() => (process as any).permission.has('fs.write', '/work/x')`,
        'may spawn': `() => (process as any).permission.has('child')`,
        'may start workers': `() => (process as any).permission.has('worker')`,
      }),
    );
    const o = outcomes(result.stdout);
    expect(o['process.binding']).toMatch(/^ERR_ACCESS_DENIED /);
    expect(o['process.dlopen']).toBe('ERR_DLOPEN_DISABLED Cannot load native addon because loading addons is disabled.');
    expect(o['may write /work']).toBe('ALLOWED false');
    expect(o['may spawn']).toBe('ALLOWED false');
    expect(o['may start workers']).toBe('ALLOWED false');
  });

  // ---- network ----

  hostile('loopback services of the host (the server, shared reference servers, others on 127.0.0.1 and [::1]) are unreachable', async () => {
    const seen = { v4: 0, v6: 0 };
    const listen = (host: string, key: 'v4' | 'v6') =>
      new Promise<net.Server>((resolve, reject) => {
        const s = net.createServer((c) => {
          seen[key]++;
          c.destroy();
        });
        s.once('error', reject).listen(0, host, () => resolve(s));
      });
    const v4 = await listen('127.0.0.1', 'v4');
    const v6 = await listen('::1', 'v6');
    try {
      const shared = (await server.health()).json.referenceServers;
      const targets: Record<string, [string, number]> = {
        'sandbox server': ['127.0.0.1', Number(new URL(server.url).port)],
        'shared echo': ['127.0.0.1', shared.echo],
        'shared chat': ['127.0.0.1', shared.chat],
        'host service v4': ['127.0.0.1', (v4.address() as net.AddressInfo).port],
        'host service v6': ['::1', (v6.address() as net.AddressInfo).port],
      };
      const result = await server.run(`import net from 'node:net';
import dgram from 'node:dgram';
const targets: Record<string, [string, number]> = ${JSON.stringify(targets)};
for (const [name, [host, port]] of Object.entries(targets)) {
  const outcome = await new Promise<string>((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => { s.destroy(); resolve('CONNECTED'); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  console.log(name + ': ' + outcome);
}
const http = await fetch('http://127.0.0.1:${new URL(server.url).port}/api/health').then(() => 'CONNECTED', (e) => e.cause?.code ?? e.message);
console.log('fetch the API: ' + http);
const udp = dgram.createSocket('udp4');
const reply = await new Promise<string>((resolve) => {
  udp.once('message', () => resolve('ECHOED'));
  udp.once('error', (e: NodeJS.ErrnoException) => resolve('error ' + e.code));
  udp.send('ping', ${shared.udpEcho}, '127.0.0.1', () => setTimeout(() => resolve('no reply'), 300));
});
udp.close();
console.log('shared UDP echo: ' + reply);`);
      expect(outcomes(result.stdout)).toEqual({
        'sandbox server': 'ECONNREFUSED',
        'shared echo': 'ECONNREFUSED',
        'shared chat': 'ECONNREFUSED',
        'host service v4': 'ECONNREFUSED',
        'host service v6': 'ECONNREFUSED',
        'fetch the API': 'ECONNREFUSED',
        'shared UDP echo': 'no reply',
      });
      expect(seen).toEqual({ v4: 0, v6: 0 });
    } finally {
      v4.close();
      v6.close();
    }
  });

  hostile('the network has only "lo", and ports below 1024 cannot be bound', async () => {
    const result = await server.run(
      attempts("import os from 'node:os';\nimport net from 'node:net';\nconst bind = (port: number, host?: string) => new Promise((resolve, reject) => { const s = net.createServer(); s.once('error', reject); s.listen(port, host, () => { s.close(); resolve('bound'); }); });", {
        interfaces: `() => Object.keys(os.networkInterfaces()).join(',')`,
        'port 80': `() => bind(80, '127.0.0.1')`,
        'port 1023 on all addresses': `() => bind(1023)`,
        'port 1024': `() => bind(1024, '127.0.0.1')`,
      }),
    );
    expect(outcomes(result.stdout)).toEqual({
      interfaces: 'ALLOWED lo',
      'port 80': 'EACCES listen EACCES: permission denied 127.0.0.1:80',
      'port 1023 on all addresses': 'EACCES listen EACCES: permission denied 0.0.0.0:1023',
      'port 1024': 'ALLOWED bound',
    });
  });

  hostile(
    '20,000 sockets: never more open than the open-files limit, the rest refused with EMFILE; the server stays healthy',
    async () => {
      // Opened 1,000 per turn of the event loop, with a running tally after each batch, so the outcome
      // is visible even if a loaded machine lets the time limit end the program first.
      const result = await server.run(`import net from 'node:net';
const counts: Record<string, number> = {};
let attempted = 0;
let open = 0;
let maxOpen = 0;
const bump = (k: string) => { counts[k] = (counts[k] ?? 0) + 1; };
const tally = () => console.log(JSON.stringify({ attempted, maxOpen, ...counts }));
const sockets: net.Socket[] = [];
const batch = () => {
  for (let i = 0; i < 1000; i++, attempted++) {
    try {
      const s = net.connect(Number(process.env.ECHO_PORT), process.env.HOST);
      sockets.push(s);
      s.once('connect', () => { bump('connected'); maxOpen = Math.max(maxOpen, ++open); s.once('close', () => open--); });
      s.once('error', (e: NodeJS.ErrnoException) => bump(e.code ?? 'error'));
    } catch (e) { bump('thrown ' + (e as NodeJS.ErrnoException).code); }
  }
  setImmediate(() => { tally(); if (attempted < 20_000) batch(); else setTimeout(() => { tally(); process.exit(0); }, 300); });
};
batch();`);
      const lines = result.stdout.trim().split('\n');
      expect(lines.length, JSON.stringify(result).slice(0, 500)).toBeGreaterThanOrEqual(2);
      const last = JSON.parse(lines[lines.length - 1]);
      // All 20,000 attempted (or the time limit stopped a starved program); most refused by EMFILE.
      if (last.attempted < 20_000) expect(result.limit).toBe(TIME_LIMIT_MESSAGE);
      else expect(result.exitCode).toBe(0);
      expect(last.EMFILE).toBeGreaterThan(last.attempted / 2);
      expect(last.maxOpen).toBeGreaterThan(0);
      expect(last.maxOpen).toBeLessThan(1024); // never more at once than the open-files limit
      const { attempted: _a, maxOpen: _m, ...outcomes } = last;
      expect(Object.keys(outcomes).filter((k) => !['EMFILE', 'connected', 'ECONNRESET', 'ECONNREFUSED'].includes(k))).toEqual([]);
    },
    { weight: 2 },
  );

  // ---- grading ----

  const forgeries: Record<string, string> = {
    'printing a passing results.json': `console.log(JSON.stringify({ version: 2, status: 'pass', tests: [{ name: 'TCP echo server > echoes a line of text', status: 'pass' }] }));`,
    'exiting early with code 0': `console.log('all tests passed'); process.exit(0);`,
    'writing verdicts to descriptors 3..9': `import fs from 'node:fs';
for (let fd = 3; fd <= 9; fd++) { try { fs.writeSync(fd, '{"version":2,"status":"pass","tests":[]}\\n'); } catch {} }
setInterval(() => {}, 1000);`,
    'patching test globals': `(globalThis as any).expect = () => new Proxy({}, { get: () => () => {} });
(globalThis as any).it = () => {};
(globalThis as any).describe = () => {};
Object.defineProperty(globalThis, 'vitest', { value: { pass: true } });
import net from 'node:net';
net.createServer((s) => s.end()).listen(Number(process.env.PORT));`,
  };
  for (const [name, code] of Object.entries(forgeries)) {
    hostile(`a forged verdict fails: ${name}`, async () => {
      const verdict = await server.submit('tcp-echo-server', code);
      expect(verdict).toMatchObject({ version: 2, status: 'fail' });
      expect(verdict.tests.length).toBeGreaterThanOrEqual(5);
      for (const t of verdict.tests) {
        expect(t.status, t.name).toBe('fail');
        expect(t.message, t.name).toMatch(/your server|expected|connection|socket/i);
      }
    });
  }

  // ---- WebSocket servers that attack the grader's client ----

  /** The server process's resident memory (kB). */
  const serverRssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1]);

  /** A learner "WebSocket server" that completes the handshake with ws, then answers every message with `attack(socket)`. */
  const wsAttacker = (attack: string) => `import http from 'node:http';
import { WebSocketServer } from 'ws';
const server = http.createServer();
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  const socket = req.socket;
  ws.on('message', () => {
${attack}
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');`;

  hostile(
    'a WebSocket server answering with a giant frame fails the tests with the limit named, and the grader holds none of it',
    async () => {
      const before = serverRssKb();
      // A binary frame that declares 2 GiB, then 64 MiB of it as fast as the socket takes it.
      const verdict = await server.submit(
        'ws-echo-server',
        wsAttacker(`    socket.write(Buffer.from([0x82, 127, 0, 0, 0, 0, 0x80, 0, 0, 0]));
    const block = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const pump = () => { while (sent < 64 && socket.write(block)) sent++; if (sent < 64) socket.once('drain', pump); };
    pump();`),
      );
      expect(verdict.status).toBe('fail');
      const failed = verdict.tests.filter((t: { status: string }) => t.status === 'fail');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.map((t: { message: string }) => t.message).join('\n')).toMatch(/larger than 1 MiB \(the test's limit\)/);
      expect(serverRssKb() - before).toBeLessThan(64 * 1024); // far less than what was declared or sent
    },
    { weight: 2 },
  );

  hostile(
    'a WebSocket server answering with a fragmented message that never ends fails the tests saying so, and the grader holds none of it',
    async () => {
      const before = serverRssKb();
      // A text frame without FIN, then a small continuation (FIN never set) every 20 ms.
      const verdict = await server.submit(
        'ws-echo-server',
        wsAttacker(`    socket.write(Buffer.from([0x01, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
    const timer = setInterval(() => socket.write(Buffer.from([0x00, 3, 0x2e, 0x2e, 0x2e])), 20);
    socket.on('close', () => clearInterval(timer));`),
      );
      expect(verdict.status).toBe('fail');
      const messages = verdict.tests.filter((t: { status: string }) => t.status === 'fail').map((t: { message: string }) => t.message);
      expect(messages.join('\n')).toMatch(/started a message in fragments \(\d+ frame\(s\), [\d.]+ (bytes|KiB)\) and did not finish it/);
      expect(serverRssKb() - before).toBeLessThan(64 * 1024);
    },
    { weight: 2 },
  );

  // ---- input ----

  hostile('syntax errors: status "error" with main.ts:line:column, over HTTP and the WebSocket', async () => {
    const verdict = await server.submit('tcp-echo-server', 'import net from "node:net";\nnet.createServer(.listen(1);');
    expect(verdict).toMatchObject({ version: 2, status: 'error', tests: [] });
    expect(verdict.message).toMatch(/^main\.ts:2:18: error: /);
    const run = await server.run('const ok = 1;\nconst broken = ;\n');
    expect(run.compileError).toMatchObject({ line: 2, column: 16 });
    expect(run.stderr).toMatch(/^main\.ts:2:16: error: Unexpected ";"/);
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'syntax', code: '\n\n  let x = (;' });
    expect(await ws.until((m) => m.type === 'compile-error')).toMatchObject({ id: 'syntax', line: 3, column: 12 });
    await ws.until((m) => m.type === 'exit' && m.id === 'syntax');
    await ws.close();
  });

  hostile('a huge submission is refused with 413 and the documented cap, over HTTP and the WebSocket', async () => {
    const over = '//'.padEnd(LIMITS.maxCodeBytes + 1, 'x');
    const run = await server.tracked(() => server.post('/api/run', { code: over }));
    expect(run.status).toBe(413);
    expect(run.json.error).toEqual({ code: 'code_too_large', message: `The code is ${LIMITS.maxCodeBytes + 1} bytes; the limit is ${LIMITS.maxCodeBytes} bytes.` });
    const emoji = '//' + '🚀'.repeat(LIMITS.maxCodeBytes / 4);
    const submit = await server.tracked(() => server.post('/api/exercises/tcp-echo-server/submissions', { code: emoji }));
    expect(submit.status).toBe(413);
    expect(submit.json.error.message).toBe(`The code is ${Buffer.byteLength(emoji)} bytes; the limit is ${LIMITS.maxCodeBytes} bytes.`);
    const body = await server.post('/api/run', JSON.stringify({ code: 'x'.repeat(LIMITS.maxCodeBytes * 3) }));
    expect(body.status).toBe(413);
    expect(body.json.error.code).toBe('too_large');
    expect(body.json.error.message).toMatch(/^The request body is larger than \d+ bytes\.$/);
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'huge', code: over });
    expect(await ws.until((m) => m.type === 'error' && m.id === 'huge')).toMatchObject({
      code: 'code_too_large',
      message: `The code is ${LIMITS.maxCodeBytes + 1} bytes; the limit is ${LIMITS.maxCodeBytes} bytes.`,
    });
    await ws.close();
  });

  hostile('NUL bytes, lone surrogates, RTL marks and 4-byte emoji: compiled or refused with a clear message, never a crash', async () => {
    // Inside string literals they are just characters.
    const inStrings = await server.run('console.log(JSON.stringify(["a\u0000b", "\u202Eevil\u202C", "🚀🦄", "\uD800".length]));');
    expect(inStrings).toMatchObject({ exitCode: 0, stderr: '' });
    expect(JSON.parse(inStrings.stdout)).toEqual(['a\u0000b', '\u202Eevil\u202C', '🚀🦄', 1]);
    // A lone surrogate cannot be encoded in UTF-8: it arrives as U+FFFD, and the program still runs.
    const lone = await server.run('console.log("\uDC00\uD800");');
    expect(lone).toMatchObject({ stdout: '\uFFFD\uFFFD\n', exitCode: 0 });
    // Outside literals they are syntax errors with a position.
    const nul = await server.run('console.log(1)\u0000');
    expect(nul.stderr).toBe('main.ts:1:15: error: Expected ";" but found "\\x00"\n');
    const rtl = await server.run('const x\u202E = 1;');
    expect(rtl.stderr).toBe('main.ts:1:8: error: Expected ";" but found "\\u202e"\n');
    const emojiName = await server.run('const 🚀 = 1;');
    expect(emojiName.stderr).toBe('main.ts:1:7: error: Expected identifier but found "🚀"\n');
    // Bytes that are not UTF-8, in the request and in the program's output.
    const rawBody = Buffer.concat([Buffer.from('{"code":"console.log(\'x'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('\')"}')]);
    const raw = await server.tracked(() => server.post('/api/run', rawBody));
    expect(raw.status).toBe(200);
    expect(raw.json).toMatchObject({ stdout: 'x\uFFFD\uFFFD(\n', exitCode: 0 });
    const binaryOut = await server.run('process.stdout.write(Buffer.from([0x41, 0x00, 0xff, 0xfe, 0xc3]));\nprocess.stderr.write(Buffer.from([0xf0, 0x9f, 0x9a]));');
    expect(binaryOut).toMatchObject({ stdout: 'A\u0000\uFFFD\uFFFD\uFFFD', stderr: '\uFFFD', exitCode: 0 });
    const bom = await server.run('\uFEFFconsole.log("bom first")');
    expect(bom).toMatchObject({ stdout: 'bom first\n', exitCode: 0 });
  });

  // ---- WebSocket lifecycle ----

  hostile('closing the WebSocket mid-run kills the program and its pod', async () => {
    const marker = 'abandoned-' + Date.now();
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'abandon', code: `const marker = ${JSON.stringify(marker)};\nconsole.log('spinning');\nfor (;;) {}` });
    await ws.until((m) => m.type === 'output' && m.id === 'abandon');
    const learner = await server.findLearner(marker);
    ws.ws.terminate();
    await ws.closed;
    const deadline = Date.now() + 3000;
    while (listProcesses().some((p) => p.pid === learner.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(listProcesses().some((p) => p.pid === learner.pid)).toBe(false);
  });

  hostile('"stop" ends a busy program at once with "stopped on request"', async () => {
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'busy', code: `console.log('busy');\nfor (;;) {}` });
    await ws.until((m) => m.type === 'output' && m.id === 'busy');
    const asked = Date.now();
    ws.send({ type: 'stop', id: 'busy' });
    const exit = await ws.until((m) => m.type === 'exit' && m.id === 'busy');
    expect(Date.now() - asked).toBeLessThan(LIMITS.timeoutMs);
    expect(exit.result).toMatchObject({ limit: 'stopped on request', timedOut: false, stdout: 'busy\n' });
    await ws.close();
  });

  // ---- a run's own Redis (an exercise with "services": ["redis"]) ----

  hostile("reaches no Redis but its own run's: not another run's (even with its password), not a default port", async () => {
    const ws = await server.openWebSocket();
    ws.start({ type: 'run', id: 'owner', exerciseId: 'sio-redis-scaling', code: `console.log(process.env.REDIS_URL);\nsetTimeout(() => {}, 6000);` });
    await ws.until((m) => m.type === 'output' && m.id === 'owner');
    const theirs = ws.output('owner').trim();
    expect(theirs).toMatch(/^redis:\/\/:[\w-]+@127\.0\.0\.1:\d+$/);
    const result = await server.run(
      `import { createClient } from 'redis';
const probe = async (name: string, url: string) => {
  const client = createClient({ url, socket: { connectTimeout: 1500, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    console.log(name + ': ' + (await client.ping()));
    await client.disconnect();
  } catch (e) {
    console.log(name + ': ' + ((e as NodeJS.ErrnoException).code ?? (e as Error).message));
  }
};
await probe('theirs', ${JSON.stringify(theirs)});
await probe('default port', 'redis://127.0.0.1:6379');
await probe('own', process.env.REDIS_URL!);`,
      'sio-redis-scaling',
    );
    expect(result.stdout).toBe('theirs: ECONNREFUSED\ndefault port: ECONNREFUSED\nown: PONG\n');
    ws.send({ type: 'stop', id: 'owner' });
    await ws.until((m) => m.type === 'exit' && m.id === 'owner');
    await ws.close();
  });

  hostile('floods its own Redis: writes stop at the memory cap, connections at the client cap, and the server is unharmed', async () => {
    const result = await server.run(
      `import { createClient } from 'redis';
import net from 'node:net';
const client = createClient({ url: process.env.REDIS_URL });
await client.connect();
const chunk = 'x'.repeat(1 << 20);
try {
  for (let i = 0; i < 256; i++) await client.set('k' + i, chunk);
  console.log('fill: all 256 MB stored');
} catch (e) {
  console.log('fill: ' + (e as Error).message.split("'")[0]);
}
const url = new URL(process.env.REDIS_URL!);
// Past the cap Redis writes its refusal and closes: an AUTH sent meanwhile can meet the closed
// socket first (EPIPE, ECONNRESET), and the refusal is lost with it. Either way it was refused.
const answers = await Promise.all(Array.from({ length: 100 }, () => new Promise<string>((resolve) => {
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EPIPE' || e.code === 'ECONNRESET' ? 'refused' : 'error ' + e.message));
  socket.once('data', (d) => resolve(d.toString().trim() === '-ERR max number of clients reached' ? 'refused' : d.toString().trim()));
  socket.write('AUTH ' + decodeURIComponent(url.password) + '\\r\\n');
  setTimeout(() => resolve('no answer'), 3000);
})));
const count = (answer: string) => answers.filter((a) => a === answer).length;
console.log('connections: ' + count('+OK') + ' +OK, ' + count('refused') + ' refused, ' + (100 - count('+OK') - count('refused')) + ' other');
console.log('ping: ' + (await client.ping()));
process.exit(0);`,
      'sio-redis-scaling',
    );
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('fill: OOM command not allowed when used memory > ');
    // The program's own client holds one of the REDIS_LIMITS.maxClients.
    expect(lines[1]).toBe(`connections: ${REDIS_LIMITS.maxClients - 1} +OK, ${100 - (REDIS_LIMITS.maxClients - 1)} refused, 0 other`);
    expect(lines[2]).toBe('ping: PONG');
  });
});

/** The cpu controller's group of a process, as /proc/<pid>/cgroup names it. */
function cpuGroup(pid: number): string | undefined {
  return /^\d+:(?:[^:]*,)?cpu(?:,[^:]*)?:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
}

describe('after every hostile program', () => {
  it('nothing is left: no program, no run directory, only the warm pods, no descriptor leak', async () => {
    await settled();
    const s = server.snapshot();
    expect(server.inFlight).toBe(0);
    expect(s.runDirs).toEqual([]);
    expect(s.busyPods).toEqual([]);
    expect(s.strays).toEqual([]);
    expect(s.orphanCgroups).toEqual([]);
    expect(s.podDirs.length).toBe(LIMITS.warmPods);
    // The warm pods wait in the warming cpu group (idle CPU only), where they booted.
    if (server.warmingCpuGroup) expect(new Set(s.podProcesses.map((p) => cpuGroup(p.pid)))).toEqual(new Set([server.warmingCpuGroup]));
    expect(server.descriptors().size).toBeLessThanOrEqual(fdsAtStart + 10);
    expect(server.log()).not.toMatch(/SyntaxError|TypeError|Unhandled|uncaught/i);
    await expectHealthy();
  });

  it('SIGTERM shuts the server down leaving no pod, cgroup, process or directory', async () => {
    expect(await server.stop()).toBe(0);
    expect(server.podCgroups()).toEqual({ pids: [], memory: [] });
    const pid = server.pid;
    const left = listProcesses().filter((p) => new RegExp(`/socket-mastery/${pid}-pod-`).test(p.pidsCgroup ?? '') || p.ppid === pid);
    expect(left).toEqual([]);
    expect(server.workDirAfterExit).toBeNull();
  });
});
