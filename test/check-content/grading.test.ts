// The checker's slow checks, through the real server: the scaffolded exercises of every kind pass
// (solution passes, starter fails, each wrong example fails exactly the tests it declares), and a
// solution that fails, a starter that passes, wrong examples whose declarations are off and a sample
// that prints the wrong thing are each caught, named by file and field. new:wrong's declaration is
// checked the same way. One content tree and one grading run for all of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync } from 'node:fs';
import { startGradingServer } from '../../scripts/check-content/grading-server.ts';
import { checkContent, formatProblems, type ContentReport, type Problem } from '../../scripts/check-content/index.ts';
import { declareWrongExample, type DeclaredWrong } from '../../scripts/content/declare-wrong.ts';
import { createExercise } from '../../scripts/content/scaffold.ts';
import { makeWrongPatch } from '../../scripts/content/wrong.ts';
import { EXERCISES, LESSON, LESSON_FILE, makeTree, type Tree } from './fixture.ts';

const ENCODE_BYTES = 'length-prefixed messages > encode() puts the length in bytes before the text';
const ENCODE_HELLO = 'length-prefixed messages > encode() counts bytes, not characters: "héllo" is 6 bytes';
const DECODE_WHOLE = 'length-prefixed messages > a Decoder returns a message that arrives whole';
const WRONG_LENGTH = ['header.writeUInt16BE(body.length);', 'header.writeUInt16BE(text.length);'] as const;

let t: Tree;
let report: ContentReport;
let declared: DeclaredWrong;
let updated: DeclaredWrong;
let refusal: Error;
let passesAll: Error;

/** Writes exercises/<id>/wrong/<name>.patch: solution.ts with `from` replaced by `to`. */
function patch(id: string, name: string, from: string, to: string): void {
  const solution = t.read(`exercises/${id}/solution.ts`);
  if (!solution.includes(from)) throw new Error(`${from} is not in ${id}'s solution`);
  t.write(`exercises/${id}/wrong/${name}.patch`, makeWrongPatch(solution, solution.replace(from, to), name));
}

function declare(id: string, ...entries: Array<{ name: string; fails: string[] }>): void {
  const file = `exercises/${id}/exercise.json`;
  const meta = JSON.parse(t.read(file));
  meta.wrong.push(...entries.map((e) => ({ ...e, mistake: `the mistake called ${e.name}` })));
  t.write(file, JSON.stringify(meta, null, 2));
}

beforeAll(async () => {
  t = makeTree();
  // Broken exercises, made from the module template (its tests are the quickest to run).
  for (const id of ['solution-fails', 'starter-passes', 'wrong-declarations', 'made-by-new-wrong']) {
    createExercise(t.roots, id, { kind: 'module', lesson: LESSON });
    t.append(LESSON_FILE, `\n<Exercise id="${id}" />\n`);
  }
  cpSync(t.file('exercises/solution-fails/starter.ts'), t.file('exercises/solution-fails/solution.ts'));
  cpSync(t.file('exercises/starter-passes/solution.ts'), t.file('exercises/starter-passes/starter.ts'));

  // Declarations that are off, each in its own way (the template's own length-in-characters is right).
  const id = 'wrong-declarations';
  patch(id, 'also-right', '/** Turns chunks', '/** Splits chunks');
  patch(id, 'misspelt-test', ...WRONG_LENGTH);
  patch(id, 'declares-too-much', ...WRONG_LENGTH);
  patch(id, 'declares-too-little', 'header.writeUInt16BE(body.length);', 'header.writeUInt16BE(body.length + 1);');
  patch(id, 'syntax-error', 'header.writeUInt16BE(body.length);', 'header.writeUInt16BE(text.length;');
  declare(
    id,
    { name: 'also-right', fails: [ENCODE_HELLO] },
    { name: 'misspelt-test', fails: [ENCODE_HELLO.replace('characters', 'charaters')] },
    { name: 'declares-too-much', fails: [ENCODE_HELLO, DECODE_WHOLE] },
    { name: 'declares-too-little', fails: [ENCODE_HELLO] },
    { name: 'syntax-error', fails: [ENCODE_HELLO] },
  );

  // new:wrong: a mistake in an edited copy, declared from its grading, then graded again from the patch alone.
  const solution = t.read('exercises/made-by-new-wrong/solution.ts');
  t.write('edited/solution.ts', solution.replace('this.pending = this.pending.subarray(2 + size);', 'this.pending = Buffer.alloc(0);'));
  t.write('edited/latin1.ts', solution.replace("subarray(2, 2 + size).toString('utf8')", "subarray(2, 2 + size).toString('latin1')"));
  const server = await startGradingServer(t.roots.exercisesDir);
  try {
    const grade = (code: string) => server.submit('made-by-new-wrong', code);
    declared = await declareWrongExample(t.roots, 'made-by-new-wrong', 'drops-the-rest', { copy: t.file('edited/solution.ts'), mistake: 'throws away the rest of the chunk after the first message' }, grade);
    updated = await declareWrongExample(t.roots, 'made-by-new-wrong', 'drops-the-rest', {}, grade);
    refusal = await declareWrongExample(t.roots, 'made-by-new-wrong', 'decodes-latin1', { copy: t.file('edited/solution.ts') }, grade).then(() => new Error('no refusal'), (err: Error) => err);
    passesAll = await declareWrongExample(t.roots, 'made-by-new-wrong', 'decodes-latin1', { copy: t.file('edited/latin1.ts'), mistake: 'decodes the bytes as latin1, not UTF-8' }, grade).then(() => new Error('no refusal'), (err: Error) => err);
  } finally {
    await server.stop();
  }

  // A sample whose output does not match its expectations.
  t.write('lessons/samples/01-basics/says-goodbye.ts', "console.log('goodbye');\n");
  t.edit('lessons/samples/expectations.json', /^\{/, '{\n  "01-basics/says-goodbye.ts": { "stdout": ["^hello$"] },');
  // A sample whose entry names an exercise runs with that exercise's services: only then has it a REDIS_URL.
  t.edit(`exercises/${EXERCISES.server}/exercise.json`, /^\{/, '{\n  "services": ["redis"],');
  t.write('lessons/samples/01-basics/with-redis.ts', "console.log(process.env.REDIS_URL ? 'a redis of its own' : 'no redis');\n");
  t.edit('lessons/samples/expectations.json', /^\{/, `{\n  "01-basics/with-redis.ts": { "exercise": "${EXERCISES.server}", "stdout": ["^a redis of its own$"] },`);
  report = await checkContent(t.roots, { checks: ['types', 'samples', 'grading'] });
}, 240_000);

afterAll(() => t?.remove());

const about = (file: string): Problem[] => report.problems.filter((p) => p.file === file);
/** Problems about one file, as field and message. */
const messages = (file: string) => about(file).map((p) => ({ field: p.field, message: p.message }));

it('grades every exercise once: solution, starter and each declared wrong example whose patch applies', () => {
  const grading = report.results.find((r) => r.check === 'grading')!;
  // 7 × (solution, starter); the template's wrong example in 6 of them (solution-fails' solution is
  // its starter, to which the patch does not apply), 5 more in wrong-declarations, 1 more in made-by-new-wrong.
  // Those whose verdict does not fit are graded again, alone: the failing solution, the passing
  // starter and the four wrong examples whose declarations are off (not the one that does not compile).
  expect(grading.detail).toBe('7 exercises, 26 submissions; 6 graded again alone');
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

describe('wrong examples: exactly the declared tests fail', () => {
  const dir = 'exercises/wrong-declarations';

  it('accepts a correct declaration', () => {
    expect(about(`${dir}/wrong/length-in-characters.patch`)).toEqual([]);
    expect(report.problems.filter((p) => p.field === 'wrong.0.fails')).toEqual([]);
  });

  it('catches a patch that passes every test', () => {
    expect(messages(`${dir}/wrong/also-right.patch`)).toEqual([{ field: undefined, message: 'passes every grading test, so the tests do not catch this mistake (the mistake called also-right)' }]);
  });

  it('catches a declared test that does not exist (listing close names), a declared test that passed and an undeclared one that failed (with its message)', () => {
    const declarations = messages(`${dir}/exercise.json`);
    expect(declarations).toEqual([
      { field: 'wrong.2.fails', message: `"${ENCODE_HELLO.replace('characters', 'charaters')}" is not a test of grade.test.ts (closest: "${ENCODE_HELLO}", "${ENCODE_BYTES}", "${DECODE_WHOLE}")` },
      { field: 'wrong.2.fails', message: `wrong/misspelt-test.patch also fails "${ENCODE_HELLO}", which "fails" does not declare: encode("héllo") should return <00 06 68 c3 a9 6c 6c 6f>, but it returned <00 05 68 c3 a9 6c 6c 6f>` },
      { field: 'wrong.3.fails', message: `wrong/declares-too-much.patch passes "${DECODE_WHOLE}", which it is declared to fail` },
      { field: 'wrong.4.fails', message: `wrong/declares-too-little.patch also fails "${ENCODE_BYTES}", which "fails" does not declare: encode("hi") should return <00 02 68 69>, but it returned <00 03 68 69>` },
    ]);
    for (const p of about(`${dir}/exercise.json`)) expect(p.fix.length).toBeGreaterThan(20);
  });

  it('catches a patched solution that does not compile: in the grading and in the type check', () => {
    expect(about(`${dir}/wrong/syntax-error.patch`).map((p) => [p.check, p.message])).toEqual([
      ['types', "the patched solution does not type-check (line 5): TS1005: ')' expected."],
      ['grading', 'the patched solution does not compile (line 5): Expected ")" but found ";"'],
    ]);
  });
});

describe('new:wrong (declareWrongExample)', () => {
  it('writes the patch and declares the tests the patched solution failed, which check:content then accepts', () => {
    expect(existsSync(declared.patchFile)).toBe(true);
    expect(declared).toMatchObject({ index: 1, added: true, total: 5 });
    expect(declared.entry).toEqual({ name: 'drops-the-rest', mistake: 'throws away the rest of the chunk after the first message', fails: declared.failed.map((f) => f.name) });
    expect(declared.failed.length).toBeGreaterThan(0);
    expect(declared.failed.every((f) => f.message)).toBe(true);
    expect(JSON.parse(t.read('exercises/made-by-new-wrong/exercise.json')).wrong[1]).toEqual(declared.entry);
    const problems = report.problems.filter((p) => p.file.startsWith('exercises/made-by-new-wrong/'));
    expect(problems, formatProblems(problems)).toEqual([]);
  });

  it('grades an existing patch again, updating its entry in place and keeping its mistake', () => {
    expect(updated).toMatchObject({ index: 1, added: false, entry: declared.entry });
  });

  it('refuses a new entry without --mistake, and a mistake the tests do not catch, writing nothing', () => {
    expect(refusal.message).toBe(`--mistake "…" is needed for a new wrong example: the mistake in a learner's words, e.g. --mistake "takes one 'data' event for one line".`);
    expect(passesAll.message).toBe('The patched solution passes all 5 tests: they do not catch this mistake, and nothing was written. Add a test to exercises/made-by-new-wrong/grade.test.ts that fails it (with a message that explains the mistake), then run this again.');
    expect(existsSync(t.file('exercises/made-by-new-wrong/wrong/decodes-latin1.patch'))).toBe(false);
    expect(JSON.parse(t.read('exercises/made-by-new-wrong/exercise.json')).wrong.map((w: { name: string }) => w.name)).toEqual(['length-in-characters', 'drops-the-rest']);
  });
});

it('runs samples: a matching one passes (one with an exercise gets its services), one that prints something else is caught', () => {
  expect(about('lessons/samples/01-basics/hello.ts')).toEqual([]);
  expect(about('lessons/samples/01-basics/with-redis.ts'), 'a sample with "exercise" runs with its services').toEqual([]);
  const [p] = about('lessons/samples/01-basics/says-goodbye.ts');
  expect(p?.message).toMatch(/does not match \/\^hello\$\/m/);
  expect(p.message).toContain('goodbye');
});

it('reports nothing else', () => {
  const expected = [
    'exercises/solution-fails/solution.ts',
    'exercises/starter-passes/starter.ts',
    'exercises/wrong-declarations/exercise.json',
    'exercises/wrong-declarations/exercise.json',
    'exercises/wrong-declarations/exercise.json',
    'exercises/wrong-declarations/exercise.json',
    'exercises/wrong-declarations/wrong/also-right.patch',
    'exercises/wrong-declarations/wrong/syntax-error.patch',
    'exercises/wrong-declarations/wrong/syntax-error.patch',
    'lessons/samples/01-basics/says-goodbye.ts',
  ];
  expect(report.problems.map((p) => p.file).sort(), formatProblems(report.problems)).toEqual(expected);
});
