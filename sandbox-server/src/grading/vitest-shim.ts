// Grading tests are written with vitest's API. The grader does not start vitest per submission
// (its start costs ~0.3 s); it loads each exercise's test file once, with `vitest` resolved to this
// module, which records the tests so the grader can run them many times, concurrently, each run in
// its own grading context. `expect` is vitest's own (@vitest/expect on chai).
//
// Where a test file can tell, this behaves as vitest 3 does with its defaults (observed with a probe
// file under vitest 3.2; sandbox-server/test/vitest-shim.test.ts holds the shim to it):
// - it(name, fn, timeout | { timeout }) and it(name, { timeout }, fn); 5 s per test, 10 s per hook;
// - beforeEach hooks run outer describe first, each block's in declaration order; one may return a
//   cleanup function;
// - afterEach hooks run inner describe first, each block's in reverse declaration order (vitest's
//   default `sequence.hooks: 'stack'`), then the cleanups returned by beforeEach, in reverse;
// - a failing beforeEach skips the rest of them and the test, but the afterEach hooks still run (the
//   cleanups do not); a failing afterEach skips the hooks after it; the test fails with the first error;
// - afterAll hooks run in reverse declaration order, then the cleanups returned by beforeAll, in reverse.
import * as chai from 'chai';
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

/** vitest's defaults (testTimeout, hookTimeout). */
export const TEST_TIMEOUT_MS = 5000;
export const HOOK_TIMEOUT_MS = 10_000;

export type TestFn = () => unknown | Promise<unknown>;
export type HookKind = 'beforeEach' | 'afterEach' | 'beforeAll' | 'afterAll';
export interface Hook {
  kind: HookKind;
  fn: TestFn;
  timeoutMs: number;
}

export interface TestCase {
  /** "describe > it", as vitest names it. */
  name: string;
  fn: TestFn;
  timeoutMs: number;
  /** In the order they run: outer describe first, each block's in declaration order. */
  beforeEach: Hook[];
  /** In the order they run: inner describe first, each block's in reverse declaration order. */
  afterEach: Hook[];
}

export interface CollectedSuite {
  tests: TestCase[];
  /** Top-level hooks, in the order they run. */
  beforeAll: Hook[];
  afterAll: Hook[];
}

/** One describe block while the file loads. */
interface Block {
  beforeEach: Hook[];
  afterEach: Hook[];
}

/** A test as declared: its hooks are known only once the whole file has loaded. */
interface DeclaredTest {
  name: string;
  fn: TestFn;
  timeoutMs: number;
  /** The enclosing describe blocks, outermost first. */
  blocks: Block[];
}

let collecting: { declared: DeclaredTest[]; beforeAll: Hook[]; afterAll: Hook[]; names: string[]; blocks: Block[] } | undefined;

/** Runs `load` (which imports a test file) and returns the tests it declared. */
export async function collect(load: () => Promise<unknown>): Promise<CollectedSuite> {
  const c: NonNullable<typeof collecting> = { declared: [], beforeAll: [], afterAll: [], names: [], blocks: [{ beforeEach: [], afterEach: [] }] };
  collecting = c;
  try {
    await load();
  } finally {
    collecting = undefined;
  }
  // A block's hooks apply to all its tests, also to those declared before the hook.
  const tests = c.declared.map(({ blocks, ...test }) => ({
    ...test,
    beforeEach: blocks.flatMap((b) => b.beforeEach),
    afterEach: [...blocks].reverse().flatMap((b) => [...b.afterEach].reverse()),
  }));
  return { tests, beforeAll: c.beforeAll, afterAll: [...c.afterAll].reverse() };
}

function current() {
  if (!collecting) throw new Error('describe/it can only be called while a grading test file is loading');
  return collecting;
}

export function describe(name: string, body: () => void): void {
  const c = current();
  c.names.push(name);
  c.blocks.push({ beforeEach: [], afterEach: [] });
  try {
    body();
  } finally {
    c.names.pop();
    c.blocks.pop();
  }
}

type TestOptions = { timeout?: number };

/** it(name, fn), it(name, fn, timeout), it(name, fn, { timeout }), it(name, { timeout }, fn). */
export function it(name: string, second: TestFn | TestOptions, third?: TestFn | TestOptions | number): void {
  const [fn, options] = typeof second === 'function' ? [second, third] : [third, second];
  if (typeof fn !== 'function') throw new Error(`it("${name}") needs a test function`);
  if (typeof options === 'function') throw new Error(`it("${name}") was given two functions; the options are a number or { timeout }`);
  const timeout = typeof options === 'number' ? options : options?.timeout;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) throw new Error(`it("${name}"): the timeout must be a positive number of milliseconds, not ${timeout}`);
  const c = current();
  c.declared.push({ name: [...c.names, name].join(' > '), fn, timeoutMs: timeout ?? TEST_TIMEOUT_MS, blocks: [...c.blocks] });
}
export const test = it;

function hook(kind: HookKind) {
  return (fn: TestFn, timeoutMs: number = HOOK_TIMEOUT_MS) => {
    const c = current();
    if (typeof fn !== 'function') throw new Error(`${kind} needs a function`);
    const entry: Hook = { kind, fn, timeoutMs };
    if (kind === 'beforeAll' || kind === 'afterAll') {
      if (c.blocks.length > 1) throw new Error(`${kind} is only supported at the top level of a grading file`);
      c[kind].push(entry);
    } else {
      c.blocks[c.blocks.length - 1][kind].push(entry);
    }
  };
}
export const beforeEach = hook('beforeEach');
export const afterEach = hook('afterEach');
export const beforeAll = hook('beforeAll');
export const afterAll = hook('afterAll');

export const expect = ((value: unknown, message?: string) => chai.expect(value, message)) as unknown as typeof import('vitest').expect;

/**
 * Runs one test function or hook within its time limit and resolves with what it returned (a
 * hook's cleanup function), or rejects with its failure. The grader's: it adds the grading context.
 */
export type RunStep = (fn: TestFn, timeoutMs: number, what: string) => Promise<unknown>;

/** Runs a test between its hooks, in vitest's order; rejects with the first failure. */
export async function runTestCase(test: TestCase, step: RunStep): Promise<void> {
  let failure: { error: unknown } | undefined;
  let cleanups: TestFn[] = [];
  try {
    cleanups = await runBefore(test.beforeEach, step);
    await step(test.fn, test.timeoutMs, 'the test');
  } catch (error) {
    failure = { error };
  }
  try {
    for (const h of test.afterEach) await step(h.fn, h.timeoutMs, 'an afterEach hook');
    for (const cleanup of cleanups) await step(cleanup, HOOK_TIMEOUT_MS, 'a cleanup returned by beforeEach');
  } catch (error) {
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

/** The suite's beforeAll hooks; resolves with the cleanups they returned, in the order to run them. */
export function setUpSuite(suite: CollectedSuite, step: RunStep): Promise<TestFn[]> {
  return runBefore(suite.beforeAll, step);
}

/** The suite's afterAll hooks, then the cleanups beforeAll returned; rejects with the first failure. */
export async function tearDownSuite(suite: CollectedSuite, cleanups: TestFn[], step: RunStep): Promise<void> {
  for (const h of suite.afterAll) await step(h.fn, h.timeoutMs, 'an afterAll hook');
  for (const cleanup of cleanups) await step(cleanup, HOOK_TIMEOUT_MS, 'a cleanup returned by beforeAll');
}

/** Runs before-hooks in order, stopping at the first failure; returns their cleanups, last first. */
async function runBefore(hooks: Hook[], step: RunStep): Promise<TestFn[]> {
  const cleanups: TestFn[] = [];
  for (const h of hooks) {
    const returned = await step(h.fn, h.timeoutMs, `a ${h.kind} hook`);
    if (typeof returned === 'function') cleanups.unshift(returned as TestFn);
  }
  return cleanups;
}
