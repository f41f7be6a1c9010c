// Creating lessons and exercises from the templates in scripts/templates/. Used by
// `npm run new:lesson` and `npm run new:exercise` (scripts/new-lesson.ts, scripts/new-exercise.ts)
// and by the content checker's tests, which scaffold a fresh tree and expect it to pass.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXERCISE_ID, EXERCISE_KINDS, exerciseOrders, type ExerciseKind } from './exercises.ts';
import { LESSON_NAME, lessonUrl, listLessons, listSections, SECTION_DIR, sidebarOrder } from './lessons.ts';
import { posix, ROOT, shown, type ContentRoots } from './roots.ts';

export const TEMPLATES_DIR = path.join(ROOT, 'scripts/templates');

/** A mistake in what the author asked for; the message says what to do instead. */
export class ScaffoldError extends Error {}

/** "tcp-keepalive" → "Tcp keepalive" (a starting point: --title gives a real one). */
export const titleFromName = (name: string): string => {
  const words = name.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const fill = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{\{(\w+)\}\}/g, (m, key: string) => (key in values ? String(values[key]) : m));

export interface CreatedLesson {
  file: string;
  slug: string;
  order: number;
  url: string;
  /** The section folder was created for this lesson. */
  newSection: boolean;
}

export function createLesson(roots: ContentRoots, slug: string, options: { title?: string } = {}): CreatedLesson {
  const parts = slug.replace(/\.mdx?$/, '').split('/');
  const sections = listSections(roots.lessonsDir);
  if (parts.length !== 2) {
    throw new ScaffoldError(`"${slug}" is not <section>/<name>: give the section folder and the lesson's file name, e.g. 03-tcp-sockets/keepalive. Sections: ${sections.join(', ') || 'none yet'}.`);
  }
  const [section, name] = parts;
  if (!LESSON_NAME.test(name)) {
    throw new ScaffoldError(`"${name}" is not a valid lesson name: lower-case letters, digits and dashes (it becomes the URL), e.g. keepalive or graceful-shutdown.`);
  }
  const newSection = !sections.includes(section);
  if (newSection && !SECTION_DIR.test(section)) {
    const like = sections.find((s) => s.replace(/^\d+-/, '') === section);
    throw new ScaffoldError(
      `There is no section folder "${section}".${like ? ` Did you mean ${like}/${name}?` : ''} Use an existing one (${sections.join(', ') || 'none yet'}) or start a new section as NN-name (two digits, e.g. ${nextSectionNumber(sections)}-${section.replace(/[^a-z0-9-]/g, '') || 'websockets'}).`,
    );
  }
  const file = path.join(roots.lessonsDir, section, `${name}.mdx`);
  for (const existing of [file, file.replace(/\.mdx$/, '.md')]) {
    if (existsSync(existing)) throw new ScaffoldError(`${shown(roots, existing)} already exists: pick another name, or edit that lesson.`);
  }
  const inSection = listLessons(roots.lessonsDir).filter((l) => l.section === section);
  const orders = inSection.flatMap((l) => sidebarOrder(l) ?? []);
  const order = orders.length ? Math.max(...orders) + 1 : 1;
  const title = options.title ?? titleFromName(name);
  const text = fill(readFileSync(path.join(TEMPLATES_DIR, 'lesson.mdx'), 'utf8'), {
    title: yamlString(title),
    description: 'What the learner can do after this lesson, in one or two sentences.',
    section,
    slug: `${section}/${name}`,
    order,
    heading: 'The first idea',
  });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return { file, slug: `${section}/${name}`, order, url: lessonUrl(`${section}/${name}`), newSection };
}

function nextSectionNumber(sections: string[]): string {
  const numbers = sections.map((s) => parseInt(s, 10)).filter((n) => !Number.isNaN(n));
  return String((numbers.length ? Math.max(...numbers) : 0) + 1).padStart(2, '0');
}

/** A YAML scalar for a free-text value: quoted when plain YAML would misread it. */
function yamlString(value: string): string {
  return /^[\w\s,.'()!?-]+$/.test(value) && !/^\s|\s$/.test(value) && !value.includes(': ') ? value : JSON.stringify(value);
}

export interface CreatedExercise {
  dir: string;
  id: string;
  kind: ExerciseKind;
  /** Files written, relative to the exercise folder. */
  files: string[];
  order: number;
  /** The lesson named with --lesson (it must exist), or undefined when none was given. */
  lesson?: { slug: string; file: string };
}

/** What exercise.json says when no lesson was given: check:content then says to set it. */
export const NO_LESSON_YET = 'no-lesson-yet';

export function createExercise(
  roots: ContentRoots,
  id: string,
  options: { kind?: string; lesson?: string; title?: string } = {},
): CreatedExercise {
  if (!EXERCISE_ID.test(id)) {
    const like = id.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    throw new ScaffoldError(`"${id}" is not a valid exercise id: lower-case letters, digits and dashes${like ? `, e.g. ${like}` : ''}. The id is the folder name and appears in URLs.`);
  }
  const kind = (options.kind ?? 'server') as ExerciseKind;
  if (!EXERCISE_KINDS.includes(kind)) {
    throw new ScaffoldError(`--kind must be ${EXERCISE_KINDS.join(', ')} (a program that listens on PORT, a program that connects out, or a file that exports code); got "${options.kind}".`);
  }
  const dir = path.join(roots.exercisesDir, id);
  if (existsSync(dir)) throw new ScaffoldError(`${shown(roots, dir)}/ already exists: pick another id, or edit that exercise.`);
  let lesson: CreatedExercise['lesson'];
  if (options.lesson !== undefined) {
    const slug = options.lesson.replace(/^\/|\/$/g, '').replace(/\.mdx?$/, '').replace(/^lessons\//, '');
    const found = listLessons(roots.lessonsDir).find((l) => l.slug === slug);
    if (!found) {
      const names = listLessons(roots.lessonsDir).map((l) => l.slug).filter((s) => s !== 'index');
      const like = names.filter((s) => s.endsWith(`/${slug}`) || s.includes(slug));
      throw new ScaffoldError(
        `There is no lesson "${slug}" (no ${shown(roots, path.join(roots.lessonsDir, `${slug}.mdx`))}).${like.length ? ` Did you mean ${like.join(' or ')}?` : ''} Create it first with \`npm run new:lesson -- ${slug.includes('/') ? slug : `<section>/${slug}`}\`, or give an existing one.`,
      );
    }
    lesson = { slug, file: found.file };
  }
  const orders = exerciseOrders(roots.exercisesDir);
  const order = orders.length ? Math.ceil((Math.max(...orders) + 1) / 10) * 10 : 10;
  const template = path.join(TEMPLATES_DIR, `exercise-${kind}`);
  mkdirSync(dir, { recursive: true });
  cpSync(template, dir, { recursive: true });
  // The templates import the kit from scripts/templates/<kind>/ (one level deeper than an exercise).
  for (const file of listFiles(dir).filter((f) => f.endsWith('.ts'))) {
    const full = path.join(dir, file);
    writeFileSync(full, readFileSync(full, 'utf8').replaceAll("'../../../sandbox-server/", "'../../sandbox-server/"));
  }
  // The template's exercise.json holds what belongs to its code: the declarations of its wrong/ patches.
  const { wrong } = JSON.parse(readFileSync(path.join(template, 'exercise.json'), 'utf8')) as { wrong: unknown[] };
  const meta = { id, title: options.title ?? titleFromName(id), lesson: lesson?.slug ?? NO_LESSON_YET, kind, difficulty: 'easy', order, limits: {}, wrong };
  writeFileSync(path.join(dir, 'exercise.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return { dir, id, kind, files: listFiles(dir), order, lesson };
}

function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map(posix)
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort();
}
