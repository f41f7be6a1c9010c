// The Socket.IO exercises grade the same under both isolation layers: each one's model solution
// passes here under process isolation (the content check, part of npm test, grades solutions,
// starters and wrong examples in pods). The Redis exercise thereby runs two learner processes and a Redis of its
// own in each mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getJson, postJson, ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { requireRedis } from './support/prerequisites.ts';

const ids = readdirSync(path.join(ROOT, 'exercises')).filter((id) => id.startsWith('sio-'));
const read = (id: string, file: string) => readFileSync(path.join(ROOT, 'exercises', id, file), 'utf8');

describe('Socket.IO exercises under process isolation', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    requireRedis();
    server = await startServerProcess({ SANDBOX_ISOLATION: 'process' });
    expect((await getJson(`${server.url}/api/health`)).json.isolation).toBe('process');
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('has the six exercises of the section', () => {
    expect(ids.length).toBeGreaterThanOrEqual(6);
  });

  it.each(ids)('%s: the solution passes', async (id) => {
    const grade = async (file: string) => (await postJson(`${server.url}/api/exercises/${id}/submissions`, { code: read(id, file) })).json;
    const solved = await grade('solution.ts');
    expect(solved.message ?? '').toBe('');
    expect(solved.tests.filter((t: { status: string }) => t.status !== 'pass').map((t: { name: string; message: string }) => `${t.name}: ${t.message}`)).toEqual([]);
    expect(solved.status).toBe('pass');
  }, 90_000);
});
