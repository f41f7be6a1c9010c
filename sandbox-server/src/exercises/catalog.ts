// Reads exercises/<id>/ folders. Each folder describes itself (Exercism style):
//   exercise.json     metadata, validated below
//   instructions.md   what to build
//   starter.ts        the code the learner starts from
//   solution.ts       a correct solution (never sent with the exercise)
//   hints.md          one hint per top-level "- " bullet
//   grade.test.ts     grading tests (vitest API + the grading kit)
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { EXERCISE_ID, exerciseMetaSchema, type ExerciseMeta } from '../shapes/exercise.ts';

export { EXERCISE_ID, exerciseMetaSchema, type ExerciseMeta };

export interface Exercise extends ExerciseMeta {
  dir: string;
  instructions: string;
  starter: string;
  solution: string;
  hints: string[];
  testFile: string;
}

export class ExerciseError extends Error {}

export function parseHints(markdown: string): string[] {
  const hints: string[] = [];
  for (const line of markdown.split('\n')) {
    if (line.startsWith('- ')) hints.push(line.slice(2));
    else if (hints.length && /^\s+\S/.test(line)) hints[hints.length - 1] += '\n' + line.trim();
  }
  return hints;
}

export class ExerciseCatalog {
  constructor(readonly dir: string) {}

  async ids(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && EXERCISE_ID.test(e.name)).map((e) => e.name).sort();
  }

  /** Reads from disk every time: instructors' edits show up without a restart, and reads are cheap. */
  async get(id: string): Promise<Exercise | undefined> {
    if (!EXERCISE_ID.test(id)) return undefined; // also rules out "..", "/" and every other path trick
    const dir = path.join(this.dir, id);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) return undefined;
    const read = (file: string) => readFile(path.join(dir, file), 'utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(await read('exercise.json'));
    } catch (err) {
      throw new ExerciseError(`exercises/${id}/exercise.json: ${(err as Error).message}`);
    }
    const parsed = exerciseMetaSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new ExerciseError(`exercises/${id}/exercise.json: ${issues}`);
    }
    if (parsed.data.id !== id) throw new ExerciseError(`exercises/${id}/exercise.json: id "${parsed.data.id}" must equal the folder name`);
    const [instructions, starter, solution, hints] = await Promise.all([read('instructions.md'), read('starter.ts'), read('solution.ts'), read('hints.md').catch(() => '')]);
    return { ...parsed.data, dir, instructions, starter, solution, hints: parseHints(hints), testFile: path.join(dir, 'grade.test.ts') };
  }

  /**
   * Every exercise that reads cleanly, in course order. One folder being written or broken must not
   * hide the others: it is left out and named in `onBroken` (check:content reports it in full).
   */
  async list(onBroken: (error: ExerciseError) => void = (e) => console.error(`exercise left out of the list: ${e.message}`)): Promise<Exercise[]> {
    const all = await Promise.all(
      (await this.ids()).map((id) =>
        this.get(id).catch((err: unknown) => {
          if (!(err instanceof ExerciseError)) throw err;
          onBroken(err);
          return undefined;
        }),
      ),
    );
    return all.filter((e): e is Exercise => !!e).sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  }
}
