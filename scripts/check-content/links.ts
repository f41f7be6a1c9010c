// What lessons point at: every <Exercise id> and <Playground exercise> names an exercise, every
// exercise belongs to a lesson that embeds it, every internal link leads to a lesson or a page of
// the site, and every import resolves to a file.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { embeddedExercises, importsIn, lessonUrl, linksIn, playgroundExercises, type Lesson } from '../content/lessons.ts';
import { posix, ROOT, shown } from '../content/roots.ts';
import type { Content } from './content.ts';
import type { Problem } from './problems.ts';
import { suggest } from './similar.ts';

export function checkExerciseLinks(content: Content): Problem[] {
  const problems: Problem[] = [];
  const ids = new Set(content.exercises.map((e) => e.id));
  const embedsBy = new Map<string, Lesson[]>();
  for (const lesson of content.lessons) {
    const file = shown(content.roots, lesson.file);
    for (const { value: id, line } of embeddedExercises(lesson)) {
      embedsBy.set(id, [...(embedsBy.get(id) ?? []), lesson]);
      if (ids.has(id)) continue;
      problems.push({
        check: 'links',
        file,
        line,
        field: `<Exercise id="${id}">`,
        message: `there is no exercise "${id}" (no folder exercises/${id}/)`,
        fix: `Create it with \`npm run new:exercise -- ${id} --lesson ${lesson.slug}\`, or fix the id${suggest(id, [...ids])}.`,
      });
    }
    for (const { value: id, line } of playgroundExercises(lesson)) {
      if (ids.has(id)) continue;
      problems.push({ check: 'links', file, line, field: `<Playground exercise="${id}">`, message: `there is no exercise "${id}" whose limits this playground could use`, fix: `Fix the id${suggest(id, [...ids])}, or remove the exercise attribute.` });
    }
  }
  const slugs = new Map(content.lessons.map((l) => [l.slug, l]));
  for (const exercise of content.exercises) {
    if (!exercise.meta.ok) continue;
    const { lesson } = exercise.meta.meta;
    const file = `${shown(content.roots, exercise.dir)}/exercise.json`;
    const embedders = embedsBy.get(exercise.id) ?? [];
    const embed = `<Exercise id="${exercise.id}" />`;
    if (!slugs.has(lesson)) {
      const where = embedders.length ? ` It is embedded by ${embedders.map((l) => `"${l.slug}"`).join(', ')}.` : '';
      problems.push({
        check: 'links',
        file,
        field: 'lesson',
        message: `"${lesson}" is not a lesson (no lessons/${lesson}.mdx)`,
        fix: `Set "lesson" to the lesson that embeds the exercise: its path under lessons/ without .mdx${embedders.length ? `, "${embedders[0].slug}"` : suggest(lesson, [...slugs.keys()])}.${where}`,
      });
    } else if (!embedders.some((l) => l.slug === lesson)) {
      const elsewhere = embedders.length ? ` (it is embedded by ${embedders.map((l) => shown(content.roots, l.file)).join(', ')})` : ' (no lesson embeds it)';
      problems.push({
        check: 'links',
        file,
        field: 'lesson',
        message: `its lesson ${shown(content.roots, slugs.get(lesson)!.file)} does not embed it${elsewhere}, so learners never see it`,
        fix: embedders.length
          ? `Set "lesson" to "${embedders[0].slug}", or move ${embed} into ${shown(content.roots, slugs.get(lesson)!.file)}.`
          : `Add ${embed} to ${shown(content.roots, slugs.get(lesson)!.file)} where the learner should try it (with \`import Exercise from '@course/Exercise.astro';\` below the frontmatter).`,
      });
    }
  }
  return problems;
}

/** The URL paths of the site's own pages (site/src/pages: overview.astro → /overview/). */
function sitePages(pagesDir: string): string[] {
  if (!existsSync(pagesDir)) return [];
  return (readdirSync(pagesDir, { recursive: true }) as string[])
    .map(posix)
    .filter((f) => /\.(astro|md|mdx|html)$/.test(f) && !f.includes('['))
    .map((f) => {
      const route = f.replace(/\.[^.]+$/, '').replace(/(^|\/)index$/, '');
      return route ? `/${route}/` : '/';
    });
}

/** The page a link leads to ("/03-tcp-sockets/x/"), or undefined for external links and same-page anchors. */
export function linkTarget(from: string, href: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//') || href.startsWith('#') || href === '') return undefined;
  const url = new URL(href, `http://site${from}`);
  return decodeURI(url.pathname);
}

export function checkInternalLinks(content: Content): Problem[] {
  const problems: Problem[] = [];
  const pages = new Set([...content.lessons.map((l) => lessonUrl(l.slug)), ...sitePages(content.roots.sitePagesDir), '/404/']);
  const isPage = (target: string) => pages.has(target.endsWith('/') ? target : `${target}/`);
  const isPublicFile = (target: string) => {
    const file = path.join(content.roots.sitePublicDir, target);
    return file.startsWith(content.roots.sitePublicDir) && existsSync(file) && statSync(file).isFile();
  };
  for (const lesson of content.lessons) {
    const from = lessonUrl(lesson.slug);
    for (const { value, line } of linksIn(lesson)) {
      const target = linkTarget(from, value);
      if (target === undefined || isPage(target) || isPublicFile(target)) continue;
      const mdx = /\.mdx?$/.test(target) ? ` Link to a lesson's URL, not its file: /<section folder>/<file name without .mdx>/.` : '';
      problems.push({
        check: 'links',
        file: shown(content.roots, lesson.file),
        line,
        field: `link ${value}`,
        message: `leads to ${target}, which is no lesson or page of the site`,
        fix: `Fix the link${suggest(target.endsWith('/') ? target : `${target}/`, [...pages])}.${mdx} Lesson URLs are /<section folder>/<file name>/, e.g. ${[...pages].find((p) => p.split('/').length > 3) ?? '/01-introduction/welcome/'}.`,
      });
    }
  }
  return problems;
}

/** Relative imports (samples with ?raw, other files) and @course/ components exist. */
export function checkLessonImports(content: Content): Problem[] {
  const problems: Problem[] = [];
  for (const lesson of content.lessons) {
    for (const { value, line } of importsIn(lesson)) {
      let file: string | undefined;
      if (value.startsWith('.')) file = path.resolve(path.dirname(lesson.file), value.replace(/\?.*$/, ''));
      else if (value.startsWith('@course/')) file = path.join(ROOT, 'site/src/components', value.slice('@course/'.length));
      if (!file || existsSync(file)) continue;
      const sample = value.includes('samples/') ? ' Samples live in lessons/samples/<section>/<name>.ts.' : '';
      problems.push({
        check: 'links',
        file: shown(content.roots, lesson.file),
        line,
        field: `import '${value}'`,
        message: `${shown(content.roots, file)} does not exist: the page fails to build`,
        fix: `Fix the path (relative to the lesson's folder).${sample}`,
      });
    }
  }
  return problems;
}
