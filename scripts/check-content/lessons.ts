// Lesson checks: frontmatter (Starlight's own docs schema, which the site build applies, plus what
// every course lesson needs), where the file sits, and that every component a lesson uses is imported.
import path from 'node:path';
import { z } from 'zod';
import { LESSON_NAME, lineOf, SECTION_DIR, sidebarOrder, withoutCode, importedNames, type Lesson } from '../content/lessons.ts';
import { shown } from '../content/roots.ts';
import type { Content } from './content.ts';
import type { Problem } from './problems.ts';

const FRONTMATTER_DOCS = 'https://starlight.astro.build/reference/frontmatter/';

/** What every course lesson needs on top of Starlight's schema (the home page needs no sidebar.order). */
const lessonSchema = z.object({
  title: z.string().trim().min(1),
  description: z.string().trim().min(1),
  sidebar: z.object({ order: z.number().int().nonnegative() }),
});
const homeSchema = lessonSchema.omit({ sidebar: true });

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
}
interface StarlightSchema {
  safeParse(value: unknown): { success: boolean; error?: { issues: ZodLikeIssue[] } };
  shape: Record<string, { _def?: { innerType?: { shape?: Record<string, unknown> } } }>;
}

let starlight: Promise<StarlightSchema> | undefined;
/** Starlight's docs schema, the one site/src/content.config.ts uses (loaded lazily: it is TypeScript in node_modules). */
function starlightSchema(): Promise<StarlightSchema> {
  const schemaModule = '@astrojs/starlight/schema';
  const zodModule = 'astro/zod';
  starlight ??= Promise.all([import(schemaModule), import(zodModule)]).then(([{ docsSchema }, { z: astroZod }]) =>
    // image() is Astro's image helper; a string stands in for it (no lesson uses hero images yet).
    docsSchema()({ image: () => astroZod.string() }),
  );
  return starlight;
}

/** 1-based line of a frontmatter field ("sidebar.order"), or of the frontmatter's first line. */
function fieldLine(lesson: Lesson, field: string): number {
  const lines = lesson.text.split('\n').slice(0, lesson.bodyLine - 1);
  let from = 0;
  for (const part of field.split('.')) {
    const i = lines.findIndex((l, n) => n >= from && new RegExp(`^\\s*${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`).test(l));
    if (i === -1) return from + 1;
    from = i;
  }
  return from + 1;
}

function nextFreeOrder(content: Content, section: string | undefined): number {
  const orders = content.lessons.filter((l) => l.section === section).flatMap((l) => sidebarOrder(l) ?? []);
  return orders.length ? Math.max(...orders) + 1 : 1;
}

const FIELD_FIXES: Record<string, (content: Content, lesson: Lesson) => string> = {
  title: () => 'Add `title: …` to the frontmatter: the page heading, the browser tab and the sidebar entry.',
  description: () => 'Add `description: …` to the frontmatter: one or two sentences on what the lesson teaches (search results and link previews show it).',
  sidebar: (c, l) => `Add to the frontmatter:\nsidebar:\n  order: ${nextFreeOrder(c, l.section)}\n(the lesson's position in its section; ${nextFreeOrder(c, l.section)} is the next free one).`,
  'sidebar.order': (c, l) => `Set \`order:\` under \`sidebar:\` to a whole number, without quotes: the lesson's position in its section (${nextFreeOrder(c, l.section)} is the next free one).`,
};

export async function checkLessonFrontmatter(content: Content): Promise<Problem[]> {
  const problems: Problem[] = [];
  const schema = await starlightSchema();
  const known = new Set(Object.keys(schema.shape));
  const knownSidebar = new Set(Object.keys(schema.shape.sidebar?._def?.innerType?.shape ?? {}));
  for (const lesson of content.lessons) {
    const file = shown(content.roots, lesson.file);
    const add = (p: Omit<Problem, 'check' | 'file'>) => problems.push({ check: 'lessons', file, ...p });
    if (lesson.frontmatterError) {
      add({
        line: lesson.frontmatterError.line,
        field: 'frontmatter',
        message: lesson.frontmatterError.message,
        fix: `Start the file with a frontmatter block:\n---\ntitle: …\ndescription: …\nsidebar:\n  order: ${nextFreeOrder(content, lesson.section)}\n---\n(\`npm run new:lesson -- <section>/<name>\` writes one for you.)`,
      });
      continue;
    }
    const fm = lesson.frontmatter ?? {};
    const seen = new Set<string>();
    // What the site build checks (Starlight's schema).
    for (const issue of schema.safeParse(fm).error?.issues ?? []) {
      const field = issue.path.map(String).join('.') || '(frontmatter)';
      seen.add(field);
      add({ line: fieldLine(lesson, field), field, message: `${issue.message} (Starlight's frontmatter schema; the site build fails on it)`, fix: FIELD_FIXES[field]?.(content, lesson) ?? `See ${FRONTMATTER_DOCS} for what \`${field}\` accepts.` });
    }
    // What every lesson of this course needs.
    const rules = lesson.slug === 'index' ? homeSchema : lessonSchema;
    for (const issue of rules.safeParse(fm).error?.issues ?? []) {
      const field = issue.path.map(String).join('.');
      if (seen.has(field)) continue;
      const value = field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], fm);
      const message = value === undefined ? 'missing (every lesson needs it)' : `${issue.message} (got ${JSON.stringify(value)})`;
      add({ line: fieldLine(lesson, field), field, message, fix: FIELD_FIXES[field]?.(content, lesson) ?? `See ${FRONTMATTER_DOCS}.` });
    }
    // Starlight drops fields it does not know: usually a misspelling.
    for (const key of Object.keys(fm).filter((k) => !known.has(k))) {
      add({ line: fieldLine(lesson, key), field: key, message: 'not a frontmatter field: Starlight ignores it', fix: `Fix its spelling or remove it. Fields: ${[...known].join(', ')}.` });
    }
    const sidebar = fm.sidebar;
    if (sidebar && typeof sidebar === 'object' && !Array.isArray(sidebar)) {
      for (const key of Object.keys(sidebar).filter((k) => !knownSidebar.has(k))) {
        add({ line: fieldLine(lesson, `sidebar.${key}`), field: `sidebar.${key}`, message: 'not a sidebar field: Starlight ignores it', fix: `Fix its spelling or remove it. Sidebar fields: ${[...knownSidebar].join(', ')}.` });
      }
    }
  }
  return problems;
}

/** Where lessons sit: in a section folder NN-name/, with a lower-case file name; one sidebar.order per lesson of a section. */
export function checkLessonPlacement(content: Content): Problem[] {
  const problems: Problem[] = [];
  const orders = new Map<string, Lesson>();
  for (const lesson of content.lessons) {
    const file = shown(content.roots, lesson.file);
    const name = path.basename(lesson.slug);
    if (lesson.slug === 'index') continue;
    if (!lesson.section) {
      problems.push({ check: 'lessons', file, message: 'a lesson outside a section folder does not appear in the sidebar', fix: `Move it into a section folder, e.g. lessons/03-tcp-sockets/${path.basename(lesson.file)} (\`npm run new:lesson -- <section>/<name>\` puts new lessons in the right place).` });
      continue;
    }
    if (!SECTION_DIR.test(lesson.section)) {
      problems.push({ check: 'lessons', file, message: `its folder "${lesson.section}" is not a section folder (NN-name, e.g. 04-websockets): the sidebar only shows section folders`, fix: 'Rename the folder to two digits, a dash and a lower-case name, or move the lesson into an existing section.' });
    }
    if (!LESSON_NAME.test(name)) {
      problems.push({ check: 'lessons', file, message: `the file name "${path.basename(lesson.file)}" becomes the lesson's URL and id; it must be lower-case letters, digits and dashes`, fix: `Rename it, e.g. to ${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}${path.extname(lesson.file)} (and update links to it).` });
    }
    const order = sidebarOrder(lesson);
    if (order === undefined) continue;
    const key = `${lesson.section}#${order}`;
    const other = orders.get(key);
    if (other) {
      problems.push({ check: 'lessons', file, line: fieldLine(lesson, 'sidebar.order'), field: 'sidebar.order', message: `${order} is also the order of ${shown(content.roots, other.file)}: the sidebar order between them is then only alphabetical`, fix: `Give each lesson of ${lesson.section} its own order (${nextFreeOrder(content, lesson.section)} is the next free one).` });
    } else orders.set(key, lesson);
  }
  return problems;
}

const STARLIGHT_COMPONENTS = new Set(['Aside', 'Badge', 'Card', 'CardGrid', 'Code', 'FileTree', 'Icon', 'LinkButton', 'LinkCard', 'Steps', 'TabItem', 'Tabs']);
const COURSE_COMPONENTS = new Set(['Exercise', 'Playground']);

/** Every `<Component>` a lesson uses is imported (MDX fails the build on an undefined component). */
export function checkLessonComponents(content: Content): Problem[] {
  const problems: Problem[] = [];
  for (const lesson of content.lessons) {
    const imported = importedNames(lesson);
    const body = withoutCode(lesson.body);
    const reported = new Set<string>();
    for (const m of body.matchAll(/<([A-Z][A-Za-z0-9]*)\b/g)) {
      const name = m[1];
      if (imported.has(name) || reported.has(name)) continue;
      reported.add(name);
      const fix = COURSE_COMPONENTS.has(name)
        ? `Add \`import ${name} from '@course/${name}.astro';\` below the frontmatter.`
        : STARLIGHT_COMPONENTS.has(name)
          ? `Add \`import { ${name} } from '@astrojs/starlight/components';\` below the frontmatter.`
          : `Import it below the frontmatter, or fix the name (course components: Playground, Exercise; Starlight's: ${[...STARLIGHT_COMPONENTS].join(', ')}).`;
      problems.push({ check: 'lessons', file: shown(content.roots, lesson.file), line: lineOf(lesson, m.index ?? 0), field: `<${name}>`, message: `<${name}> is used but not imported: the page fails to build`, fix });
    }
  }
  return problems;
}
