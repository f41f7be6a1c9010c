// Reading exercises/<id>/ folders. The metadata schema and the id pattern are the server's own
// (sandbox-server/src/shapes/exercise.ts), so the checker and the scaffolder accept exactly what
// the server serves.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { EXERCISE_ID, EXERCISE_KINDS, exerciseMetaSchema, type ExerciseKind, type ExerciseMeta } from '../../sandbox-server/src/shapes/exercise.ts';

export { EXERCISE_ID, EXERCISE_KINDS, exerciseMetaSchema, type ExerciseKind, type ExerciseMeta };

/** The files every exercise folder has, and what each is for (used in messages). */
export const EXERCISE_FILES: Record<string, string> = {
  'exercise.json': 'the metadata (id, title, lesson, kind, difficulty, order, limits, wrong)',
  'instructions.md': 'what to build, shown above the editor',
  'starter.ts': 'the code the learner starts from',
  'solution.ts': 'a correct solution (shown only on request)',
  'hints.md': 'one hint per top-level "- " bullet',
  'grade.test.ts': 'the grading tests (vitest API + the grading kit)',
};

/** Every folder in exercises/ (also ones whose name is not a valid id: the checker reports those). */
export function listExerciseDirs(exercisesDir: string): string[] {
  if (!existsSync(exercisesDir)) return [];
  return readdirSync(exercisesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

export type MetaResult =
  | { ok: true; meta: ExerciseMeta; raw: Record<string, unknown> }
  | { ok: false; raw?: unknown; error?: string; issues?: Array<{ field: string; message: string }> };

/** Reads and validates exercises/<id>/exercise.json. */
export function readExerciseMeta(exerciseDir: string): MetaResult {
  const file = path.join(exerciseDir, 'exercise.json');
  if (!existsSync(file)) return { ok: false, error: 'missing' };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { ok: false, error: `not valid JSON: ${(err as Error).message}` };
  }
  const parsed = exerciseMetaSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, raw, issues: parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(the whole file)', message: i.message })) };
  }
  return { ok: true, meta: parsed.data, raw: raw as Record<string, unknown> };
}

/** exercise.json's `order` values, for picking the next free one. */
export function exerciseOrders(exercisesDir: string): number[] {
  return listExerciseDirs(exercisesDir).flatMap((id) => {
    const result = readExerciseMeta(path.join(exercisesDir, id));
    return result.ok ? [result.meta.order] : [];
  });
}
