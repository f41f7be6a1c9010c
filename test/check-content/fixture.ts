// A small content tree in a temp dir, made the way an author makes one: `new:lesson`, `new:exercise`
// of each kind, the exercises embedded, one sample. Tests copy it and break one thing at a time.
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentRoots, ROOT, type ContentRoots } from '../../scripts/content/roots.ts';
import { createExercise, createLesson } from '../../scripts/content/scaffold.ts';

export const LESSON = '01-basics/first-lesson';
export const LESSON_FILE = `lessons/${LESSON}.mdx`;
export const EXERCISES = { server: 'line-server', client: 'echo-ping', module: 'length-framing' } as const;

export interface Tree {
  dir: string;
  roots: ContentRoots;
  /** Path inside the tree. */
  file(rel: string): string;
  read(rel: string): string;
  write(rel: string, text: string): void;
  /** Replaces `from` (which must occur) with `to` in a file. */
  edit(rel: string, from: string | RegExp, to: string): void;
  append(rel: string, text: string): void;
  remove(): void;
}

function tree(dir: string): Tree {
  const file = (rel: string) => path.join(dir, rel);
  return {
    dir,
    roots: contentRoots(dir),
    file,
    read: (rel) => readFileSync(file(rel), 'utf8'),
    write(rel, text) {
      mkdirSync(path.dirname(file(rel)), { recursive: true });
      writeFileSync(file(rel), text);
    },
    edit(rel, from, to) {
      const text = readFileSync(file(rel), 'utf8');
      const changed = text.replace(from, to);
      if (changed === text) throw new Error(`fixture: ${String(from)} not found in ${rel}`);
      writeFileSync(file(rel), changed);
    },
    append: (rel, text) => appendFileSync(file(rel), text),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The pristine tree: every check passes on it. */
export function makeTree(): Tree {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-content-'));
  // grade.test.ts files import ../../sandbox-server/src/grading-kit/…, and `vitest` and @types come from node_modules.
  symlinkSync(path.join(ROOT, 'sandbox-server'), path.join(dir, 'sandbox-server'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const t = tree(dir);
  t.write('lessons/index.mdx', '---\ntitle: A course\ndescription: The home page of a test course.\ntemplate: splash\n---\n\nStart with [the first lesson](/01-basics/first-lesson/) or see the [overview](/overview/).\n');
  createLesson(t.roots, LESSON, { title: 'First lesson' });
  for (const [kind, id] of Object.entries(EXERCISES)) {
    createExercise(t.roots, id, { kind, lesson: LESSON });
    t.append(LESSON_FILE, `\n<Exercise id="${id}" />\n`);
  }
  t.write('lessons/samples/01-basics/hello.ts', "console.log('hello from a sample');\n");
  t.write('lessons/samples/expectations.json', JSON.stringify({ '01-basics/hello.ts': { stdout: ['^hello from a sample$'] } }, null, 2));
  return t;
}

let pristine: Tree | undefined;

/** A fresh copy of the pristine tree (made once per test file). */
export function copyTree(): Tree {
  pristine ??= makeTree();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-content-'));
  cpSync(pristine.dir, dir, { recursive: true, verbatimSymlinks: true });
  return tree(dir);
}

export function removePristine(): void {
  pristine?.remove();
  pristine = undefined;
}
