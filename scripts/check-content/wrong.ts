// Wrong examples, statically: every wrong/<name>.patch is declared in exercise.json's `wrong` and
// every declaration has its patch; each patch applies to solution.ts and changes it; no wrong/*.ts
// copies (the old form) are left. Grading them is grading.ts's part.
import { shown } from '../content/roots.ts';
import { patchPath, type PatchFailure } from '../content/wrong.ts';
import type { WrongExample } from '../../sandbox-server/src/shapes/exercise.ts';
import type { Content, ExerciseEntry } from './content.ts';
import type { Problem } from './problems.ts';
import { suggest } from './similar.ts';

const MISTAKE = '--mistake "<the mistake, in a learner\'s words>"';

/** `npm run new:wrong` as a fix would have the author run it. */
const newWrong = (id: string, name: string, copy?: string, mistake = true) => `\`npm run new:wrong -- ${id} ${name}${copy ? ` ${copy}` : ''}${mistake ? ` ${MISTAKE}` : ''}\``;

/** A declared wrong example, with its position in exercise.json's `wrong` (for the field name). */
export interface Declared {
  index: number;
  example: WrongExample;
}

/** The declarations of an exercise whose exercise.json is valid (none otherwise: its errors are reported already). */
export function declarations(exercise: ExerciseEntry): Declared[] {
  return exercise.meta.ok ? exercise.meta.meta.wrong.map((example, index) => ({ index, example })) : [];
}

export function checkWrongExamples(content: Content, exercise: ExerciseEntry): Problem[] {
  const folder = shown(content.roots, exercise.dir);
  const jsonFile = `${folder}/exercise.json`;
  const problems: Problem[] = [];
  const add = (file: string, p: Omit<Problem, 'check' | 'file'>) => problems.push({ check: 'exercises', file, ...p });
  const declared = declarations(exercise);
  const patches = new Set(exercise.wrong.map((w) => w.name));

  for (const file of exercise.legacyWrong) {
    const name = file.replace(/\.ts$/, '');
    add(`${folder}/wrong/${file}`, {
      message: 'a whole copy of the program: wrong examples are now patches against solution.ts, declared in exercise.json with the tests they fail, and this one is not graded',
      fix: `Run ${newWrong(exercise.id, name, `${folder}/wrong/${file}`)}: it writes ${patchPath(name)} and declares the tests it fails. Then delete ${folder}/wrong/${file}.`,
    });
  }

  const seen = new Map<string, number>();
  for (const { index, example } of declared) {
    const field = `wrong.${index}.name`;
    const before = seen.get(example.name);
    if (before !== undefined) {
      add(jsonFile, { field, message: `"${example.name}" is declared twice (also wrong.${before})`, fix: 'Keep one entry per patch: remove this one, or merge its "fails" into the other.' });
      continue;
    }
    seen.set(example.name, index);
    if (!patches.has(example.name)) {
      add(jsonFile, {
        field,
        message: `there is no ${folder}/${patchPath(example.name)}${suggest(example.name, [...patches])}`,
        fix: `Fix the name (patches: ${[...patches].join(', ') || 'none'}), remove the entry, or make the patch: make the mistake in a copy of solution.ts and run ${newWrong(exercise.id, example.name, '<the copy>', false)}.`,
      });
    }
  }

  for (const patch of exercise.wrong) {
    const file = `${folder}/${patchPath(patch.name)}`;
    // With an invalid exercise.json the declarations are unknown (its errors are reported already).
    if (exercise.meta.ok && !seen.has(patch.name)) {
      add(file, {
        message: 'not declared in exercise.json\'s "wrong", so nothing says which tests it must fail',
        fix: `Run ${newWrong(exercise.id, patch.name)}: it grades the patched solution and declares the tests it fails. Or add { "name": "${patch.name}", "mistake": "…", "fails": ["<describe> > <it>"] } to "wrong" in exercise.json.`,
      });
    }
    if (patch.applied && !patch.applied.ok) add(file, failureProblem(patch.applied.failure, exercise.id, patch.name));
  }

  if (exercise.meta.ok && declared.length === 0 && exercise.wrong.length === 0 && exercise.legacyWrong.length === 0) {
    add(`${folder}/wrong`, {
      message: 'no wrong examples: nothing shows that the tests catch the mistakes learners make',
      fix: `Add at least one: make one real mistake (for example chunk.toString() on binary data) in a copy of solution.ts and run ${newWrong(exercise.id, '<the-mistake>', '<the copy>')}. It writes wrong/<the-mistake>.patch and declares in exercise.json the tests it fails.`,
    });
  }
  return problems;
}

function failureProblem(failure: PatchFailure, id: string, name: string): Omit<Problem, 'check' | 'file'> {
  const remake = `make the mistake in a copy of today's solution.ts and run ${newWrong(id, name, '<the copy>', false)} (it replaces the patch and keeps the entry's mistake)`;
  switch (failure.kind) {
    case 'not-a-diff':
      return { message: `not a unified diff: ${failure.reason}`, fix: `Regenerate it: ${remake}.` };
    case 'files':
      return { message: `patches ${failure.count} files; a wrong example is one diff against solution.ts`, fix: `Regenerate it: ${remake}.` };
    case 'hunk':
      return {
        message: `hunk ${failure.hunk} of ${failure.of} (${failure.header}, from "${failure.firstLine}") does not apply to solution.ts, which has probably changed since the patch was made`,
        fix: `Regenerate it: ${remake}.`,
      };
    case 'unchanged':
      return { message: 'changes nothing: applied to solution.ts, it gives solution.ts itself', fix: `Put the mistake in it: ${remake}. Or delete the patch and its entry in exercise.json.` };
  }
}
