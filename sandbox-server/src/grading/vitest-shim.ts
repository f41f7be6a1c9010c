// Grading tests are written with vitest's API. The grader does not start vitest per submission
// (its start costs ~0.3 s); it loads each exercise's test file once, with `vitest` resolved to this
// module, which records the tests so the grader can run them many times, concurrently, each run in
// its own grading context. `expect` is vitest's own (@vitest/expect on chai).
import * as chai from 'chai';
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

export type TestFn = () => unknown | Promise<unknown>;
export type Hook = { kind: 'beforeEach' | 'afterEach' | 'beforeAll' | 'afterAll'; fn: TestFn };

export interface TestCase {
  name: string;
  fn: TestFn;
  timeoutMs?: number;
  /** Hooks of the enclosing describe blocks, outermost first. */
  hooks: Hook[];
}

export interface CollectedSuite {
  tests: TestCase[];
  hooks: Hook[]; // top-level beforeAll/afterAll
}

let collecting: { suite: CollectedSuite; names: string[]; hooks: Hook[][] } | undefined;

/** Runs `load` (which imports a test file) and returns the tests it declared. */
export async function collect(load: () => Promise<unknown>): Promise<CollectedSuite> {
  const suite: CollectedSuite = { tests: [], hooks: [] };
  collecting = { suite, names: [], hooks: [[]] };
  try {
    await load();
  } finally {
    collecting = undefined;
  }
  return suite;
}

function current() {
  if (!collecting) throw new Error('describe/it can only be called while a grading test file is loading');
  return collecting;
}

export function describe(name: string, body: () => void): void {
  const c = current();
  c.names.push(name);
  c.hooks.push([]);
  try {
    body();
  } finally {
    c.names.pop();
    c.hooks.pop();
  }
}

export function it(name: string, fn: TestFn, timeoutMs?: number): void {
  const c = current();
  c.suite.tests.push({ name: [...c.names, name].join(' > '), fn, timeoutMs, hooks: c.hooks.flat() });
}
export const test = it;

function hook(kind: Hook['kind']) {
  return (fn: TestFn) => {
    const c = current();
    const entry = { kind, fn };
    const once = kind === 'beforeAll' || kind === 'afterAll';
    if (once && c.hooks.length > 1) throw new Error(`${kind} is only supported at the top level of a grading file`);
    if (once) c.suite.hooks.push(entry);
    else c.hooks[c.hooks.length - 1].push(entry);
  };
}
export const beforeEach = hook('beforeEach');
export const afterEach = hook('afterEach');
export const beforeAll = hook('beforeAll');
export const afterAll = hook('afterAll');

export const expect = ((value: unknown, message?: string) => chai.expect(value, message)) as unknown as typeof import('vitest').expect;
