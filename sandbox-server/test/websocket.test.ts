// The editors' WebSocket endpoint, black-box, against the real server process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { openEditorSocket } from './support/editor-socket.ts';
import { requireStrongIsolation } from './support/prerequisites.ts';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess({ RUN_TIMEOUT_MS: '3000' });
});
afterAll(async () => {
  await server?.stop();
});

const openSocket = () => openEditorSocket(server.url);

describe('WebSocket /api/ws', () => {
  it('streams a run’s output as it happens, then its exit', async () => {
    const { ws, messages, until } = await openSocket();
    const code = `console.log('first'); setTimeout(() => { console.log('second'); }, 400);`;
    ws.send(JSON.stringify({ type: 'run', id: 'r1', code }));
    const first = await until((m) => m.type === 'output' && m.text.includes('first'));
    // 'first' arrives while the program is still running: before 'second' and before the exit.
    expect(messages.some((m) => m.type === 'exit' || (m.type === 'output' && m.text.includes('second')))).toBe(false);
    expect(first).toMatchObject({ id: 'r1', stream: 'stdout' });
    const exit = await until((m) => m.type === 'exit');
    expect(exit.result).toMatchObject({ exitCode: 0, stdout: 'first\nsecond\n' });
    ws.close();
  });

  it('streams each test result of a check, then the verdict', async () => {
    const { ws, messages, until } = await openSocket();
    const code = readFileSync(path.join(ROOT, 'exercises/tcp-echo-server/solution.ts'), 'utf8');
    ws.send(JSON.stringify({ type: 'check', id: 'c1', exerciseId: 'tcp-echo-server', code }));
    const verdict = await until((m) => m.type === 'verdict');
    const tests = messages.filter((m) => m.type === 'test');
    expect(verdict.verdict.status).toBe('pass');
    expect(tests.length).toBeGreaterThan(0); // two empty lists would be equal
    expect(tests.map((t) => t.test.name)).toEqual(verdict.verdict.tests.map((t: any) => t.name));
    expect(messages.indexOf(verdict)).toBe(messages.length - 1);
    ws.close();
  });

  it('marks a compile error with line and column', async () => {
    const { ws, until } = await openSocket();
    ws.send(JSON.stringify({ type: 'check', id: 'c2', exerciseId: 'tcp-echo-server', code: '\n\nlet x = (;' }));
    const err = await until((m) => m.type === 'compile-error');
    expect(err).toMatchObject({ id: 'c2', line: 3, column: 10 });
    expect((await until((m) => m.type === 'verdict')).verdict.status).toBe('error');
    ws.close();
  });

  it('stops a run on request', async () => {
    const { ws, until } = await openSocket();
    ws.send(JSON.stringify({ type: 'run', id: 'long', code: 'setInterval(() => console.log("tick"), 50);' }));
    await until((m) => m.type === 'output');
    ws.send(JSON.stringify({ type: 'stop', id: 'long' }));
    const exit = await until((m) => m.type === 'exit');
    expect(exit.result.limit).toBe('stopped on request');
    ws.close();
  });

  it('answers malformed messages with an error and keeps the connection', async () => {
    const { ws, until, messages } = await openSocket();
    ws.send('not json');
    await until((m) => m.type === 'error' && m.code === 'malformed_message' && /Malformed/.test(m.message));
    ws.send(JSON.stringify({ type: 'fly', id: 'x' }));
    await until((m) => m.type === 'error' && m.id === 'x' && /Unknown message type/.test(m.message));
    ws.send(JSON.stringify({ type: 'check', id: 'y', exerciseId: '../../etc', code: '' }));
    await until((m) => m.type === 'error' && m.id === 'y' && m.code === 'unknown_exercise' && /no exercise/.test(m.message));
    ws.send(JSON.stringify({ type: 'run', id: 'z' }));
    await until((m) => m.type === 'error' && m.id === 'z' && /"code" is missing/.test(m.message));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(messages.every((m) => m.type === 'error')).toBe(true);
    ws.close();
  });
});

describe('shutdown', () => {
  /** Tasks in the pods (bubblewrap sandboxes) of the server with this pid. */
  function podTasks(serverPid: number): number {
    const root = '/sys/fs/cgroup/pids/socket-mastery';
    return readdirSync(root)
      .filter((d) => d.startsWith(`${serverPid}-pod-`))
      .reduce((n, d) => n + readFileSync(path.join(root, d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).length, 0);
  }

  it('SIGTERM stops the server and kills running learner programs', async () => {
    requireStrongIsolation(); // the programs are found by their pods' cgroups
    const own = await startServerProcess();
    const ws = new WebSocket(own.url.replace('http', 'ws') + '/api/ws');
    await new Promise((resolve) => ws.once('open', resolve));
    ws.on('error', () => {});
    const running = new Promise<void>((resolve) =>
      ws.on('message', (d) => {
        if (JSON.parse(d.toString()).type === 'output') resolve();
      }),
    );
    ws.send(JSON.stringify({ type: 'run', id: 'forever', code: 'console.log("running"); setInterval(() => {}, 1000);' }));
    await running;
    const serverPid = own.child.pid!;
    expect(podTasks(serverPid)).toBeGreaterThan(0); // the running program, and the warm pods
    expect(await own.stop('SIGTERM')).toBe(0);
    expect(own.log()).toContain('SIGTERM received, shutting down');
    expect(podTasks(serverPid)).toBe(0);
  });
});
