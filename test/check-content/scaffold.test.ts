// new:lesson and new:exercise: what they create, and how they refuse what they cannot do.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../scripts/content/roots.ts';
import { createExercise, createLesson, NO_LESSON_YET, ScaffoldError } from '../../scripts/content/scaffold.ts';
import { parseLesson } from '../../scripts/content/lessons.ts';
import { copyTree, EXERCISES, LESSON, removePristine, type Tree } from './fixture.ts';

const trees: Tree[] = [];
const fresh = () => {
  const t = copyTree();
  trees.push(t);
  return t;
};
afterAll(() => {
  trees.forEach((t) => t.remove());
  removePristine();
});

describe('createLesson (npm run new:lesson)', () => {
  it('writes a lesson with title, description and the next free sidebar.order of its section', () => {
    const t = fresh();
    const created = createLesson(t.roots, '01-basics/second-lesson', { title: 'Keep-alive: a second lesson' });
    expect(created).toMatchObject({ slug: '01-basics/second-lesson', order: 2, url: '/01-basics/second-lesson/', newSection: false });
    const lesson = parseLesson(created.file, t.roots.lessonsDir);
    expect(lesson.frontmatter).toMatchObject({ title: 'Keep-alive: a second lesson', sidebar: { order: 2 } });
    expect(String(lesson.frontmatter?.description)).not.toBe('');
    expect(lesson.body).toMatch(/^## /m);
    expect(createLesson(t.roots, '01-basics/third').order).toBe(3);
  });

  it('starts a new section given as NN-name, at order 1', () => {
    const t = fresh();
    expect(createLesson(t.roots, '02-websockets/intro')).toMatchObject({ order: 1, newSection: true });
    expect(existsSync(t.file('lessons/02-websockets/intro.mdx'))).toBe(true);
  });

  it('refuses an existing lesson, a section that is not NN-name, and a bad name', () => {
    const t = fresh();
    expect(() => createLesson(t.roots, LESSON)).toThrow(/already exists/);
    expect(() => createLesson(t.roots, 'basics/x')).toThrow(/Did you mean 01-basics\/x\?/);
    expect(() => createLesson(t.roots, '01-basics/Not_Good')).toThrow(ScaffoldError);
    expect(() => createLesson(t.roots, 'just-a-name')).toThrow(/<section>\/<name>/);
  });
});

describe('createExercise (npm run new:exercise)', () => {
  it('writes every file of the format, for each kind, with the kit imported from the exercise folder', () => {
    const t = fresh();
    for (const kind of ['server', 'client', 'module']) {
      const created = createExercise(t.roots, `new-${kind}`, { kind, lesson: LESSON, title: `A ${kind}` });
      expect(created.files).toEqual(expect.arrayContaining(['exercise.json', 'instructions.md', 'starter.ts', 'solution.ts', 'hints.md', 'grade.test.ts']));
      expect(created.files.some((f) => f.startsWith('wrong/') && f.endsWith('.ts'))).toBe(true);
      const meta = JSON.parse(readFileSync(path.join(created.dir, 'exercise.json'), 'utf8'));
      expect(meta).toMatchObject({ id: `new-${kind}`, title: `A ${kind}`, lesson: LESSON, kind, difficulty: 'easy' });
      const test = readFileSync(path.join(created.dir, 'grade.test.ts'), 'utf8');
      expect(test).toContain("from '../../sandbox-server/src/grading-kit/index.ts'");
      expect(test).not.toContain('../../../');
    }
  });

  it('uses the next free overview order and a placeholder lesson when none is given', () => {
    const t = fresh();
    const created = createExercise(t.roots, 'no-lesson');
    expect(created.order).toBe(40); // after the three fixture exercises (10, 20, 30)
    expect(JSON.parse(t.read('exercises/no-lesson/exercise.json')).lesson).toBe(NO_LESSON_YET);
  });

  it('refuses a bad id, an existing id, an unknown kind and an unknown lesson', () => {
    const t = fresh();
    expect(() => createExercise(t.roots, 'Bad_Id')).toThrow(/not a valid exercise id.*e\.g\. bad-id/);
    expect(() => createExercise(t.roots, EXERCISES.server)).toThrow(`exercises/${EXERCISES.server}/ already exists`);
    expect(() => createExercise(t.roots, 'x', { kind: 'daemon' })).toThrow(/--kind must be server, client, module/);
    expect(() => createExercise(t.roots, 'x', { lesson: 'first-lesson' })).toThrow(/Did you mean 01-basics\/first-lesson\?/);
    expect(existsSync(t.file('exercises/x'))).toBe(false);
  });
});

describe('the npm scripts', () => {
  const npmRun = (...args: string[]) => spawnSync('npm', ['run', '--silent', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('new:exercise refuses an existing id with a clear message and exit code 2, writing nothing', () => {
    const result = npmRun('new:exercise', '--', 'tcp-echo-server');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('new:exercise: exercises/tcp-echo-server/ already exists: pick another id, or edit that exercise.');
  });

  it('new:lesson refuses a section that does not exist and is not NN-name', () => {
    const result = npmRun('new:lesson', '--', 'websockets/intro');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/new:lesson: There is no section folder "websockets"\..*NN-name/);
  });

  it('check:content prints problems grouped by file and exits 1', () => {
    const t = fresh();
    t.edit(`exercises/${EXERCISES.client}/exercise.json`, '"difficulty": "easy"', '"difficulty": "trivial"');
    const result = npmRun('check:content', '--', '--root', t.dir, '--only', 'lessons,exercises,links');
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain(`exercises/${EXERCISES.client}/exercise.json\n  ✗ difficulty: `);
    expect(result.stdout).toContain('fix: Set "difficulty" to "easy", "medium" or "hard".');
    expect(result.stdout).toMatch(/check:content found 1 problem in 1 file/);
  });
});
