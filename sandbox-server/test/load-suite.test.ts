// The grader loads a grade.test.ts once, and again only when a bundled input changes: the test file
// itself or a helper it imports (instructors edit both while `npm run dev` runs). Black-box, through
// the real server on an exercises folder of its own, reached through a symlinked sandbox-server/ as
// the content checker's copies are (the grading kit must stay the server's own module).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postJson, ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-load-suite-'));
const exercise = path.join(dir, 'exercises', 'reload-me');
let server: ServerProcess;

function write(name: string, text: string, secondsAgo = 0) {
  const file = path.join(exercise, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  const when = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, when, when);
}

const GRADE_TEST = (extra = '') => `import { it } from 'vitest';
import { GradingFailure, learnerModule } from '../../sandbox-server/src/grading-kit/index.ts';
import { NAME } from './names.ts';
it(NAME, async () => {
  const answer = await (await learnerModule()).call('answer');
  if (answer !== 42) throw new GradingFailure(\`answer() returned \${answer}\`);
});
${extra}`;

beforeAll(async () => {
  symlinkSync(path.join(ROOT, 'sandbox-server'), path.join(dir, 'sandbox-server'));
  write('exercise.json', JSON.stringify({ id: 'reload-me', title: 'Reload me', lesson: 'x/y', kind: 'module', difficulty: 'easy', order: 1 }));
  for (const f of ['instructions.md', 'starter.ts', 'solution.ts']) write(f, '');
  write('names.ts', "export const NAME = 'first name';\n", 10);
  write('grade.test.ts', GRADE_TEST(), 10);
  server = await startServerProcess({ EXERCISES_DIR: path.join(dir, 'exercises'), RATE_LIMIT_PER_MIN: '0' });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function testNames(): Promise<string[]> {
  const { json } = await postJson(`${server.url}/api/exercises/reload-me/submissions`, { code: 'export function answer() { return 42; }' });
  expect(json.status, JSON.stringify(json)).toBe('pass');
  return json.tests.map((t: { name: string }) => t.name);
}

it('grades with the kit reached through a symlink, and keeps the suite while nothing changes', async () => {
  expect(await testNames()).toEqual(['first name']);
  expect(await testNames()).toEqual(['first name']);
});

it('reloads the tests when a helper the test file imports changes', async () => {
  write('names.ts', "export const NAME = 'second, longer name';\n");
  expect(await testNames()).toEqual(['second, longer name']);
});

it('reloads the tests when the test file itself changes', async () => {
  write('grade.test.ts', GRADE_TEST("it('another test', () => {});\n"));
  expect(await testNames()).toEqual(['second, longer name', 'another test']);
});

it('answers concurrent submissions of a test file that does not build with an error verdict each, and keeps serving', async () => {
  write('grade.test.ts', "import { it } from 'vitest';\nit('broken', () => { [1].map(() => { await 1; }); });\n");
  const verdicts = await Promise.all(
    Array.from({ length: 4 }, () => postJson(`${server.url}/api/exercises/reload-me/submissions`, { code: 'export function answer() { return 42; }' })),
  );
  for (const { status, json } of verdicts) {
    expect(status).toBe(200);
    expect(json).toMatchObject({ status: 'error', message: expect.stringMatching(/^The tests of reload-me could not be loaded \(a fault in the course, not in your code\)/) });
  }
  write('grade.test.ts', GRADE_TEST());
  expect(await testNames()).toEqual(['second, longer name']); // the server is still up, and reloads the fixed file
});
