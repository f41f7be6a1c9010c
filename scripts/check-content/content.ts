// The content tree as the checks see it, read once per check run.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { listExerciseDirs, readExerciseMeta, type MetaResult } from '../content/exercises.ts';
import { listLessons, type Lesson } from '../content/lessons.ts';
import { posix, type ContentRoots } from '../content/roots.ts';
import { legacyWrongFiles, readWrongPatches, type WrongPatch } from '../content/wrong.ts';

export interface ExerciseEntry {
  /** The folder name. */
  id: string;
  dir: string;
  meta: MetaResult;
  /** wrong/*.patch, each applied to solution.ts. */
  wrong: WrongPatch[];
  /** wrong/*.ts: wrong examples in the old form (whole copies), which the checks report. */
  legacyWrong: string[];
}

export interface Content {
  roots: ContentRoots;
  lessons: Lesson[];
  exercises: ExerciseEntry[];
  /** Sample programs, relative to the samples folder ("03-tcp-sockets/echo-client.ts"). */
  samples: string[];
}

export function loadContent(roots: ContentRoots): Content {
  const exercises = listExerciseDirs(roots.exercisesDir).map((id) => {
    const dir = path.join(roots.exercisesDir, id);
    return { id, dir, meta: readExerciseMeta(dir), wrong: readWrongPatches(dir), legacyWrong: legacyWrongFiles(dir) };
  });
  const samples = existsSync(roots.samplesDir)
    ? (readdirSync(roots.samplesDir, { recursive: true }) as string[]).map(posix).filter((f) => f.endsWith('.ts')).sort()
    : [];
  return { roots, lessons: listLessons(roots.lessonsDir), exercises, samples };
}
