// The shape of an exercise folder's exercise.json: the one definition that the server's catalog,
// the content checker, the scaffolder, the site and the grading kit all import.
import { z } from 'zod';

export const EXERCISE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** server: the learner's program listens on PORT; client: it connects out; module: it exports functions. */
export const EXERCISE_KINDS = ['server', 'client', 'module'] as const;
export const exerciseKindSchema = z.enum(EXERCISE_KINDS);
export type ExerciseKind = z.infer<typeof exerciseKindSchema>;

export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;

/** Services a run can have of its own besides the reference servers (each started per run). */
export const RUN_SERVICES = ['redis'] as const;
export type RunService = (typeof RUN_SERVICES)[number];

/** File name (without .patch) of a wrong/ example: wrong/<name>.patch. */
export const WRONG_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * A wrong/ example: wrong/<name>.patch, a unified diff against solution.ts that makes one mistake,
 * and the tests it must fail (exact names as the verdict gives them: "describe > it"). The content
 * check applies the patch, grades the result, and requires exactly these tests to fail.
 */
export const wrongExampleSchema = z
  .object({
    name: z.string().regex(WRONG_NAME, 'lower-case letters, digits and dashes: the file is wrong/<name>.patch'),
    /** The mistake in a learner's words, e.g. "treats each 'data' event as one whole line". */
    mistake: z.string().min(8),
    /** Tests that must fail; every other test must pass. */
    fails: z.array(z.string().min(1)).min(1, 'name at least one test this mistake must fail'),
  })
  .strict();
export type WrongExample = z.infer<typeof wrongExampleSchema>;

export const exerciseMetaSchema = z
  .object({
    id: z.string().regex(EXERCISE_ID, 'lower-case letters, digits and dashes'),
    title: z.string().min(3),
    /** Slug of the lesson that embeds it, e.g. "03-tcp-sockets/echo-server". */
    lesson: z.string().min(1),
    kind: exerciseKindSchema,
    difficulty: z.enum(DIFFICULTIES),
    /** Position in the course overview. */
    order: z.number().int().nonnegative(),
    limits: z
      .object({
        timeoutMs: z.number().int().min(500).max(60_000).optional(),
        memoryMb: z.number().int().min(64).max(2048).optional(),
      })
      .strict()
      .default({}),
    /** A server exercise's program runs as this many instances, each on its own PORT, started before the tests. */
    instances: z.number().int().min(1).max(4).default(1),
    /** Services each grading starts for this exercise alone, e.g. "redis" (its own redis-server; REDIS_URL). */
    services: z.array(z.enum(RUN_SERVICES)).default([]),
    /** The mistakes this exercise's tests are proven to catch (see wrongExampleSchema). */
    wrong: z.array(wrongExampleSchema).default([]),
  });

export type ExerciseMeta = z.infer<typeof exerciseMetaSchema>;
