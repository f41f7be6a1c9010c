// A module exercise loads the learner's module once per grade, but a test that leaves it stuck (a
// call that never returns, a test that ran out of time with calls still coming) or ended must not
// fail the tests after it: each of those gets a fresh module process and is judged on its own.
// Black-box, through the real server on an exercises folder of its own (as load-suite.test.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postJson, ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-module-spent-'));
const exercise = path.join(dir, 'exercises', 'spend-me');
let server: ServerProcess;

// count() says how many times this process has been asked: 1 proves a fresh process.
const GRADE_TEST = `import { it } from 'vitest';
import { GradingFailure, learnerModule } from '../../sandbox-server/src/grading-kit/index.ts';
const firstCallOfAFreshProcess = async () => {
  const count = await (await learnerModule()).call('count');
  if (count !== 1) throw new GradingFailure(\`count() returned \${count}\`);
};
it('a call that never returns', async () => {
  await (await learnerModule()).call('spin');
});
it('after a call that never returned', firstCallOfAFreshProcess);
it('a test that runs out of time while its calls keep returning', async () => {
  const module = await learnerModule();
  for (;;) {
    await module.call('count');
    await module.call('busy', 300);
  }
}, 1000);
it('after a test that ran out of time', firstCallOfAFreshProcess);
it('a call that ends the program', async () => {
  await (await learnerModule()).call('quit');
});
it('after the program ended', firstCallOfAFreshProcess);
`;

const LEARNER = `let calls = 0;
export function count() { return ++calls; }
export function spin() { for (;;) {} }
export function busy(ms) { const until = Date.now() + ms; while (Date.now() < until) {} return ms; }
export function quit() { process.exit(3); }
`;

beforeAll(async () => {
  symlinkSync(path.join(ROOT, 'sandbox-server'), path.join(dir, 'sandbox-server'));
  mkdirSync(exercise, { recursive: true });
  const files: Record<string, string> = {
    'exercise.json': JSON.stringify({ id: 'spend-me', title: 'Spend me', lesson: 'x/y', kind: 'module', difficulty: 'easy', order: 1 }),
    'grade.test.ts': GRADE_TEST,
    'instructions.md': '',
    'starter.ts': '',
    'solution.ts': '',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(exercise, name), text);
  server = await startServerProcess({ EXERCISES_DIR: path.join(dir, 'exercises'), RATE_LIMIT_PER_MIN: '0' });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('gives the test after a stuck or ended module a fresh process, with messages in the learner\'s words', async () => {
  const { json } = await postJson(`${server.url}/api/exercises/spend-me/submissions`, { code: LEARNER });
  const tests = json.tests as Array<{ name: string; status: string; message?: string }>;
  expect(tests.map((t) => [t.name, t.status]), JSON.stringify(json)).toEqual([
    ['a call that never returns', 'fail'],
    ['after a call that never returned', 'pass'],
    ['a test that runs out of time while its calls keep returning', 'fail'],
    ['after a test that ran out of time', 'pass'],
    ['a call that ends the program', 'fail'],
    ['after the program ended', 'pass'],
  ]);
  expect(tests[0].message).toMatch(/^spin\(\) did not return within 2 s/);
  expect(tests[2].message).toMatch(/did not finish within 1 s/);
  expect(tests[4].message).toMatch(/^while running quit\(\), your program exited with code 3/);
  for (const t of tests) expect(t.message ?? '').not.toMatch(/listing exports/);
}, 60_000);
