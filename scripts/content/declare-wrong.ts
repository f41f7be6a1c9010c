// Adding a wrong example (npm run new:wrong, scripts/new-wrong.ts): the patch made from an edited
// copy of solution.ts (or an existing wrong/<name>.patch), the patched solution graded, and the
// tests it fails declared in exercise.json's `wrong`. Grading first means the author sees which
// tests the mistake fails, and nothing is written for a mistake the tests do not catch.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Verdict } from '../check-content/grading-server.ts';
import { WRONG_NAME, wrongExampleSchema, type WrongExample } from '../../sandbox-server/src/shapes/exercise.ts';
import { readExerciseMeta } from './exercises.ts';
import { shown, type ContentRoots } from './roots.ts';
import { ScaffoldError } from './scaffold.ts';
import { applyWrongPatch, makeWrongPatch, patchPath, type PatchFailure } from './wrong.ts';

/** Grades a program as the exercise's submission (check-content's GradingServer.submit, bound to the exercise). */
export type Grade = (code: string) => Promise<Verdict>;
type TestResult = Verdict['tests'][number];

export interface DeclaredWrong {
  /** Absolute paths. */
  patchFile: string;
  metaFile: string;
  /** The entry as written to exercise.json. */
  entry: WrongExample;
  /** Its index in exercise.json's `wrong`. */
  index: number;
  /** A new entry, rather than an update of one with the same name. */
  added: boolean;
  /** The tests the patched solution failed (with their messages), and how many there are in all. */
  failed: TestResult[];
  total: number;
}

export async function declareWrongExample(
  roots: ContentRoots,
  exerciseId: string,
  name: string,
  options: { copy?: string; mistake?: string },
  grade: Grade,
): Promise<DeclaredWrong> {
  const dir = path.join(roots.exercisesDir, exerciseId);
  const folder = shown(roots, dir);
  const metaFile = path.join(dir, 'exercise.json');
  const solutionFile = path.join(dir, 'solution.ts');
  if (!existsSync(metaFile) || !existsSync(solutionFile)) {
    throw new ScaffoldError(`There is no exercise "${exerciseId}" with an exercise.json and a solution.ts (in ${folder}/).`);
  }
  if (!WRONG_NAME.test(name)) {
    throw new ScaffoldError(`"${name}" is not a valid wrong example name: lower-case letters, digits and dashes that say the mistake, e.g. to-string or one-client (the file is ${patchPath('<name>')}).`);
  }
  const meta = readExerciseMeta(dir);
  if (!meta.ok) throw new ScaffoldError(`${folder}/exercise.json is not valid (\`npm run check:content -- --only exercises\` says why): fix it first.`);
  const patchFile = path.join(dir, patchPath(name));
  const solution = readFileSync(solutionFile, 'utf8');

  let patch: string;
  if (options.copy !== undefined) {
    if (!existsSync(options.copy)) throw new ScaffoldError(`${options.copy} does not exist: give the path of your edited copy of ${folder}/solution.ts.`);
    const wrong = readFileSync(options.copy, 'utf8');
    if (wrong === solution) throw new ScaffoldError(`${options.copy} is the same as ${folder}/solution.ts: make the mistake in the copy first.`);
    patch = makeWrongPatch(solution, wrong, name);
  } else {
    if (!existsSync(patchFile)) throw new ScaffoldError(`There is no ${folder}/${patchPath(name)}: give your edited copy of solution.ts as the third argument.`);
    patch = readFileSync(patchFile, 'utf8');
  }
  const applied = applyWrongPatch(solution, patch);
  if (!applied.ok) throw new ScaffoldError(`${folder}/${patchPath(name)} ${whyNot(applied.failure)}: give an edited copy of today's solution.ts as the third argument to make it again.`);

  const existing = meta.meta.wrong.findIndex((w) => w.name === name);
  const mistake = options.mistake ?? meta.meta.wrong[existing]?.mistake;
  if (mistake === undefined || !wrongExampleSchema.shape.mistake.safeParse(mistake).success) {
    throw new ScaffoldError(`--mistake "…" is needed${mistake === undefined ? ' for a new wrong example' : ` (at least 8 characters; got ${JSON.stringify(mistake)})`}: the mistake in a learner's words, e.g. --mistake "takes one 'data' event for one line".`);
  }

  const verdict = await grade(applied.program);
  if (verdict.status === 'error') throw new ScaffoldError(`The patched solution does not grade: ${verdict.message ?? 'an error without a message'}. A wrong example must compile and run; nothing was written.`);
  const failed = verdict.tests.filter((t) => t.status !== 'pass');
  if (failed.length === 0) {
    throw new ScaffoldError(`The patched solution passes all ${verdict.tests.length} tests: they do not catch this mistake, and nothing was written. Add a test to ${folder}/grade.test.ts that fails it (with a message that explains the mistake), then run this again.`);
  }

  const entry = wrongExampleSchema.parse({ name, mistake, fails: failed.map((t) => t.name) });
  const raw = meta.raw;
  const list = Array.isArray(raw.wrong) ? [...(raw.wrong as unknown[])] : [];
  const index = existing === -1 ? list.length : existing;
  list[index] = entry;
  mkdirSync(path.dirname(patchFile), { recursive: true });
  writeFileSync(patchFile, patch);
  writeFileSync(metaFile, `${JSON.stringify({ ...raw, wrong: list }, null, 2)}\n`);
  return { patchFile, metaFile, entry, index, added: existing === -1, failed, total: verdict.tests.length };
}

function whyNot(failure: PatchFailure): string {
  switch (failure.kind) {
    case 'not-a-diff':
      return `is not a unified diff (${failure.reason})`;
    case 'files':
      return `patches ${failure.count} files, not solution.ts alone`;
    case 'hunk':
      return `does not apply to solution.ts (hunk ${failure.hunk} of ${failure.of}, ${failure.header}): solution.ts has probably changed since it was made`;
    case 'unchanged':
      return 'changes nothing in solution.ts';
  }
}
