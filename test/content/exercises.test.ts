// Every exercise is gradable: through the real grading path (HTTP submissions to the real server),
// its solution passes, its starter fails, and every file in wrong/ fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { postJson, ROOT, startServerProcess, type ServerProcess } from '../../sandbox-server/test/support/server-process.ts';

const exercisesDir = path.join(ROOT, 'exercises');
const ids = readdirSync(exercisesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const read = (id: string, file: string) => readFileSync(path.join(exercisesDir, id, file), 'utf8');
const wrongFiles = (id: string) => {
  const dir = path.join(exercisesDir, id, 'wrong');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).sort() : [];
};

let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess();
});
afterAll(async () => {
  await server?.stop();
});

const submit = async (id: string, code: string) => (await postJson(`${server.url}/api/exercises/${id}/submissions`, { code })).json;
const failures = (verdict: any) => verdict.tests.filter((t: any) => t.status !== 'pass').map((t: any) => `${t.name}: ${t.message}`).join('\n');

it('has exercises', () => {
  expect(ids.length).toBeGreaterThan(0);
});

describe.each(ids)('%s', (id) => {
  it('solution passes', async () => {
    const verdict = await submit(id, read(id, 'solution.ts'));
    expect(verdict.status, `${verdict.message ?? ''}${failures(verdict)}`).toBe('pass');
  });

  it('starter fails', async () => {
    const verdict = await submit(id, read(id, 'starter.ts'));
    expect(verdict.status).toBe('fail');
    expect(verdict.tests.some((t: any) => t.status === 'fail' && t.message)).toBe(true);
  });

  it.each(wrongFiles(id))('wrong/%s fails', async (file) => {
    const verdict = await submit(id, read(id, path.join('wrong', file)));
    expect(verdict.status, `wrong/${file} should fail but passed`).toBe('fail');
  });
});
