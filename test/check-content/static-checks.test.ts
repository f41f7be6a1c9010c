// The checker's fast checks (no server): each kind of broken content is caught, with a message
// that names the file (and the field or line) and says what to do.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { checkContent, checkLessonExcerpts, checkSampleExpectations, formatProblems, loadContent, type CheckName, type Problem } from '../../scripts/check-content/index.ts';
import { copyTree, EXERCISES, LESSON, LESSON_FILE, removePristine, type Tree } from './fixture.ts';

const STATIC: CheckName[] = ['lessons', 'exercises', 'links', 'samples'];
const trees: Tree[] = [];
afterAll(() => {
  trees.forEach((t) => t.remove());
  removePristine();
});

/** Problems the static checks find after `breakIt` changed a fresh copy of the valid tree. */
async function problemsAfter(breakIt: (t: Tree) => void, checks = STATIC): Promise<Problem[]> {
  const t = copyTree();
  trees.push(t);
  breakIt(t);
  // samples without the server: the static part only (expectations, excerpts)
  const report = await checkContent(t.roots, { checks: checks.filter((c) => c !== 'samples') });
  const content = loadContent(t.roots);
  return [...report.problems, ...(checks.includes('samples') ? [...checkSampleExpectations(content), ...checkLessonExcerpts(content)] : [])];
}

function expectProblem(problems: Problem[], want: Omit<Partial<Problem>, 'message'> & { file: string; message?: string | RegExp }) {
  const match = problems.find(
    (p) =>
      p.file === want.file &&
      (want.field === undefined || p.field === want.field) &&
      (want.check === undefined || p.check === want.check) &&
      (want.message === undefined || (typeof want.message === 'string' ? p.message.includes(want.message) : want.message.test(p.message))),
  );
  expect(match, `expected a problem like ${JSON.stringify(want)}; got:\n${formatProblems(problems) || 'no problems'}`).toBeDefined();
  expect(match!.fix.length).toBeGreaterThan(10);
  return match!;
}

describe('a freshly scaffolded tree', () => {
  it('passes every static check and the type check', async () => {
    const problems = await problemsAfter(() => {}, [...STATIC, 'types']);
    expect(problems, formatProblems(problems)).toEqual([]);
  });
});

describe('lesson frontmatter', () => {
  it('catches a sidebar.order that is not a number', async () => {
    let line = 0;
    const problems = await problemsAfter((t) => {
      t.edit(LESSON_FILE, /order: \d+/, 'order: "two"');
      line = t.read(LESSON_FILE).split('\n').findIndex((l) => l.includes('order: "two"')) + 1;
    });
    const p = expectProblem(problems, { file: LESSON_FILE, field: 'sidebar.order', check: 'lessons' });
    expect(p.line).toBe(line);
  });

  it('catches a missing description', async () => {
    expectProblem(await problemsAfter((t) => t.edit(LESSON_FILE, /^description: .*\n/m, '')), { file: LESSON_FILE, field: 'description', message: 'missing' });
  });

  it('catches a misspelt field that Starlight would silently drop', async () => {
    expectProblem(await problemsAfter((t) => t.edit(LESSON_FILE, 'description:', 'descripton:')), { file: LESSON_FILE, field: 'descripton', message: 'not a frontmatter field' });
  });

  it('catches frontmatter that is not YAML', async () => {
    expectProblem(await problemsAfter((t) => t.edit(LESSON_FILE, /^title: .*$/m, 'title: [unclosed')), { file: LESSON_FILE, field: 'frontmatter', message: 'not valid YAML' });
  });

  it('catches a lesson outside a section folder and a duplicate sidebar.order', async () => {
    const problems = await problemsAfter((t) => {
      t.write('lessons/stray.mdx', t.read(LESSON_FILE));
      t.write('lessons/01-basics/second.mdx', t.read(LESSON_FILE).replace(/<Exercise[^>]*>/g, ''));
    });
    expectProblem(problems, { file: 'lessons/stray.mdx', message: 'outside a section folder' });
    expectProblem(problems, { file: 'lessons/01-basics/second.mdx', field: 'sidebar.order', message: 'also the order of' });
  });

  it('catches a component used without its import', async () => {
    expectProblem(await problemsAfter((t) => t.edit(LESSON_FILE, "import Exercise from '@course/Exercise.astro';\n", '')), { file: LESSON_FILE, field: '<Exercise>', message: 'not imported' });
  });
});

describe('exercise metadata', () => {
  const json = `exercises/${EXERCISES.server}/exercise.json`;

  it('catches a bad exercise.json field', async () => {
    expectProblem(await problemsAfter((t) => t.edit(json, '"kind": "server"', '"kind": "daemon"')), { file: json, field: 'kind', check: 'exercises' });
  });

  it('catches exercise.json that is not JSON, and an id that is not the folder name', async () => {
    expectProblem(await problemsAfter((t) => t.edit(json, /\}\s*$/, ',}')), { file: json, message: 'not valid JSON' });
    expectProblem(await problemsAfter((t) => t.edit(json, `"id": "${EXERCISES.server}"`, '"id": "other-name"')), { file: json, field: 'id' });
  });

  it('catches a missing file, an empty hints.md and an empty wrong/', async () => {
    const dir = `exercises/${EXERCISES.client}`;
    const problems = await problemsAfter((t) => {
      t.write(`${dir}/hints.md`, 'No bullets here.\n');
      rmSync(t.file(`${dir}/solution.ts`));
      rmSync(t.file(`${dir}/wrong`), { recursive: true });
    });
    expectProblem(problems, { file: `${dir}/solution.ts`, message: 'missing' });
    expectProblem(problems, { file: `${dir}/hints.md`, message: 'no hints' });
    expectProblem(problems, { file: `${dir}/wrong`, message: 'no wrong/' });
  });
});

describe('links between lessons and exercises', () => {
  it('catches an <Exercise id> with no exercise', async () => {
    const p = expectProblem(await problemsAfter((t) => t.append(LESSON_FILE, '\n<Exercise id="line-servr" />\n')), { file: LESSON_FILE, field: '<Exercise id="line-servr">', check: 'links' });
    expect(p.fix).toContain('did you mean "line-server"');
  });

  it('catches an exercise that no lesson embeds (an orphan)', async () => {
    expectProblem(await problemsAfter((t) => t.edit(LESSON_FILE, `<Exercise id="${EXERCISES.client}" />`, '')), {
      file: `exercises/${EXERCISES.client}/exercise.json`,
      field: 'lesson',
      message: 'does not embed it',
    });
  });

  it('catches an exercise whose lesson does not exist', async () => {
    const json = `exercises/${EXERCISES.module}/exercise.json`;
    const p = expectProblem(await problemsAfter((t) => t.edit(json, `"lesson": "${LESSON}"`, '"lesson": "01-basics/no-such-lesson"')), { file: json, field: 'lesson', message: 'is not a lesson' });
    expect(p.fix).toContain(LESSON);
  });

  it('catches a broken internal link, in markdown and in href', async () => {
    const problems = await problemsAfter((t) => t.append(LESSON_FILE, '\nSee [the next lesson](/01-basics/second-lesson/) and <a href="/overveiw/">the overview</a>.\n'));
    expectProblem(problems, { file: LESSON_FILE, field: 'link /01-basics/second-lesson/', message: 'no lesson or page' });
    const p = expectProblem(problems, { file: LESSON_FILE, field: 'link /overveiw/' });
    expect(p.fix).toContain('did you mean "/overview/"');
  });

  it('accepts links to lessons, site pages, anchors and other sites', async () => {
    const problems = await problemsAfter((t) => t.append(LESSON_FILE, `\n[home](/) [self](/${LESSON}/#the-first-idea) [overview](/overview) [anchor](#x) [ext](https://nodejs.org/api/net.html)\n`));
    expect(problems, formatProblems(problems)).toEqual([]);
  });

  it('catches an import of a file that does not exist', async () => {
    expectProblem(await problemsAfter((t) => t.edit(LESSON_FILE, "import { Aside }", "import code from '../samples/01-basics/missing.ts?raw';\nimport { Aside }")), {
      file: LESSON_FILE,
      field: "import '../samples/01-basics/missing.ts?raw'",
      message: 'does not exist',
    });
  });
});

describe('samples and types', () => {
  it('catches a sample that does not compile (and has no expectations entry) and a solution that does not type-check', async () => {
    // one tree, one tsc run for both
    const solution = `exercises/${EXERCISES.module}/solution.ts`;
    const problems = await problemsAfter((t) => {
      t.write('lessons/samples/01-basics/broken.ts', "const n: number = 'not a number';\nconsole.log(n);\n");
      t.edit(solution, 'header.writeUInt16BE(body.length);', 'header.writeUInt16BE(body);');
    }, ['samples', 'types']);
    expectProblem(problems, { file: 'lessons/samples/01-basics/broken.ts', check: 'types', message: 'TS2322' });
    expectProblem(problems, { file: 'lessons/samples/01-basics/broken.ts', check: 'samples', message: 'no entry' });
    const p = expectProblem(problems, { file: solution, check: 'types' });
    expect(p.line).toBeGreaterThan(1);
  });

  it('catches a long TypeScript block in a lesson that is not an excerpt of a sample', async () => {
    const block = '```ts\nconst a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\nconst e = 5;\nconst f = 6;\n```\n';
    expectProblem(await problemsAfter((t) => t.append(LESSON_FILE, `\n${block}`)), { file: LESSON_FILE, check: 'samples', message: 'not an excerpt' });
  });
});
