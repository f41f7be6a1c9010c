// How one run of a learner program ended ("Run" in the editor, POST /api/run), and the compile
// error that stops a program before it starts. Browser-safe (no node: imports): the site imports
// its types.
import { z } from 'zod';
import { trafficSchema } from './traffic.ts';

export const compileErrorSchema = z.strictObject({
  /** `main.ts:3:14: error: Expected ";" but found "x"` (one line per error). */
  message: z.string(),
  /** Of the first error, counted from 1 as editors do. */
  line: z.number().int().positive(),
  column: z.number().int().positive(),
});
export type CompileError = z.infer<typeof compileErrorSchema>;

export const runResultSchema = z.strictObject({
  stdout: z.string(),
  stderr: z.string(),
  /** null when the program did not exit by itself (killed, or never started). */
  exitCode: z.number().int().nullable(),
  /** The signal that ended it, e.g. "SIGKILL". */
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  /** Plain-words description of the limit that stopped the program. */
  limit: z.string().optional(),
  compileError: compileErrorSchema.optional(),
  durationMs: z.number().nonnegative(),
  /** What the program exchanged with its run's servers (POST /api/run; the editor socket streams it instead). */
  traffic: trafficSchema.optional(),
});
export type RunResult = z.infer<typeof runResultSchema>;
