// Grades one submission: compile, open a fresh session, run the exercise's tests one by one in a
// grading context, and build the verdict. Everything that decides the verdict runs here, in the
// trusted process; the learner's process is only ever observed through sockets and its output.
import path from 'node:path';
import { compileTypeScript } from '../compile/compile.ts';
import type { Exercise } from '../exercises/catalog.ts';
import type { Harness } from '../harness/run-harness.ts';
import type { OutputListener } from '../runner/output-capture.ts';
import { gradingContext, GradingFailure, type GradeContext } from '../grading-kit/context.ts';
import { MODULE_DRIVER_FILE, moduleDriverSource, replaceSpentModule } from '../grading-kit/learner-module.ts';
import { learnerServer } from '../grading-kit/learner.ts';
import { followTraffic, type TrafficListener } from '../harness/session-traffic.ts';
import { loadSuite } from './load-suite.ts';
import { runTestCase, setUpSuite, tearDownSuite, type RunStep, type TestCase, type TestFn } from './vitest-shim.ts';
import type { CompileError } from '../shapes/run.ts';
import { capOutput, UNSTARTED_VERDICT, type TestResult, type Verdict } from '../shapes/verdict.ts';

const SERVER_BOOT_TIMEOUT_MS = 20_000;

export interface GradeOptions {
  onTest?: (result: TestResult) => void;
  onOutput?: OutputListener;
  /** Called with the location of a compile error (the verdict then has status "error"). */
  onCompileError?: (error: CompileError) => void;
  signal?: AbortSignal;
  /** Streams the grade's traffic in batches as it goes; without it, the verdict holds the whole traffic. */
  onTraffic?: TrafficListener;
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
    let session;
    try {
      session = await this.harness.openSession(compiled.js, this.harness.limitsFor({ ...exercise.limits, timeoutMs: this.harness.config.grade.processTimeoutMs }), {
        files,
        services: exercise.services,
      });
    } catch (err) {
      // e.g. a Redis of its own that could not start: the server's set-up is at fault, not the code.
      const needs = exercise.services.length ? ` (it needs ${exercise.services.join(', ')} of its own)` : '';
      return done({ status: 'error', message: `This exercise could not be graded: the server could not prepare its run${needs}: ${(err as Error).message}. This is a fault in the server's set-up, not in your code.`, tests: [] });
    }
    const traffic = followTraffic(session, options.onTraffic);
    const ctx: GradeContext = { session, exerciseId: exercise.id, kind: exercise.kind, shared: new Map(), processes: [], cleanups: [] };
    session.outputListener = options.onOutput;
    const stop = () => session.processes.forEach((p) => p.kill('stopped on request'));
    options.signal?.addEventListener('abort', stop, { once: true });

    const tests: TestResult[] = [];
    try {
      // A server exercise's program is started before the tests, so its start-up (a sandbox on a
      // busy machine can take seconds) is not charged to the first test. A failure to start is
      // reported by every test that uses it.
      const step = this.stepIn(ctx);
      if (exercise.kind === 'server') {
        const instances = Array.from({ length: exercise.instances }, (_, i) => i);
        await failureOf(() => step(() => Promise.all(instances.map((i) => learnerServer(i).catch(() => {}))), SERVER_BOOT_TIMEOUT_MS, 'starting your server'));
      }
      let suiteCleanups: TestFn[] = [];
      const setupError = await failureOf(async () => {
        suiteCleanups = await setUpSuite(suite, step);
      });
      for (const test of suite.tests) {
        if (options.signal?.aborted) break;
        const result = setupError ? { name: test.name, status: 'error' as const, message: `beforeAll failed: ${setupError}` } : await this.runTest(ctx, test, step);
        tests.push(result);
        options.onTest?.(result);
      }
      await failureOf(() => tearDownSuite(suite, suiteCleanups, step));
    } finally {
      options.signal?.removeEventListener('abort', stop);
      ctx.cleanups.forEach((c) => c());
      await this.harness.closeSession(session).finally(() => traffic.finish()); // the stream stops however the grade ended
    }
    // A program whose sandbox never started was not graded: an error of the server's, not a fail.
    const unstarted = (await Promise.all(session.processes.map((p) => p.exited))).find((exit) => exit.unstarted)?.unstarted;
    if (unstarted) {
      return done({ status: 'error', message: `${UNSTARTED_VERDICT} (${unstarted}). Nothing about your code was judged: try again in a moment.`, tests, ...traffic.finish() });
    }
    const allPass = tests.length > 0 && tests.every((t) => t.status === 'pass');
    return done({ status: allPass ? 'pass' : 'fail', tests, ...traffic.finish() });
  }

  private async runTest(ctx: GradeContext, test: TestCase, step: RunStep): Promise<TestResult> {
    const marks = new Map(ctx.processes.map((p) => [p, p.stdout.length + p.stderr.length]));
    const outputSince = () =>
      ctx.processes
        .map((p) => (p.stdout + p.stderr).slice(marks.get(p) ?? 0))
        .join('');
    const endMark = ctx.session.traffic.markTest(test.name); // so the view can show this test's part of the traffic
    const error = await failureOf(() => runTestCase(test, step));
    endMark();
    const output = capOutput(outputSince());
    replaceSpentModule(ctx); // a stuck or ended module must not fail the next test too
    if (!error) return { name: test.name, status: 'pass', ...(output && { output }) };
    return { name: test.name, status: 'fail', message: error, ...(output && { output }) };
  }

  /** Runs a test function or hook in the grading context, failing it when it outlasts its time limit. */
  private stepIn(ctx: GradeContext): RunStep {
    return async (fn, timeoutMs, what) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GradingFailure(`${what} did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      try {
        return await Promise.race([gradingContext.run(ctx, async () => fn()), timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
  }
}

/** Runs work; returns a learner-readable failure message, or undefined when it succeeded. */
async function failureOf(work: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await work();
    return undefined;
  } catch (err) {
    return describeFailure(err);
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
