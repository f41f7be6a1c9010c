// Reading lessons: lessons/NN-section/*.mdx, their frontmatter (parsed as Astro parses it: YAML
// between --- lines, with js-yaml) and what their bodies point at (exercises, links, imports).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { posix } from './roots.ts';

/** A section folder: two digits, a dash, a lower-case name ("03-tcp-sockets"). */
export const SECTION_DIR = /^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A lesson file name without its extension ("first-tcp-server"). */
export const LESSON_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export interface Lesson {
  /** Absolute path. */
  file: string;
  /** "03-tcp-sockets/first-tcp-server", or "index" for the home page. */
  slug: string;
  /** The section folder ("03-tcp-sockets"), undefined for files directly in lessons/. */
  section?: string;
  text: string;
  /** Parsed frontmatter; undefined when there is none or it is not valid YAML (see frontmatterError). */
  frontmatter?: Record<string, unknown>;
  frontmatterError?: { message: string; line?: number };
  /** 1-based line of the first body line (after the closing ---). */
  bodyLine: number;
  /** The text after the frontmatter. */
  body: string;
}

// Astro's own frontmatter pattern (@astrojs/markdown-remark).
const FRONTMATTER = /(?:^\uFEFF?|^\s*\n)---([\s\S]*?\n)---/;

export function parseLesson(file: string, lessonsDir: string): Lesson {
  const text = readFileSync(file, 'utf8');
  const rel = posix(path.relative(lessonsDir, file));
  const slug = rel.replace(/\.mdx?$/, '');
  const section = slug.includes('/') ? slug.split('/')[0] : undefined;
  const match = FRONTMATTER.exec(text);
  if (!match) return { file, slug, section, text, frontmatterError: { message: 'no frontmatter (a block between --- lines at the top)', line: 1 }, bodyLine: 1, body: text };
  const end = match.index + match[0].length;
  const bodyLine = text.slice(0, end).split('\n').length;
  const body = text.slice(end);
  const startLine = text.slice(0, match.index + match[0].indexOf('---')).split('\n').length;
  try {
    const parsed = yaml.load(match[1]);
    if (parsed === null || parsed === undefined) return { file, slug, section, text, frontmatter: {}, bodyLine, body };
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { file, slug, section, text, frontmatterError: { message: 'the frontmatter must be a set of `key: value` lines', line: startLine + 1 }, bodyLine, body };
    }
    return { file, slug, section, text, frontmatter: parsed as Record<string, unknown>, bodyLine, body };
  } catch (err) {
    const e = err as yaml.YAMLException;
    const line = e.mark ? startLine + e.mark.line : undefined;
    return { file, slug, section, text, frontmatterError: { message: `not valid YAML: ${e.reason ?? e.message}`, line }, bodyLine, body };
  }
}

/** Every lesson, as the site's content collection sees them: **\/*.md(x) except samples/ and _files. */
export function listLessons(lessonsDir: string): Lesson[] {
  if (!existsSync(lessonsDir)) return [];
  return (readdirSync(lessonsDir, { recursive: true }) as string[])
    .map(posix)
    .filter((f) => /\.mdx?$/.test(f) && !f.startsWith('samples/') && !path.basename(f).startsWith('_'))
    .sort()
    .map((f) => parseLesson(path.join(lessonsDir, f), lessonsDir));
}

/** The section folders, in order. */
export function listSections(lessonsDir: string): string[] {
  if (!existsSync(lessonsDir)) return [];
  return readdirSync(lessonsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'samples' && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The URL path Starlight gives a lesson: "/" for index, "/03-tcp-sockets/first-tcp-server/" otherwise. */
export function lessonUrl(slug: string): string {
  if (slug === 'index') return '/';
  return `/${slug.replace(/\/index$/, '').toLowerCase()}/`;
}

/** sidebar.order of a lesson, when it has a usable one. */
export function sidebarOrder(lesson: Lesson): number | undefined {
  const sidebar = lesson.frontmatter?.sidebar as { order?: unknown } | undefined;
  return typeof sidebar?.order === 'number' ? sidebar.order : undefined;
}

/**
 * The body with fenced code blocks, inline code and MDX comments blanked out (same length, same
 * lines), so that examples written inside code are not taken for real links or components.
 */
export function withoutCode(body: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return body
    .replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[ \t]*$/gm, blank)
    .replace(/\{\/\*[\s\S]*?\*\/\}/g, blank)
    .replace(/<!--[\s\S]*?-->/g, blank)
    .replace(/`[^`\n]+`/g, blank);
}

/** 1-based line in the whole file of an offset into the body. */
export function lineOf(lesson: Lesson, bodyOffset: number): number {
  return lesson.bodyLine + lesson.body.slice(0, bodyOffset).split('\n').length - 1;
}

export interface Found {
  value: string;
  line: number;
}

/** Every `<Exercise id="…" />` in the lesson. */
export function embeddedExercises(lesson: Lesson): Found[] {
  const body = withoutCode(lesson.body);
  return [...body.matchAll(/<Exercise\b[^>]*?\bid=(?:"([^"]*)"|'([^']*)'|\{\s*["']([^"']*)["']\s*\})/g)].map((m) => ({
    value: m[1] ?? m[2] ?? m[3] ?? '',
    line: lineOf(lesson, m.index ?? 0),
  }));
}

/** Every `<Playground … exercise="…" />` (a playground run with an exercise's limits). */
export function playgroundExercises(lesson: Lesson): Found[] {
  const body = withoutCode(lesson.body);
  return [...body.matchAll(/<Playground\b[^>]*?\bexercise=(?:"([^"]*)"|'([^']*)')/g)].map((m) => ({
    value: m[1] ?? m[2] ?? '',
    line: lineOf(lesson, m.index ?? 0),
  }));
}

/** Links in the body (markdown links, reference definitions, href="…") and `link:` in the frontmatter. */
export function linksIn(lesson: Lesson): Found[] {
  const body = withoutCode(lesson.body);
  const found: Found[] = [];
  const add = (value: string, offset: number) => found.push({ value, line: lineOf(lesson, offset) });
  for (const m of body.matchAll(/\]\(\s*<?([^)\s>]+)/g)) add(m[1], m.index ?? 0);
  for (const m of body.matchAll(/^[ \t]*\[[^\]\n]+\]:[ \t]*<?(\S+?)>?(?:[ \t]|$)/gm)) add(m[1], m.index ?? 0);
  for (const m of body.matchAll(/\bhref=(?:"([^"]*)"|'([^']*)'|\{\s*["']([^"']*)["']\s*\})/g)) add(m[1] ?? m[2] ?? m[3] ?? '', m.index ?? 0);
  // hero actions, prev/next links: any `link:` string in the frontmatter
  const frontmatterLinks: string[] = [];
  const walk = (v: unknown, key?: string) => {
    if (typeof v === 'string' && key === 'link') frontmatterLinks.push(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(lesson.frontmatter);
  for (const value of frontmatterLinks) {
    const line = lesson.text.split('\n').findIndex((l) => l.includes(value));
    found.push({ value, line: line + 1 || 1 });
  }
  return found;
}

/** `import x from '…'` statements of the MDX body. */
export function importsIn(lesson: Lesson): Found[] {
  const body = withoutCode(lesson.body);
  return [...body.matchAll(/^import\s+(?:[\s\S]*?\s+from\s+)?["']([^"']+)["']/gm)].map((m) => ({ value: m[1], line: lineOf(lesson, m.index ?? 0) }));
}

/** Names bound by the lesson's imports (`import Exercise from …`, `import { Aside } from …`). */
export function importedNames(lesson: Lesson): Set<string> {
  const names = new Set<string>();
  for (const m of withoutCode(lesson.body).matchAll(/^import\s+([\s\S]*?)\s+from\s+["'][^"']+["']/gm)) {
    const clause = m[1];
    const def = /^([A-Za-z_$][\w$]*)/.exec(clause);
    if (def) names.add(def[1]);
    const named = /\{([^}]*)\}/.exec(clause);
    for (const part of named?.[1].split(',') ?? []) {
      const name = part.trim().split(/\s+as\s+/).pop()?.trim();
      if (name) names.add(name);
    }
  }
  return names;
}
