// The verdict of a check: Exercism's test-runner results.json, version 2, plus durationMs. The
// grader builds it, the API and the editor socket send it, the site shows it, the content checker
// reads it. Browser-safe (no node: imports): the site imports its types.
import { z } from 'zod';
import { trafficSchema } from './traffic.ts';

export const testStatusSchema = z.enum(['pass', 'fail', 'error']);
export type TestStatus = z.infer<typeof testStatusSchema>;

/** Exercism caps a test's output at 500 characters. */
export const OUTPUT_CAP = 500;

export const testResultSchema = z.strictObject({
  /** "describe > it", as the test file names it. */
  name: z.string().min(1),
  status: testStatusSchema,
  /** Why it failed, written for the learner. */
  message: z.string().optional(),
  /** What the learner's program printed while this test ran (see capOutput). */
  output: z.string().optional(),
});
export type TestResult = z.infer<typeof testResultSchema>;

export const verdictSchema = z.strictObject({
  version: z.literal(2),
  /** pass: every test passed; fail: some failed; error: the tests could not run (message says why). */
  status: testStatusSchema,
  message: z.string().optional(),
  tests: z.array(testResultSchema),
  durationMs: z.number().nonnegative(),
  /** What was exchanged while the tests ran, with each test's marks (over HTTP; the editor socket streams it instead). */
  traffic: trafficSchema.optional(),
});
export type Verdict = z.infer<typeof verdictSchema>;

/**
 * How an error verdict begins when the program never ran because the server could not start its
 * sandbox (a busy host): nothing was judged, and the same code may be submitted again as it is.
 */
export const UNSTARTED_VERDICT = 'Your program could not be graded: the server could not start a sandbox for it';

/** A test's output as the verdict carries it: nothing when empty, cut at OUTPUT_CAP with a note. */
export function capOutput(text: string): string | undefined {
  if (!text) return undefined;
  return text.length > OUTPUT_CAP ? `${text.slice(0, OUTPUT_CAP)}\n… output cut at ${OUTPUT_CAP} characters` : text;
}
