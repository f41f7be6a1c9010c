// The grader's stand-in for vitest behaves as vitest 3 does where a grading test can tell: the
// order of hooks and the forms of a test's timeout. The probe's order is checked against real
// vitest too (a child vitest run of support/hook-order.vitest.ts), so an upgrade that changes it shows.
import { afterAll as vitestAfterAll, beforeAll as vitestBeforeAll, describe as vitestDescribe, expect as vitestExpect, it as vitestIt } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as shim from '../src/grading/vitest-shim.ts';
import { declareHookOrderProbe } from './support/hook-order-probe.ts';
import { postJson, ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';

/** What vitest 3.2 runs for the probe (support/hook-order-probe.ts), in order. */
const VITEST_ORDER = [
  'beforeAll 1',
  'beforeAll 2',
  // inner > t1
  'outer beforeEach 1',
  'outer beforeEach 2',
  'inner beforeEach 1',
  't1',
  'inner afterEach 2',
  'inner afterEach 1',
  'outer afterEach 2',
  'outer afterEach 1',
  'inner beforeEach 1 cleanup',
  'outer beforeEach 2 cleanup',
  'outer beforeEach 1 cleanup',
  // failing beforeEach > t2: the rest of the beforeEach hooks and the test are skipped, the
  // afterEach hooks run, the cleanups do not
  'outer beforeEach 1',
  'outer beforeEach 2',
  'bad beforeEach',
  'afterEach after a bad beforeEach',
  'outer afterEach 2',
  'outer afterEach 1',
  // failing afterEach > t3: the hooks after the failing one are skipped
  'outer beforeEach 1',
  'outer beforeEach 2',
  't3',
  'afterEach declared after the bad one',
  'bad afterEach',
  // t4
  'outer beforeEach 1',
  'outer beforeEach 2',
  't4',
  'outer afterEach 2',
  'outer afterEach 1',
  'outer beforeEach 2 cleanup',
  'outer beforeEach 1 cleanup',
  'afterAll 2',
  'afterAll 1',
  'beforeAll 2 cleanup',
  'beforeAll 1 cleanup',
];

/** Runs each step at once, remembering the time limit it was given. */
const runNow: shim.RunStep = async (fn) => fn();

vitestDescribe('the vitest shim', () => {
  vitestIt('is checked against vitest itself: vitest runs the probe in this order', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-hook-order-'));
    try {
      const log = path.join(dir, 'order.txt');
      const config = path.join(dir, 'vitest.config.mjs');
      writeFileSync(config, `export default { test: { include: ['sandbox-server/test/support/hook-order.vitest.ts'] } };\n`);
      // the child is a vitest run of its own, not a worker of this one
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
      const vitest = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
      const run = await promisify(execFile)(process.execPath, [vitest, 'run', '--root', ROOT, '--config', config], { env: { ...env, NO_COLOR: '1', HOOK_ORDER_LOG: log } }).catch(
        (err: { stdout: string; stderr: string }) => err,
      );
      vitestExpect(existsSync(log), `vitest did not run the probe:\n${run.stdout}${run.stderr}`).toBe(true);
      vitestExpect(readFileSync(log, 'utf8').trimEnd().split('\n')).toEqual(VITEST_ORDER);
      vitestExpect(run.stdout).toMatch(/Tests\s+2 failed \| 2 passed \(4\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  vitestIt('runs hooks and tests in vitest 3’s order, with vitest’s failures', async () => {
    const log: string[] = [];
    const suite = await shim.collect(async () => declareHookOrderProbe(shim, log));
    vitestExpect(suite.tests.map((t) => t.name)).toEqual(['inner > t1', 'failing beforeEach > t2', 'failing afterEach > t3', 't4']);
    const cleanups = await shim.setUpSuite(suite, runNow);
    const failures: Record<string, string> = {};
    for (const test of suite.tests) {
      await shim.runTestCase(test, runNow).catch((err: Error) => (failures[test.name] = err.message));
    }
    await shim.tearDownSuite(suite, cleanups, runNow);
    vitestExpect(log).toEqual(VITEST_ORDER);
    vitestExpect(failures).toEqual({ 'failing beforeEach > t2': 'boom', 'failing afterEach > t3': 'after boom' });
  });

  vitestIt('applies a block’s hooks also to its tests declared before them', async () => {
    const log: string[] = [];
    const suite = await shim.collect(async () => {
      shim.it('early', () => void log.push('early'));
      shim.afterEach(() => void log.push('afterEach declared later'));
    });
    await shim.runTestCase(suite.tests[0], runNow);
    vitestExpect(log).toEqual(['early', 'afterEach declared later']);
  });

  vitestIt('takes a test’s timeout as a number or { timeout }, in either place, and vitest’s defaults otherwise', async () => {
    const fn = () => {};
    const suite = await shim.collect(async () => {
      shim.it('default', fn);
      shim.it('number', fn, 100);
      shim.it('options last', fn, { timeout: 200 });
      shim.it('options first', { timeout: 300 }, fn);
      shim.it('empty options', fn, {});
      shim.beforeEach(fn);
      shim.afterEach(fn, 400);
    });
    vitestExpect(suite.tests.map((t) => [t.name, t.timeoutMs])).toEqual([
      ['default', 5000],
      ['number', 100],
      ['options last', 200],
      ['options first', 300],
      ['empty options', 5000],
    ]);
    const given: Array<[string, number]> = [];
    await shim.runTestCase(suite.tests[3], async (step, timeoutMs, what) => {
      given.push([what, timeoutMs]);
      return step();
    });
    vitestExpect(given).toEqual([
      ['a beforeEach hook', 10_000],
      ['the test', 300],
      ['an afterEach hook', 400],
    ]);
  });

  vitestIt('says what is wrong with a test it cannot take', async () => {
    const declare = (body: () => void) => shim.collect(async () => body());
    await vitestExpect(declare(() => shim.it('no body', { timeout: 5 }))).rejects.toThrow('it("no body") needs a test function');
    await vitestExpect(declare(() => shim.it('zero', () => {}, 0))).rejects.toThrow('it("zero"): the timeout must be a positive number of milliseconds, not 0');
    await vitestExpect(declare(() => shim.describe('d', () => shim.afterAll(() => {})))).rejects.toThrow('afterAll is only supported at the top level of a grading file');
  });
});

// The grader runs the shim's order and honours the timeout forms: a grading file through the real server.
vitestDescribe('the grader', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-vitest-shim-'));
  let server: ServerProcess;
  vitestBeforeAll(async () => {
    const exercise = path.join(dir, 'exercises', 'hook-order');
    mkdirSync(exercise, { recursive: true });
    symlinkSync(path.join(ROOT, 'sandbox-server'), path.join(dir, 'sandbox-server'));
    const write = (name: string, text: string) => writeFileSync(path.join(exercise, name), text);
    write('exercise.json', JSON.stringify({ id: 'hook-order', title: 'Hook order', lesson: 'x/y', kind: 'module', difficulty: 'easy', order: 1 }));
    for (const f of ['instructions.md', 'starter.ts', 'solution.ts']) write(f, '');
    write(
      'grade.test.ts',
      `import { afterEach, beforeEach, describe, expect, it } from 'vitest';
const log: string[] = [];
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
beforeEach(() => { log.push('outer before'); return () => log.push('outer cleanup'); });
afterEach(() => { log.push('outer after 1'); });
afterEach(() => { log.push('outer after 2'); });
describe('inner', () => {
  afterEach(() => { log.push('inner after'); });
  it('first', () => { log.push('first'); });
});
it('order', () => {
  expect(log).toEqual(['outer before', 'first', 'inner after', 'outer after 2', 'outer after 1', 'outer cleanup', 'outer before']);
});
it('too slow for its options', async () => { await wait(1000); }, { timeout: 200 });
it('too slow for its number', async () => { await wait(1000); }, 200);
it('options first', { timeout: 200 }, async () => { await wait(1000); });
`,
    );
    server = await startServerProcess({ EXERCISES_DIR: path.join(dir, 'exercises'), RATE_LIMIT_PER_MIN: '0' });
  });
  vitestAfterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  vitestIt('runs the hooks in vitest’s order and stops a test at the timeout it was given', async () => {
    const { json } = await postJson(`${server.url}/api/exercises/hook-order/submissions`, { code: 'export {};' });
    const timedOut = { status: 'fail', message: 'the test did not finish within 0.2 s' };
    vitestExpect(json.tests).toEqual([
      { name: 'inner > first', status: 'pass' },
      { name: 'order', status: 'pass' },
      { name: 'too slow for its options', ...timedOut },
      { name: 'too slow for its number', ...timedOut },
      { name: 'options first', ...timedOut },
    ]);
  });
});
