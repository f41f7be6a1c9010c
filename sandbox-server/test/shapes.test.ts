// The shapes in sandbox-server/src/shapes/: what the editor socket accepts (and the refusal for
// what it does not), and that what the real server sends — over the socket and the JSON API — is
// exactly what the shapes say, so the site and the checker can rely on their types.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readClientMessage, serverMessageSchema } from '../src/shapes/editor-protocol.ts';
import { runResultSchema } from '../src/shapes/run.ts';
import { verdictSchema } from '../src/shapes/verdict.ts';
import { openEditorSocket } from './support/editor-socket.ts';
import { postJson, ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';

describe('the shapes modules', () => {
  it('import only zod and each other, so the site can import them (it imports their types)', () => {
    const dir = path.join(ROOT, 'sandbox-server/src/shapes');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('editor-protocol.ts');
    for (const file of files) {
      const imports = [...readFileSync(path.join(dir, file), 'utf8').matchAll(/^(?:import|export)\b[^'";]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
      expect(imports.filter((spec) => spec !== 'zod' && !/^\.\/[a-z-]+\.ts$/.test(spec)), file).toEqual([]);
    }
  });
});

describe('readClientMessage', () => {
  it('accepts run (with or without an exercise), check and stop', () => {
    expect(readClientMessage({ type: 'run', id: 'r1', code: 'x' })).toEqual({ ok: true, message: { type: 'run', id: 'r1', code: 'x' } });
    expect(readClientMessage({ type: 'run', id: 'r1', code: 'x', exerciseId: null })).toEqual({ ok: true, message: { type: 'run', id: 'r1', code: 'x', exerciseId: null } });
    expect(readClientMessage({ type: 'check', id: 'c1', code: 'x', exerciseId: 'tcp-echo-server' })).toEqual({
      ok: true,
      message: { type: 'check', id: 'c1', code: 'x', exerciseId: 'tcp-echo-server' },
    });
    expect(readClientMessage({ type: 'stop', id: 'r1' })).toEqual({ ok: true, message: { type: 'stop', id: 'r1' } });
  });

  it('refuses what is not an object, without an id', () => {
    for (const data of [null, 'run', 3, ['run']]) {
      expect(readClientMessage(data)).toEqual({ ok: false, refusal: { code: 'malformed_message', message: 'Malformed message: a message must be a JSON object.' } });
    }
  });

  it('refuses a missing or unusable id before anything else (so nothing claims an id it did not have)', () => {
    expect(readClientMessage({ type: 'fly' })).toEqual({ ok: false, refusal: { code: 'missing_id', message: 'Every message needs an "id" (string).' } });
    const invalid = { ok: false, refusal: { code: 'invalid_id', message: 'The field "id" must be a string of 1 to 128 characters.' } };
    expect(readClientMessage({ type: 'run', id: 7, code: 'x' })).toEqual(invalid);
    expect(readClientMessage({ type: 'run', id: '', code: 'x' })).toEqual(invalid);
    expect(readClientMessage({ type: 'run', id: 'x'.repeat(129), code: 'x' })).toEqual(invalid);
  });

  it('refuses an unknown type with the id and the types there are', () => {
    expect(readClientMessage({ type: 'fly', id: 'x' })).toEqual({
      ok: false,
      id: 'x',
      refusal: { code: 'unknown_type', message: 'Unknown message type "fly"; use "run", "check" or "stop".' },
    });
    expect(readClientMessage({ id: 'x' })).toEqual({
      ok: false,
      id: 'x',
      refusal: { code: 'unknown_type', message: 'Unknown message type undefined; use "run", "check" or "stop".' },
    });
  });

  it('names the field that is missing or wrong, with the HTTP API’s codes', () => {
    const refused = (data: object) => readClientMessage(data);
    expect(refused({ type: 'run', id: 'z' })).toEqual({
      ok: false,
      id: 'z',
      refusal: { code: 'missing_code', message: 'The field "code" is missing: send {"code": "<TypeScript>"}.' },
    });
    expect(refused({ type: 'run', id: 'z', code: 42 })).toEqual({ ok: false, id: 'z', refusal: { code: 'invalid_code', message: 'The field "code" must be a string of TypeScript.' } });
    expect(refused({ type: 'run', id: 'z', code: 'x', exerciseId: 5 })).toEqual({
      ok: false,
      id: 'z',
      refusal: { code: 'invalid_exercise_id', message: 'The field "exerciseId" must be a string.' },
    });
    expect(refused({ type: 'check', id: 'c', code: 'x' })).toEqual({ ok: false, id: 'c', refusal: { code: 'missing_exercise_id', message: 'A "check" needs an "exerciseId".' } });
    expect(refused({ type: 'check', id: 'c', code: 'x', exerciseId: null })).toEqual({
      ok: false,
      id: 'c',
      refusal: { code: 'missing_exercise_id', message: 'A "check" needs an "exerciseId".' },
    });
  });
});

describe('what the server sends', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ RUN_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const solution = readFileSync(path.join(ROOT, 'exercises/tcp-echo-server/solution.ts'), 'utf8');

  it('over the editor socket: every message of a run, a failed compile, a check and a refusal fits the protocol', async () => {
    const { ws, messages, until } = await openEditorSocket(server.url);
    ws.send(JSON.stringify({ type: 'run', id: 'run', code: 'console.log("out"); console.error("err"); process.exit(3);' }));
    ws.send(JSON.stringify({ type: 'run', id: 'bad', code: 'let x = (;' }));
    ws.send(JSON.stringify({ type: 'run', id: 'slow', code: 'setInterval(() => {}, 1000);' }));
    ws.send(JSON.stringify({ type: 'check', id: 'check', exerciseId: 'tcp-echo-server', code: solution }));
    ws.send(JSON.stringify({ type: 'fly', id: 'fly' }));
    await Promise.all(['run', 'bad', 'slow'].map((id) => until((m) => m.type === 'exit' && m.id === id)));
    await until((m) => m.type === 'verdict');
    await until((m) => m.type === 'error');
    ws.close();
    // Each kind the protocol has was sent at least once, and every message parses as it is.
    expect(new Set(messages.map((m) => m.type))).toEqual(new Set(['output', 'exit', 'compile-error', 'limit', 'test', 'verdict', 'error', 'traffic']));
    for (const message of messages) expect(serverMessageSchema.parse(message)).toEqual(message);
  });

  it('over the JSON API: a run’s result and a submission’s verdict', async () => {
    const run = await postJson(`${server.url}/api/run`, { code: 'console.log("hi")' });
    expect(run.status).toBe(200);
    expect(runResultSchema.parse(run.json)).toEqual(run.json);
    const compile = await postJson(`${server.url}/api/run`, { code: 'let x = (;' });
    expect(runResultSchema.parse(compile.json)).toMatchObject({ compileError: { line: 1, column: 10 } });
    const verdict = await postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code: solution });
    expect(verdict.status).toBe(200);
    expect(verdictSchema.parse(verdict.json)).toEqual(verdict.json);
    expect(verdict.json.status).toBe('pass');
  });

  it('refuses a bad field over HTTP with the same code and message as over the editor socket', async () => {
    const { ws, until } = await openEditorSocket(server.url);
    const cases: Array<[string, object]> = [
      ['/api/run', {}],
      ['/api/run', { code: 42 }],
      ['/api/run', { code: 'x', exerciseId: 5 }],
      ['/api/exercises/tcp-echo-server/submissions', { code: ['x'] }],
    ];
    for (const [i, [route, body]] of cases.entries()) {
      const http = await postJson(`${server.url}${route}`, body);
      ws.send(JSON.stringify({ type: route === '/api/run' ? 'run' : 'check', id: `bad-${i}`, exerciseId: 'tcp-echo-server', ...body }));
      const socket = await until((m) => m.id === `bad-${i}`);
      expect(http.status).toBe(400);
      expect(http.json.error).toEqual({ code: socket.code, message: socket.message });
    }
    ws.close();
    expect((await postJson(`${server.url}/api/run`, { code: 42 })).json.error).toEqual({ code: 'invalid_code', message: 'The field "code" must be a string of TypeScript.' });
  });
});
