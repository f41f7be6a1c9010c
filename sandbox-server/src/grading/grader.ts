// Grades one submission: compile, open a fresh session, run the exercise's tests one by one in a
// grading context, and build the verdict. Everything that decides the verdict runs here, in the
// trusted process; the learner's process is only ever observed through sockets and its output.
import path from 'node:path';
import { compileTypeScript } from '../compile/compile.ts';
import type { Exercise } from '../exercises/catalog.ts';
import type { Harness } from '../harness/run-harness.ts';
import type { OutputListener } from '../runner/output-capture.ts';
import { gradingContext, GradingFailure, type GradeContext } from '../grading-kit/context.ts';
import { MODULE_DRIVER_FILE, moduleDriverSource } from '../grading-kit/learner-module.ts';
import { learnerServer } from '../grading-kit/learner.ts';
import { loadSuite } from './load-suite.ts';
import type { TestCase, TestFn } from './vitest-shim.ts';
import type { CompileError } from '../shapes/run.ts';
import { capOutput, type TestResult, type Verdict } from '../shapes/verdict.ts';

export const DEFAULT_TEST_TIMEOUT_MS = 5000;
const SERVER_BOOT_TIMEOUT_MS = 20_000;

export interface GradeOptions {
  onTest?: (result: TestResult) => void;
  onOutput?: OutputListener;
  /** Called with the location of a compile error (the verdict then has status "error"). */
  onCompileError?: (error: CompileError) => void;
  signal?: AbortSignal;
}

export class Grader {
  constructor(private readonly harness: Harness) {}

  async grade(exercise: Exercise, code: string, options: GradeOptions = {}): Promise<Verdict> {
    const started = Date.now();
    const done = (v: Omit<Verdict, 'version' | 'durationMs'>): Verdict => ({ version: 2, ...v, durationMs: Date.now() - started });

    const compiled = await compileTypeScript(code);
    if (!compiled.ok) {
      options.onCompileError?.(compiled.error);
      return done({ status: 'error', message: compiled.error.message, tests: [] });
    }

    let suite;
    try {
      suite = await loadSuite(exercise.testFile, path.join(this.harness.config.tmpDir, 'suites'));
    } catch (err) {
      return done({ status: 'error', message: `The tests of ${exercise.id} could not be loaded (a fault in the course, not in your code): ${(err as Error).message}`, tests: [] });
    }

    const files = exercise.kind === 'module' ? { [MODULE_DRIVER_FILE]: moduleDriverSource() } : undefined;
    const session = await this.harness.openSession(compiled.js, this.harness.limitsFor({ ...exercise.limits, timeoutMs: this.harness.config.grade.processTimeoutMs }), files);
    const ctx: GradeContext = { session, exerciseId: exercise.id, kind: exercise.kind, shared: new Map(), processes: [], cleanups: [] };
    session.outputListener = options.onOutput;
    const stop = () => session.processes.forEach((p) => p.kill('stopped on request'));
    options.signal?.addEventListener('abort', stop, { once: true });

    const tests: TestResult[] = [];
    try {
      // A server exercise's program is started before the tests, so its start-up (a sandbox on a
      // busy machine can take seconds) is not charged to the first test. A failure to start is
      // reported by every test that uses it.
      if (exercise.kind === 'server') await this.runWithin(ctx, () => learnerServer().catch(() => {}), SERVER_BOOT_TIMEOUT_MS);
      const setupError = await this.runHooks(ctx, suite.hooks, 'beforeAll');
      for (const test of suite.tests) {
        if (options.signal?.aborted) break;
        const result = setupError ? { name: test.name, status: 'error' as const, message: setupError } : await this.runTest(ctx, test);
        tests.push(result);
        options.onTest?.(result);
      }
      await this.runHooks(ctx, suite.hooks, 'afterAll');
    } finally {
      options.signal?.removeEventListener('abort', stop);
      ctx.cleanups.forEach((c) => c());
      await this.harness.closeSession(session);
    }
    const allPass = tests.length > 0 && tests.every((t) => t.status === 'pass');
    return done({ status: allPass ? 'pass' : 'fail', tests });
  }

  private async runTest(ctx: GradeContext, test: TestCase): Promise<TestResult> {
    const marks = new Map(ctx.processes.map((p) => [p, p.stdout.length + p.stderr.length]));
    const outputSince = () =>
      ctx.processes
        .map((p) => (p.stdout + p.stderr).slice(marks.get(p) ?? 0))
        .join('');
    const hooks = (kind: 'beforeEach' | 'afterEach') => test.hooks.filter((h) => h.kind === kind).map((h) => h.fn);
    const body: TestFn = async () => {
      for (const fn of hooks('beforeEach')) await fn();
      try {
        await test.fn();
      } finally {
        for (const fn of hooks('afterEach')) await fn();
      }
    };
    const error = await this.runWithin(ctx, body, test.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS);
    const output = capOutput(outputSince());
    if (!error) return { name: test.name, status: 'pass', ...(output && { output }) };
    return { name: test.name, status: 'fail', message: error, ...(output && { output }) };
  }

  private async runHooks(ctx: GradeContext, hooks: { kind: string; fn: TestFn }[], kind: string): Promise<string | undefined> {
    for (const h of hooks.filter((x) => x.kind === kind)) {
      const error = await this.runWithin(ctx, h.fn, DEFAULT_TEST_TIMEOUT_MS);
      if (error) return `${kind} failed: ${error}`;
    }
    return undefined;
  }

  /** Runs fn in the grading context; returns a learner-readable failure message, or undefined. */
  private async runWithin(ctx: GradeContext, fn: TestFn, timeoutMs: number): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GradingFailure(`the test did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      await Promise.race([gradingContext.run(ctx, async () => fn()), timeout]);
      return undefined;
    } catch (err) {
      return describeFailure(err);
    } finally {
      clearTimeout(timer);
    }
  }
}

function describeFailure(err: unknown): string {
  if (err instanceof GradingFailure) return err.message;
  if (err instanceof Error) {
    // chai's AssertionError carries the learner-facing message; other errors are the kit's own.
    return err.name === 'AssertionError' ? err.message : `${err.name}: ${err.message}`;
  }
  return String(err);
}
