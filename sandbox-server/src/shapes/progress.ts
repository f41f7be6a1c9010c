// The progress file: a learner's code and solved marks, exported from one browser and imported
// into another (the course overview's Export / Import). Versioned, so a file written by a later
// course can be recognised and refused plainly instead of half-read. Browser-safe (no node: imports);
// the site loads it only when a learner exports or imports.
import { z } from 'zod';
import { EXERCISE_ID } from './exercise.ts';

/** The `format` field that says "this is a Socket Mastery progress file". */
export const PROGRESS_FORMAT = 'socket-mastery-progress';
/** The version this code writes and reads. A change that old readers cannot read raises it. */
export const PROGRESS_VERSION = 1;
/**
 * Largest file accepted. A browser keeps about 5 MB per site in localStorage, so a bigger file
 * could not be stored anyway; the cap also keeps a wrong pick (a video, a disk image) from being read.
 */
export const MAX_PROGRESS_FILE_BYTES = 4 * 1024 * 1024;
/** Longest code kept per exercise or playground (ten times what the sandbox accepts for a run). */
export const MAX_PROGRESS_CODE_CHARS = 1_000_000;
const MAX_PLAYGROUND_KEY_CHARS = 1000;

const code = z
  .string({ error: 'must be the code as text' })
  .max(MAX_PROGRESS_CODE_CHARS, { error: `is longer than ${MAX_PROGRESS_CODE_CHARS.toLocaleString('en')} characters` });
const isoTime = z.iso.datetime({ offset: true, error: 'must be a date and time like 2026-12-01T10:00:00.000Z' });

export const exerciseProgressSchema = z
  .strictObject({
    /** The learner's code in the exercise's editor; absent when they never changed the starter. */
    code: code.optional(),
    solved: z.boolean({ error: 'must be true or false' }),
    /** When a Check first passed; present exactly when solved. */
    solvedAt: isoTime.optional(),
  })
  .superRefine(({ solved, solvedAt }, ctx) => {
    if (solved && solvedAt === undefined) ctx.addIssue({ code: 'custom', path: ['solvedAt'], message: 'is missing for a solved exercise' });
    if (!solved && solvedAt !== undefined) ctx.addIssue({ code: 'custom', path: ['solvedAt'], message: 'is set for an exercise that is not solved' });
  });
export type ExerciseProgress = z.infer<typeof exerciseProgressSchema>;

/**
 * A playground's key is the one the site stores its code under, after "playground:": the page's
 * path, then the sample's title and a hash of its original code ("/03-tcp-sockets/first-tcp-server:
 * echo-server.ts:1a2b3c"), so a sample that changed since the export starts fresh, as it does in storage.
 */
// eslint-disable-next-line no-control-regex
export const PLAYGROUND_KEY = /^\/[^\u0000-\u001f\u007f]*$/;
const playgroundKey = z
  .string()
  .max(MAX_PLAYGROUND_KEY_CHARS, { error: `is a playground name longer than ${MAX_PLAYGROUND_KEY_CHARS} characters` })
  .regex(PLAYGROUND_KEY, { error: 'is not a playground name (they start with the page path, "/…")' });
const exerciseKey = z.string().regex(EXERCISE_ID, { error: 'is not an exercise id (lower-case letters, digits and dashes)' });

export const progressFileSchema = z.strictObject({
  format: z.literal(PROGRESS_FORMAT),
  version: z.literal(PROGRESS_VERSION),
  exportedAt: isoTime,
  /** By exercise id: only exercises with edited code or a solved mark. */
  exercises: z.record(exerciseKey, exerciseProgressSchema),
  /** Edited playground code by playground key (see PLAYGROUND_KEY). */
  playgrounds: z.record(playgroundKey, code),
});
export type ProgressFile = z.infer<typeof progressFileSchema>;
