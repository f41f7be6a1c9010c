// The checker's slow checks, through the real server: the scaffolded exercises of every kind pass
// (solution passes, starter and wrong/ fail), and a solution that fails, a starter that passes, a
// wrong/ file that passes and a sample that prints the wrong thing are each caught, named by file.
// One content tree and one grading run for all of them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cpSync } from 'node:fs';
import { checkContent, formatProblems, type ContentReport, type Problem } from '../../scripts/check-content/index.ts';
import { createExercise } from '../../scripts/content/scaffold.ts';
import { EXERCISES, LESSON, LESSON_FILE, makeTree, type Tree } from './fixture.ts';

let t: Tree;
let report: ContentReport;

beforeAll(async () => {
  t = makeTree();
  // Three broken exercises, made from the module template (its tests are the quickest to run).
  for (const id of ['solution-fails', 'starter-passes', 'wrong-passes']) {
    createExercise(t.roots, id, { kind: 'module', lesson: LESSON });
    t.append(LESSON_FILE, `\n<Exercise id="${id}" />\n`);
  }
  cpSync(t.file('exercises/solution-fails/starter.ts'), t.file('exercises/solution-fails/solution.ts'));
  cpSync(t.file('exercises/starter-passes/solution.ts'), t.file('exercises/starter-passes/starter.ts'));
  cpSync(t.file('exercises/wrong-passes/solution.ts'), t.file('exercises/wrong-passes/wrong/also-right.ts'));
  // A sample whose output does not match its expectations.
  t.write('lessons/samples/01-basics/says-goodbye.ts', "console.log('goodbye');\n");
  t.edit('lessons/samples/expectations.json', /^\{/, '{\n  "01-basics/says-goodbye.ts": { "stdout": ["^hello$"] },');
  report = await checkContent(t.roots, { checks: ['samples', 'grading'] });
}, 180_000);

afterAll(() => t?.remove());

const about = (file: string): Problem[] => report.problems.filter((p) => p.file === file);

it('grades every exercise once: solution, starter and each wrong/ file', () => {
  const grading = report.results.find((r) => r.check === 'grading')!;
  // 6 × (solution, starter, the template's wrong/ example) + wrong-passes' extra wrong/also-right.ts
  expect(grading.detail).toBe('6 exercises, 19 submissions');
});

it('passes the scaffolded server, client and module exercises', () => {
  for (const id of Object.values(EXERCISES)) {
    const problems = report.problems.filter((p) => p.file.startsWith(`exercises/${id}/`));
    expect(problems, formatProblems(problems)).toEqual([]);
  }
});

it('catches a solution that fails, naming the failing tests', () => {
  const [p] = about('exercises/solution-fails/solution.ts');
  expect(p?.message, formatProblems(report.problems)).toMatch(/^fails \d+ of 5 grading tests/);
  expect(p.message).toContain('encode() puts the length in bytes before the text');
});

it('catches a starter that passes', () => {
  expect(about('exercises/starter-passes/starter.ts').map((p) => p.message)).toEqual(['passes every grading test: there is nothing left for the learner to do']);
});

it('catches a wrong/ file that passes', () => {
  expect(about('exercises/wrong-passes/wrong/also-right.ts').map((p) => p.message)).toEqual(['passes every grading test, so the tests do not catch this mistake']);
  expect(about('exercises/wrong-passes/wrong/length-in-characters.ts')).toEqual([]);
});

it('runs samples: a matching one passes, one that prints something else is caught', () => {
  expect(about('lessons/samples/01-basics/hello.ts')).toEqual([]);
  const [p] = about('lessons/samples/01-basics/says-goodbye.ts');
  expect(p?.message).toMatch(/does not match \/\^hello\$\/m/);
  expect(p.message).toContain('goodbye');
});

it('reports nothing else', () => {
  const expected = ['exercises/solution-fails/solution.ts', 'exercises/starter-passes/starter.ts', 'exercises/wrong-passes/wrong/also-right.ts', 'lessons/samples/01-basics/says-goodbye.ts'];
  expect(report.problems.map((p) => p.file).sort(), formatProblems(report.problems)).toEqual(expected);
});
