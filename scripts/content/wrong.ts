// Wrong examples: exercises/<id>/wrong/<name>.patch, each a unified diff against solution.ts that
// makes one mistake, declared in exercise.json's `wrong` with the tests it must fail. Making a patch
// (npm run new:wrong) and applying one (check:content) both go through here, with jsdiff, so the
// two agree on the format.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { applyPatch, createTwoFilesPatch, FILE_HEADERS_ONLY, parsePatch, type StructuredPatch } from 'diff';

export const WRONG_DIR = 'wrong';
export const PATCH_EXT = '.patch';

/** The patch's file name, relative to the exercise folder: "wrong/to-string.patch". */
export const patchPath = (name: string): string => `${WRONG_DIR}/${name}${PATCH_EXT}`;

/** Why a patch gives no program. */
export type PatchFailure =
  | { kind: 'not-a-diff'; reason: string }
  /** It patches several files (or none). */
  | { kind: 'files'; count: number }
  /** Hunk `hunk` (1-based, of `of`) does not match solution.ts anywhere after the hunks before it. */
  | { kind: 'hunk'; hunk: number; of: number; header: string; firstLine: string }
  /** No hunks, or hunks that leave solution.ts as it is. */
  | { kind: 'unchanged' };

export type Applied = { ok: true; program: string } | { ok: false; failure: PatchFailure };

/** A patch that makes `wrong` out of `solution`, in the form `diff -u --label solution.ts --label wrong/<name>.ts` writes. */
export function makeWrongPatch(solution: string, wrong: string, name: string): string {
  return createTwoFilesPatch('solution.ts', `${WRONG_DIR}/${name}.ts`, solution, wrong, undefined, undefined, { headerOptions: FILE_HEADERS_ONLY });
}

/** Applies a wrong example's patch to the solution: the wrong program, or why there is none. */
export function applyWrongPatch(solution: string, patchText: string): Applied {
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(patchText);
  } catch (err) {
    return { ok: false, failure: { kind: 'not-a-diff', reason: (err as Error).message } };
  }
  const withHunks = patches.filter((p) => p.hunks.length > 0);
  if (withHunks.length === 0) return { ok: false, failure: { kind: 'unchanged' } };
  if (patches.length !== 1) return { ok: false, failure: { kind: 'files', count: patches.length } };
  const [patch] = patches;
  // jsdiff says only whether the whole patch applies; growing it one hunk at a time finds the hunk that does not.
  for (let i = 0; i < patch.hunks.length; i++) {
    const upTo = applyPatch(solution, { ...patch, hunks: patch.hunks.slice(0, i + 1) });
    if (upTo !== false) continue;
    const h = patch.hunks[i];
    const firstLine = h.lines.find((l) => l.startsWith('-') || l.startsWith(' ')) ?? h.lines[0] ?? '';
    return { ok: false, failure: { kind: 'hunk', hunk: i + 1, of: patch.hunks.length, header: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, firstLine: firstLine.slice(1) } };
  }
  const program = applyPatch(solution, patch);
  if (program === false) throw new Error('jsdiff applied every hunk but not the whole patch'); // cannot happen: the loop applied all of them
  return program === solution ? { ok: false, failure: { kind: 'unchanged' } } : { ok: true, program };
}

/** A wrong/<name>.patch file, read and applied to the exercise's solution.ts. */
export interface WrongPatch {
  name: string;
  /** Absolute path of the .patch file. */
  file: string;
  /** Undefined when the exercise has no solution.ts to apply it to. */
  applied?: Applied;
}

/** Every wrong/*.patch of an exercise, sorted by name, each applied to solution.ts. */
export function readWrongPatches(exerciseDir: string): WrongPatch[] {
  const dir = path.join(exerciseDir, WRONG_DIR);
  if (!existsSync(dir)) return [];
  const solutionFile = path.join(exerciseDir, 'solution.ts');
  const solution = existsSync(solutionFile) ? readFileSync(solutionFile, 'utf8') : undefined;
  return readdirSync(dir)
    .filter((f) => f.endsWith(PATCH_EXT))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const name = f.slice(0, -PATCH_EXT.length);
      return { name, file, applied: solution === undefined ? undefined : applyWrongPatch(solution, readFileSync(file, 'utf8')) };
    });
}

/** wrong/*.ts files: the old form of wrong examples (whole copies of the program), sorted. */
export function legacyWrongFiles(exerciseDir: string): string[] {
  const dir = path.join(exerciseDir, WRONG_DIR);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).sort() : [];
}
