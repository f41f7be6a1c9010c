// The checker's fast checks (no server): each kind of broken content is caught, with a message
// that names the file (and the field or line) and says what to do.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { checkContent, checkLessonExcerpts, checkSampleExpectations, formatProblems, loadContent, type CheckName, type Problem } from '../../scripts/check-content/index.ts';
import { makeWrongPatch } from '../../scripts/content/wrong.ts';
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

  it('knows every field the server reads (instances, services) and reports one it does not', async () => {
    const problems = await problemsAfter((t) => t.edit(json, '"kind": "server"', '"kind": "server", "instances": 2, "services": ["redis"], "instance": 2'));
    expect(problems.filter((p) => p.file === json).map((p) => `${p.field}: ${p.message}`)).toEqual(['instance: not a field of exercise.json: it is ignored']);
  });

  it('catches exercise.json that is not JSON, and an id that is not the folder name', async () => {
    expectProblem(await problemsAfter((t) => t.edit(json, /\}\s*$/, ',}')), { file: json, message: 'not valid JSON' });
    expectProblem(await problemsAfter((t) => t.edit(json, `"id": "${EXERCISES.server}"`, '"id": "other-name"')), { file: json, field: 'id' });
  });

  it('catches a missing file and an empty hints.md', async () => {
    const dir = `exercises/${EXERCISES.client}`;
    const problems = await problemsAfter((t) => {
      t.write(`${dir}/hints.md`, 'No bullets here.\n');
      rmSync(t.file(`${dir}/solution.ts`));
    });
    expectProblem(problems, { file: `${dir}/solution.ts`, message: 'missing' });
    expectProblem(problems, { file: `${dir}/hints.md`, message: 'no hints' });
  });
});

describe('wrong examples (wrong/<name>.patch, declared in exercise.json)', () => {
  const dir = `exercises/${EXERCISES.module}`;
  const json = `${dir}/exercise.json`;
  const patch = `${dir}/wrong/length-in-characters.patch`;
  /** exercise.json's "wrong", changed by `change`. */
  const editWrong = (t: Tree, change: (wrong: Array<Record<string, unknown>>) => void) => {
    const meta = JSON.parse(t.read(json));
    change(meta.wrong);
    t.write(json, JSON.stringify(meta, null, 2));
  };
  /** The problems of the exercises check, as file, field and message. */
  const exercisesProblems = async (breakIt: (t: Tree) => void) =>
    (await problemsAfter(breakIt, ['exercises'])).map((p) => {
      expect(p.fix.length, `no fix for ${p.message}`).toBeGreaterThan(10);
      return { file: p.file, field: p.field, message: p.message };
    });

  it('catches a leftover wrong/*.ts (the old form: a whole copy of the program)', async () => {
    const problems = await problemsAfter((t) => t.write(`${dir}/wrong/forgets-bytes.ts`, t.read(`${dir}/solution.ts`)), ['exercises']);
    expect(problems.map((p) => [p.file, p.message])).toEqual([
      [`${dir}/wrong/forgets-bytes.ts`, 'a whole copy of the program: wrong examples are now patches against solution.ts, declared in exercise.json with the tests they fail, and this one is not graded'],
    ]);
    expect(problems[0].fix).toBe(
      `Run \`npm run new:wrong -- ${EXERCISES.module} forgets-bytes ${dir}/wrong/forgets-bytes.ts --mistake "<the mistake, in a learner's words>"\`: it writes wrong/forgets-bytes.patch and declares the tests it fails. Then delete ${dir}/wrong/forgets-bytes.ts.`,
    );
  });

  it('catches a patch that is not declared, and a declaration with no patch (naming the close one)', async () => {
    const problems = await exercisesProblems((t) => {
      t.write(`${dir}/wrong/undeclared.patch`, t.read(patch));
      editWrong(t, (wrong) => (wrong[0].name = 'length-in-character'));
    });
    expect(problems).toEqual([
      { file: json, field: 'wrong.0.name', message: `there is no ${dir}/wrong/length-in-character.patch (did you mean "length-in-characters"?)` },
      { file: patch, field: undefined, message: 'not declared in exercise.json\'s "wrong", so nothing says which tests it must fail' },
      { file: `${dir}/wrong/undeclared.patch`, field: undefined, message: 'not declared in exercise.json\'s "wrong", so nothing says which tests it must fail' },
    ]);
  });

  it('catches a wrong example declared twice', async () => {
    const problems = await exercisesProblems((t) => editWrong(t, (wrong) => wrong.push({ ...wrong[0] })));
    expect(problems).toEqual([{ file: json, field: 'wrong.1.name', message: '"length-in-characters" is declared twice (also wrong.0)' }]);
  });

  it('catches a patch that no longer applies, naming the hunk, because solution.ts changed', async () => {
    const problems = await exercisesProblems((t) => {
      // A second hunk, further down, then the solution changed under it.
      const solution = t.read(`${dir}/solution.ts`);
      const wrong = solution.replace('header.writeUInt16BE(body.length);', 'header.writeUInt16BE(text.length);').replace('    return messages;', '    return messages.slice();');
      t.write(patch, makeWrongPatch(solution, wrong, 'length-in-characters'));
      t.edit(`${dir}/solution.ts`, '    return messages;', '    return [...messages];');
    });
    expect(problems).toEqual([{ file: patch, field: undefined, message: 'hunk 2 of 2 (@@ -20,7 +20,7 @@, from "      if (this.pending.length < 2 + size) break;") does not apply to solution.ts, which has probably changed since the patch was made' }]);
  });

  it('catches a patch that changes nothing, one that is not a diff and one that patches two files', async () => {
    const problems = await exercisesProblems((t) => {
      t.write(`${dir}/wrong/empty.patch`, '');
      t.write(`${dir}/wrong/same.patch`, '--- solution.ts\n+++ wrong/same.ts\n@@ -3,1 +3,1 @@\n-  const body = Buffer.from(text, \'utf8\');\n+  const body = Buffer.from(text, \'utf8\');\n');
      t.write(`${dir}/wrong/garbled.patch`, '--- solution.ts\n+++ wrong/garbled.ts\n@@ -1,2 +1,2 @@\n-export function encode(text: string): Buffer {\n?what\n');
      t.write(`${dir}/wrong/two-files.patch`, t.read(patch) + t.read(patch).replace('solution.ts', 'starter.ts'));
      editWrong(t, (wrong) => {
        for (const name of ['empty', 'same', 'garbled', 'two-files']) wrong.push({ ...wrong[0], name });
      });
    });
    expect(problems).toEqual([
      { file: `${dir}/wrong/empty.patch`, field: undefined, message: 'changes nothing: applied to solution.ts, it gives solution.ts itself' },
      { file: `${dir}/wrong/garbled.patch`, field: undefined, message: 'not a unified diff: Hunk at line 3 contained invalid line ?what' },
      { file: `${dir}/wrong/same.patch`, field: undefined, message: 'changes nothing: applied to solution.ts, it gives solution.ts itself' },
      { file: `${dir}/wrong/two-files.patch`, field: undefined, message: 'patches 2 files; a wrong example is one diff against solution.ts' },
    ]);
  });

  it('catches an exercise without wrong examples, and a declaration that does not fit the schema', async () => {
    const problems = await exercisesProblems((t) => {
      rmSync(t.file(`exercises/${EXERCISES.client}/wrong`), { recursive: true });
      editWrong(t, (wrong) => (wrong[0].fails = []));
      const client = JSON.parse(t.read(`exercises/${EXERCISES.client}/exercise.json`));
      t.write(`exercises/${EXERCISES.client}/exercise.json`, JSON.stringify({ ...client, wrong: [] }));
    });
    expect(problems).toEqual([
      { file: `exercises/${EXERCISES.client}/wrong`, field: undefined, message: 'no wrong examples: nothing shows that the tests catch the mistakes learners make' },
      { file: json, field: 'wrong.0.fails', message: 'name at least one test this mistake must fail' },
    ]);
  });

  it('says nothing about declarations while exercise.json itself is invalid (its own error says what to fix)', async () => {
    const problems = await exercisesProblems((t) => t.edit(json, '"kind": "module"', '"kind": "library"'));
    expect(problems.map((p) => [p.file, p.field])).toEqual([[json, 'kind']]);
  });

  it('type-checks each patched solution, naming the patch and the line of the patched program', async () => {
    const problems = await problemsAfter((t) => {
      const solution = t.read(`${dir}/solution.ts`);
      t.write(patch, makeWrongPatch(solution, solution.replace('header.writeUInt16BE(body.length);', 'header.writeUInt16BE(body);'), 'length-in-characters'));
    }, ['types']);
    expect(problems.map((p) => [p.file, p.line, p.message])).toEqual([
      [patch, undefined, "the patched solution does not type-check (line 5): TS2345: Argument of type 'Buffer<ArrayBuffer>' is not assignable to parameter of type 'number'."],
    ]);
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

  it('catches a sample entry whose exercise (whose services it runs with) does not exist', async () => {
    const problems = await problemsAfter((t) => t.edit('lessons/samples/expectations.json', '"stdout"', '"exercise": "no-such-exercise", "stdout"'));
    expectProblem(problems, { file: 'lessons/samples/expectations.json', field: '01-basics/hello.ts.exercise', check: 'samples', message: 'is not an exercise' });
  });

  it('catches a long TypeScript block in a lesson that is not an excerpt of a sample', async () => {
    const block = '```ts\nconst a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\nconst e = 5;\nconst f = 6;\n```\n';
    expectProblem(await problemsAfter((t) => t.append(LESSON_FILE, `\n${block}`)), { file: LESSON_FILE, check: 'samples', message: 'not an excerpt' });
  });
});
