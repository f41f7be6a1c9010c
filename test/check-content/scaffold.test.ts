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
      const meta = JSON.parse(readFileSync(path.join(created.dir, 'exercise.json'), 'utf8'));
      expect(meta).toMatchObject({ id: `new-${kind}`, title: `A ${kind}`, lesson: LESSON, kind, difficulty: 'easy' });
      // Wrong examples in the new form only: each patch declared, with the tests it fails (grading.test.ts proves them).
      const patches = created.files.filter((f) => f.startsWith('wrong/'));
      expect(patches.length).toBeGreaterThan(0);
      expect(patches.every((f) => f.endsWith('.patch'))).toBe(true);
      expect(meta.wrong.map((w: { name: string }) => `wrong/${w.name}.patch`)).toEqual(patches);
      expect(meta.wrong.every((w: { fails: string[] }) => w.fails.length > 0)).toBe(true);
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

  it('new:wrong refuses what it cannot do before it grades anything, with exit code 2, writing nothing', () => {
    const noPatch = npmRun('new:wrong', '--', 'tcp-echo-server', 'no-such-mistake');
    expect(noPatch.status, noPatch.stdout + noPatch.stderr).toBe(2);
    expect(noPatch.stderr).toContain('new:wrong: There is no exercises/tcp-echo-server/wrong/no-such-mistake.patch: give your edited copy of solution.ts as the third argument.');
    const noExercise = npmRun('new:wrong', '--', 'no-such-exercise', 'x', 'solution.ts');
    expect(noExercise.stderr).toContain('new:wrong: There is no exercise "no-such-exercise" with an exercise.json and a solution.ts (in exercises/no-such-exercise/).');
    const badName = npmRun('new:wrong', '--', 'tcp-echo-server', 'To_String');
    expect(badName.stderr).toContain('new:wrong: "To_String" is not a valid wrong example name');
    const same = npmRun('new:wrong', '--', 'tcp-echo-server', 'unchanged', 'exercises/tcp-echo-server/solution.ts');
    expect(same.stderr).toContain('new:wrong: exercises/tcp-echo-server/solution.ts is the same as exercises/tcp-echo-server/solution.ts: make the mistake in the copy first.');
    expect(existsSync(path.join(ROOT, 'exercises/tcp-echo-server/wrong/unchanged.patch'))).toBe(false);
    expect(npmRun('new:wrong').status).toBe(2);
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
