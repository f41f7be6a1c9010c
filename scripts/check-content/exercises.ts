// Exercise folder checks: a valid id as folder name, exercise.json against the server's schema
// (sandbox-server/src/shapes/exercise.ts), every file of the format, at least one hint, and wrong
// examples that match their declarations (wrong.ts).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseHints } from '../../sandbox-server/src/exercises/catalog.ts';
import { EXERCISE_FILES, EXERCISE_ID, EXERCISE_KINDS, exerciseMetaSchema } from '../content/exercises.ts';
import { shown } from '../content/roots.ts';
import type { Content } from './content.ts';
import type { Problem } from './problems.ts';
import { checkWrongExamples } from './wrong.ts';

/** The fields the server reads (its own schema), so a new one is known here at once. */
const META_FIELDS = Object.keys(exerciseMetaSchema.shape);

const FIELD_FIXES: Record<string, (id: string) => string> = {
  id: (id) => `Set "id": "${id}" (the folder's name).`,
  title: () => 'Set "title" to the exercise\'s heading (at least 3 characters).',
  lesson: () => 'Set "lesson" to the id of the lesson that embeds it, e.g. "03-tcp-sockets/first-tcp-server" (its file path under lessons/ without .mdx).',
  kind: () => `Set "kind" to one of ${EXERCISE_KINDS.map((k) => `"${k}"`).join(', ')}: a program that listens on PORT, a program that connects out, or a file that exports code.`,
  difficulty: () => 'Set "difficulty" to "easy", "medium" or "hard".',
  order: () => 'Set "order" to a whole number: the position in the course overview (exercises are numbered 10, 20, 30… so one fits in between).',
  limits: () => 'Set "limits" to {} or to { "timeoutMs": 500…60000, "memoryMb": 64…2048 } (no other keys).',
  wrong: (id) => `Set "wrong" to a list of { "name": "<the-mistake>" (its patch is wrong/<the-mistake>.patch), "mistake": "<what the learner got wrong>", "fails": ["<describe> > <it>", …] } (no other keys); \`npm run new:wrong -- ${id} <the-mistake> <an edited copy of solution.ts> --mistake "…"\` writes an entry.`,
};

export function checkExerciseMetadata(content: Content): Problem[] {
  const problems: Problem[] = [];
  for (const exercise of content.exercises) {
    const folder = shown(content.roots, exercise.dir);
    const jsonFile = `${folder}/exercise.json`;
    const add = (file: string, p: Omit<Problem, 'check' | 'file'>) => problems.push({ check: 'exercises', file, ...p });
    if (!EXERCISE_ID.test(exercise.id)) {
      add(folder, {
        message: `"${exercise.id}" is not a valid exercise id, so the server does not serve this folder`,
        fix: 'Rename the folder to lower-case letters, digits and dashes (e.g. tcp-keepalive-server), and "id" in exercise.json with it.',
      });
    }
    const meta = exercise.meta;
    if (!meta.ok) {
      if (meta.error === 'missing') {
        add(jsonFile, { message: 'missing: without it the exercise does not exist for the site or the server', fix: `Create it (\`npm run new:exercise -- ${exercise.id}\` scaffolds a whole exercise), with ${META_FIELDS.join(', ')}.` });
      } else if (meta.error) {
        add(jsonFile, { message: meta.error, fix: 'Fix the JSON syntax (double quotes around keys and strings, no trailing commas).' });
      }
      for (const issue of meta.issues ?? []) {
        const top = issue.field.split('.')[0];
        add(jsonFile, { field: issue.field, message: issue.message, fix: FIELD_FIXES[top]?.(exercise.id) ?? `Fields: ${META_FIELDS.join(', ')}.` });
      }
    }
    const raw = meta.raw as Record<string, unknown> | undefined;
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const key of Object.keys(raw).filter((k) => !META_FIELDS.includes(k))) {
        add(jsonFile, { field: key, message: 'not a field of exercise.json: it is ignored', fix: `Fix its spelling or remove it. Fields: ${META_FIELDS.join(', ')}.` });
      }
      if (meta.ok && meta.meta.id !== exercise.id) {
        add(jsonFile, { field: 'id', message: `"${meta.meta.id}" must equal the folder name "${exercise.id}"`, fix: FIELD_FIXES.id(exercise.id) });
      }
    }
    for (const [name, purpose] of Object.entries(EXERCISE_FILES)) {
      if (name === 'exercise.json' || existsSync(path.join(exercise.dir, name))) continue;
      add(`${folder}/${name}`, { message: `missing (${purpose})`, fix: `Create ${folder}/${name}; \`npm run new:exercise\` shows what each file looks like.` });
    }
    const hintsFile = path.join(exercise.dir, 'hints.md');
    if (existsSync(hintsFile) && parseHints(readFileSync(hintsFile, 'utf8')).length === 0) {
      add(`${folder}/hints.md`, { message: 'has no hints: the Hint button shows one top-level "- " bullet at a time', fix: 'Write each hint as a line starting with "- " (continuation lines indented).' });
    }
    problems.push(...checkWrongExamples(content, exercise));
  }
  return problems;
}
