// Where course content lives. Every script that reads or writes lessons and exercises takes a
// ContentRoots, so the checker can run on a copy (its own tests build broken content in a temp dir).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ContentRoots {
  /** Paths in messages are shown relative to this folder. */
  root: string;
  /** lessons/: one folder per section (NN-name), one .mdx file per lesson. */
  lessonsDir: string;
  /** lessons/samples/: runnable sample programs and their expectations.json. */
  samplesDir: string;
  /** exercises/: one folder per exercise. */
  exercisesDir: string;
  /** The site's own pages (site/src/pages), which lessons may link to. */
  sitePagesDir: string;
  /** Static files served as they are (site/public). */
  sitePublicDir: string;
}

/** The roots of a content tree laid out like the repository (`<root>/lessons`, `<root>/exercises`). */
export function contentRoots(root = ROOT, overrides: Partial<ContentRoots> = {}): ContentRoots {
  const lessonsDir = overrides.lessonsDir ?? path.join(root, 'lessons');
  return {
    root,
    lessonsDir,
    samplesDir: overrides.samplesDir ?? path.join(lessonsDir, 'samples'),
    exercisesDir: overrides.exercisesDir ?? path.join(root, 'exercises'),
    sitePagesDir: overrides.sitePagesDir ?? path.join(ROOT, 'site/src/pages'),
    sitePublicDir: overrides.sitePublicDir ?? path.join(ROOT, 'site/public'),
  };
}

/** A path as messages show it: relative to the content root, with forward slashes. */
export function shown(roots: ContentRoots, file: string): string {
  const rel = path.relative(roots.root, file);
  return (rel.startsWith('..') ? file : rel).split(path.sep).join('/');
}

/** Forward slashes, whatever the platform. */
export const posix = (p: string): string => p.split(path.sep).join('/');
