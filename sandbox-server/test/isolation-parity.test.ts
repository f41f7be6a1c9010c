// Both isolation layers give a program the same world: the same packages (and nothing else of the
// server's node_modules), and reference servers served and recorded by the trusted side, UDP too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compileTypeScript } from '../src/compile/compile.ts';
import { loadConfig } from '../src/config.ts';
import { Session } from '../src/harness/session.ts';
import { createIsolation } from '../src/runner/index.ts';
import type { Isolation } from '../src/runner/learner-process.ts';
import { requireStrongIsolation } from './support/prerequisites.ts';

const limits = { timeoutMs: 8000, memoryMb: 256, outputBytes: 100_000 };

describe.each(['process', 'bwrap'] as const)('a program under %s isolation', (mode) => {
  let workDir: string;
  let isolation: Isolation;

  beforeAll(async () => {
    if (mode === 'bwrap') requireStrongIsolation();
    workDir = await mkdtemp(path.join(os.tmpdir(), 'sm-test-parity-'));
    await chmod(workDir, 0o711); // the program may run as another user
    isolation = await createIsolation({ ...loadConfig({}), isolation: mode, tmpDir: workDir, warmPods: 0 }, () => {});
    expect(isolation.isolation).toBe(mode);
  });

  afterAll(async () => {
    await isolation?.shutdown?.();
    await rm(workDir, { recursive: true, force: true });
  });

  async function run(code: string, before?: (session: Session) => void) {
    const compiled = await compileTypeScript(code);
    if (!compiled.ok) throw new Error(compiled.error.message);
    const session = await Session.open(isolation, { js: compiled.js, limits, tmpDir: workDir });
    try {
      before?.(session);
      const learner = session.startLearner();
      const exit = await learner.exited;
      return { exit, stdout: learner.stdout, stderr: learner.stderr, traffic: session.traffic.events };
    } finally {
      await session.dispose();
    }
  }

  it('imports the learner packages and their dependencies', async () => {
    const { exit, stdout, stderr } = await run(`import { WebSocket } from 'ws';
import { io } from 'socket.io-client';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
const engine = await import('engine.io-client');
console.log(typeof WebSocket, typeof io, typeof engine.Socket, typeof Server, typeof createAdapter, typeof createClient);`);
    expect({ exit: exit.exitCode, stderr }).toEqual({ exit: 0, stderr: '' });
    expect(stdout).toBe('function function function function function function\n');
  });

  it.each(['zod', 'express', 'vitest'])('cannot import %s, which the server has but learners do not', async (name) => {
    const { exit, stdout } = await run(`try {
  await import(${JSON.stringify(name)});
  console.log('imported');
} catch (err) {
  console.log((err as NodeJS.ErrnoException).code);
}`);
    expect(exit.exitCode).toBe(0);
    expect(stdout).toBe('ERR_MODULE_NOT_FOUND\n');
  });

  it('delivers what a client wrote just before it exited', async () => {
    const { exit, traffic } = await run(`import net from 'node:net';
const socket = net.connect(Number(process.env.ECHO_PORT), process.env.HOST, () => {
  socket.write('last words\\n', () => process.exit(0));
});`);
    expect(exit.exitCode).toBe(0);
    const received = traffic.filter((e) => e.endpoint === 'echo' && e.direction === 'from-learner');
    expect(Buffer.concat(received.map((e) => e.bytes!)).toString()).toBe('last words\n');
  });

  it('delivers what the connect callback wrote before destroy() right after it, as over TCP', async () => {
    const { exit, traffic } = await run(`import net from 'node:net';
const socket = net.connect(Number(process.env.ECHO_PORT), process.env.HOST, () => {
  socket.write('closed at once\\n');
  socket.end();
  socket.destroy();
});`);
    expect(exit.exitCode).toBe(0);
    await expect.poll(() => traffic.some((e) => e.endpoint === 'echo' && e.event === 'close')).toBe(true);
    const received = traffic.filter((e) => e.endpoint === 'echo' && e.direction === 'from-learner');
    expect(Buffer.concat(received.map((e) => e.bytes!)).toString()).toBe('closed at once\n');
  });

  it('sees its TCP connection as a TCP connection to the service, addresses known once connected', async () => {
    const { stdout } = await run(`import net from 'node:net';
const port = Number(process.env.ECHO_PORT);
const open = () => new Promise<net.Socket>((resolve) => {
  const socket = net.connect(port, process.env.HOST);
  console.log('before connect:', socket.localPort, socket.remotePort);
  socket.on('connect', () => resolve(socket));
});
const [a, b] = [await open(), await open()];
for (const s of [a, b]) console.log(s.remoteAddress, s.remoteFamily, s.remotePort === port, s.localAddress, Number.isInteger(s.localPort) && s.localPort! > 1023);
console.log('own ports differ:', a.localPort !== b.localPort);
a.end();
b.end();`);
    expect(stdout).toBe(
      'before connect: undefined undefined\nbefore connect: undefined undefined\n' + '127.0.0.1 IPv4 true 127.0.0.1 true\n'.repeat(2) + 'own ports differ: true\n',
    );
  });

  it('resets a connection: the service sees ECONNRESET, as over TCP', async () => {
    const errors: string[] = [];
    const { exit } = await run(
      `import net from 'node:net';
const socket = net.connect(Number(process.env.ECHO_PORT), process.env.HOST, () => socket.write('x'));
socket.on('data', () => socket.resetAndDestroy());
socket.on('close', () => setTimeout(() => {}, 200));`,
      (session) => session.servers.echo.onAccept((socket) => void socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message))),
    );
    expect(exit.exitCode).toBe(0);
    await expect.poll(() => errors, { timeout: 5000 }).toEqual(['ECONNRESET']); // the reset crosses the pod's control channel: seconds on a loaded machine
  });

  it("reaches the run's UDP echo, which the trusted side serves and records", async () => {
    const { exit, stdout, traffic } = await run(`import dgram from 'node:dgram';
const socket = dgram.createSocket('udp4');
socket.on('message', (msg) => {
  console.log('reply:', msg.toString());
  socket.close();
});
socket.send('hello udp', Number(process.env.UDP_ECHO_PORT), process.env.HOST);`);
    expect(exit.exitCode).toBe(0);
    expect(stdout).toBe('reply: hello udp\n');
    const udp = traffic.filter((e) => e.endpoint === 'udp-echo' && e.event === 'data');
    expect(udp.map((e) => [e.direction, e.bytes?.toString()])).toEqual([
      ['from-learner', 'hello udp'],
      ['to-learner', 'hello udp'],
    ]);
  });

  it("reaches the run's WebSocket echo, whose frames the trusted side records", async () => {
    const { exit, stdout, stderr, traffic } = await run(`import { WebSocket } from 'ws';
const ws = new WebSocket(\`ws://\${process.env.HOST}:\${process.env.WS_ECHO_PORT}/\`);
ws.on('open', () => {
  ws.send('hello ws');
  ws.send(Buffer.from([1, 2, 3]));
});
const got: string[] = [];
ws.on('message', (data, isBinary) => {
  got.push(isBinary ? 'binary ' + (data as Buffer).toString('hex') : 'text ' + data.toString());
  if (got.length === 2) ws.close(4000, 'done');
});
ws.on('close', (code, reason) => console.log(got.join(', '), code, reason.toString()));`);
    expect({ exit: exit.exitCode, stderr }).toEqual({ exit: 0, stderr: '' });
    expect(stdout).toBe('text hello ws, binary 010203 4000 done\n');
    const frames = traffic.filter((e) => e.endpoint === 'ws-echo' && e.event === 'frame');
    // Each direction in order (the two interleave as the network pleases).
    const seen = (direction: string) =>
      frames.filter((e) => e.direction === direction).map((e) => [e.frame!.kind, e.frame!.masked, e.frame!.closeCode ?? e.bytes!.toString('hex')]);
    const sent = [
      ['text', Buffer.from('hello ws').toString('hex')],
      ['binary', '010203'],
    ];
    expect(seen('from-learner')).toEqual([...sent.map(([kind, hex]) => [kind, true, hex]), ['close', true, 4000]]);
    expect(seen('to-learner')).toEqual([...sent.map(([kind, hex]) => [kind, false, hex]), ['close', false, 4000]]);
  });
});
