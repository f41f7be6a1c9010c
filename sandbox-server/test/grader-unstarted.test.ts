// A program whose sandbox could not be started (a host too busy to boot a pod in time) was never
// graded: the verdict is an error saying so, not a fail that blames the code, and each test says
// the program never ran. The isolation layer is one whose sandboxes never start.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { verdictSchema, UNSTARTED_VERDICT, type Verdict } from '../src/shapes/verdict.ts';
import { ROOT } from './support/server-process.ts';
import { UNSTARTED_WHY } from './support/grade-on-a-busy-host.ts';

let tmpDir: string;
beforeAll(async () => {
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'sm-test-unstarted-'));
});
afterAll(async () => {
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
});

async function gradeOnBusyHost(id: string, program: string): Promise<Verdict> {
  const file = path.join(tmpDir, `${id}.ts`);
  await writeFile(file, program);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'sandbox-server/test/support/grade-on-a-busy-host.ts'), id, file], {
    cwd: ROOT,
    env: { ...process.env, SANDBOX_TMP_DIR: path.join(tmpDir, 'work') },
  });
  return verdictSchema.parse(JSON.parse(stdout));
}

it.each([
  ['tcp-echo-server', 'server'],
  ['tcp-echo-client', 'client'],
])('%s (a %s exercise): the verdict is an error saying the program never ran, and so is each test', async (id) => {
  const verdict = await gradeOnBusyHost(id, 'console.log("never runs");\n');
  expect(verdict.status).toBe('error');
  expect(verdict.message).toBe(`${UNSTARTED_VERDICT} (${UNSTARTED_WHY}). Nothing about your code was judged: try again in a moment.`);
  expect(verdict.tests.length).toBeGreaterThan(0);
  for (const test of verdict.tests) expect(test.status).not.toBe('pass');
});

it("names the sandbox's failure in a server exercise's tests, not the program", async () => {
  const verdict = await gradeOnBusyHost('tcp-echo-server', 'console.log("never runs");\n');
  expect(verdict.tests.length).toBeGreaterThan(0);
  for (const test of verdict.tests) expect(test.message).toContain(`your program never ran: the server could not start its sandbox (${UNSTARTED_WHY})`);
});
