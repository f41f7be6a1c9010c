// Every exercise through the real grading path (HTTP submissions to the spawned server): the
// solution passes, the starter fails, and each declared wrong example (solution.ts with its patch
// applied) fails exactly the tests it declares and passes all others. Gradings run concurrently
// (they mostly wait on sockets and deadlines); a program whose verdict does not fit is graded again alone.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { shown } from '../content/roots.ts';
import { patchPath } from '../content/wrong.ts';
import type { Content, ExerciseEntry } from './content.ts';
import type { Problem } from './problems.ts';
import type { GradingServer, Verdict } from './grading-server.ts';
import { UNSTARTED_VERDICT } from '../../sandbox-server/src/shapes/verdict.ts';
import { closest } from './similar.ts';
import { declarations, type Declared } from './wrong.ts';

type Role = 'solution' | 'starter' | 'wrong';

interface Submission {
  exercise: ExerciseEntry;
  role: Role;
  /** Relative to the exercise folder: "solution.ts", "wrong/to-string.patch". */
  name: string;
  code: string;
  /** For a wrong example: its declaration in exercise.json. */
  declared?: Declared;
}

/** Declared wrong examples whose patch applies (the others are reported by the static checks). */
function wrongSubmissions(exercise: ExerciseEntry): Submission[] {
  return declarations(exercise).flatMap((declared) => {
    const patch = exercise.wrong.find((w) => w.name === declared.example.name);
    if (!patch?.applied?.ok) return [];
    return [{ exercise, role: 'wrong' as const, name: patchPath(patch.name), code: patch.applied.program, declared }];
  });
}

/** Exercises the server can load: valid metadata and the files grading needs. */
export function gradable(content: Content): ExerciseEntry[] {
  return content.exercises.filter(
    (e) => e.meta.ok && e.meta.meta.id === e.id && ['solution.ts', 'starter.ts', 'grade.test.ts'].every((f) => existsSync(path.join(e.dir, f))),
  );
}

export interface GradingReport {
  problems: Problem[];
  submissions: number;
  /** Programs graded a second time, alone, because the first verdict did not fit their role. */
  regraded: number;
  /** Of those, the ones the second grading cleared: where, and what the first one said. */
  unsteady: string[];
}

export async function checkGrading(content: Content, sandbox: GradingServer, onGraded?: (exerciseId: string) => void): Promise<GradingReport> {
  const exercises = gradable(content);
  // Starters and wrong answers usually run into deadlines, so they go first and overlap the rest.
  const fromFile = (exercise: ExerciseEntry, role: Role, name: string): Submission => ({ exercise, role, name, code: readFileSync(path.join(exercise.dir, name), 'utf8') });
  const submissions: Submission[] = [
    ...exercises.map((exercise) => fromFile(exercise, 'starter', 'starter.ts')),
    // A name declared twice is graded once, against its first declaration (the static check reports the second).
    ...exercises.flatMap((exercise) => wrongSubmissions(exercise).filter((s, i, all) => all.findIndex((o) => o.name === s.name) === i)),
    ...exercises.map((exercise) => fromFile(exercise, 'solution', 'solution.ts')),
  ];
  const left = new Map(exercises.map((e) => [e.id, submissions.filter((s) => s.exercise === e).length]));
  const results = await Promise.all(
    submissions.map(async (s) => {
      const verdict = await gradeOnce(sandbox, s);
      const remaining = left.get(s.exercise.id)! - 1;
      left.set(s.exercise.id, remaining);
      if (remaining === 0) onGraded?.(s.exercise.id);
      return { ...s, verdict };
    }),
  );
  const suiteBroken = new Set<string>();
  const judged = results.map((r) => ({ ...r, problems: judge(content, r, r.verdict, suiteBroken) }));
  // A program whose verdict is not what its role calls for is graded once more, alone on the server:
  // many gradings at once on a loaded machine can miss a deadline that one alone meets. What the
  // second grading finds is reported; a program it clears is named as unsteady, never hidden.
  const unsteady: string[] = [];
  const problems: Problem[] = [];
  let regraded = 0;
  for (const r of judged) {
    if (r.problems.length === 0) continue;
    if (!regradable(r.verdict)) {
      problems.push(...r.problems);
      continue;
    }
    regraded++;
    const again = await gradeOnce(sandbox, r);
    const second = judge(content, r, again, new Set());
    if (second.length === 0) unsteady.push(`${shown(content.roots, r.exercise.dir)}/${r.name} (graded with the others: ${r.problems[0].message.split('\n')[0]})`);
    problems.push(...second);
  }
  return { problems, submissions: submissions.length, regraded, unsteady };
}

/** A verdict another grading could change: not a compile error or tests that do not load. */
function regradable(verdict: Verdict): boolean {
  if (verdict.status !== 'error') return true;
  const message = verdict.message ?? '';
  return message.startsWith('the server could not grade it') || message.startsWith(UNSTARTED_VERDICT);
}

function gradeOnce(sandbox: GradingServer, s: Submission): Promise<Verdict> {
  return sandbox.submit(s.exercise.id, s.code).catch(
    (err: Error): Verdict => ({ status: 'error', message: `the server could not grade it: ${err.message}`, tests: [], durationMs: 0 }),
  );
}

/** What is wrong with one program's verdict, given its role. */
function judge(content: Content, { exercise, role, name, declared }: Submission, verdict: Verdict, suiteBroken: Set<string>): Problem[] {
  const folder = shown(content.roots, exercise.dir);
  const file = `${folder}/${name}`;
  const problems: Problem[] = [];
  const add = (p: Omit<Problem, 'check'>) => problems.push({ check: 'grading', ...p });
  if (verdict.status === 'error' && /could not be loaded/.test(verdict.message ?? '')) {
    if (!suiteBroken.has(exercise.id)) {
      add({ file: `${folder}/grade.test.ts`, message: `the grading tests do not load: ${verdict.message?.replace(/^.*?: /, '')}`, fix: 'Fix the error in grade.test.ts (or a file it imports); `npm run typecheck` shows type errors too.' });
    }
    suiteBroken.add(exercise.id);
    return problems;
  }
  if (verdict.status === 'error' && verdict.message?.startsWith(UNSTARTED_VERDICT)) {
    add({ file, message: verdict.message, fix: 'The machine was too busy to start a sandbox, twice: run the check again when it is less loaded.' });
    return problems;
  }
  if (verdict.status === 'error' && verdict.message?.startsWith('the server could not grade it')) {
    add({ file, message: verdict.message, fix: 'This is a fault of the server, not of the content: see its log (`npm run dev` prints it), or try again.' });
    return problems;
  }
  if (verdict.status === 'error') {
    const at = /^main\.ts:(\d+):(\d+): (?:error: )?(.*)$/s.exec(verdict.message ?? '');
    if (role === 'wrong') {
      // The line is one of the patched solution, not of the patch: said in the message, not as the problem's line.
      add({ file, message: `the patched solution does not compile${at ? ` (line ${at[1]})` : ''}: ${at ? at[3] : verdict.message}`, fix: `A wrong example is a plausible program with one mistake the tests catch: fix the mistake in a copy of solution.ts and run \`npm run new:wrong -- ${exercise.id} ${declared!.example.name} <the copy>\`.` });
      return problems;
    }
    const purpose = role === 'solution' ? 'the solution' : 'the starter (learners would start from an error)';
    add({ file, line: at ? Number(at[1]) : undefined, message: `does not compile: ${at ? at[3] : verdict.message}`, fix: `Fix the syntax of ${purpose}.` });
    return problems;
  }
  if (role === 'solution' && verdict.tests.length === 0) {
    add({ file: `${folder}/grade.test.ts`, message: 'declares no tests, so nothing can pass', fix: "Add tests with describe()/it() from 'vitest' (see AUTHORING.md)." });
    return problems;
  }
  if (role === 'solution' && verdict.status !== 'pass') {
    add({
      file,
      message: `fails ${failing(verdict).length} of ${verdict.tests.length} grading tests:\n${describeFailures(verdict)}`,
      fix: 'The solution must pass every test: fix the solution, or the test if it expects the wrong thing. Each test runs alone as often as you like in `npm run dev`: paste the solution into the exercise and press Check.',
    });
  }
  if (role === 'starter' && verdict.status === 'pass') {
    add({ file, message: 'passes every grading test: there is nothing left for the learner to do', fix: 'Leave out of the starter what the exercise asks for (keep the TODO comments), or add tests that catch the missing part.' });
  }
  if (role === 'starter' && verdict.status === 'fail' && !verdict.tests.some((t) => t.status !== 'pass' && t.message)) {
    add({ file, message: 'fails without a message that tells the learner what is wrong', fix: 'Make the failing test throw a GradingFailure (or use the kit\'s readers and expect*) with a message for the learner.' });
  }
  if (role === 'wrong') problems.push(...checkDeclaredFailures(content, exercise, declared!, verdict));
  return problems;
}

/** A wrong example fails exactly the tests its declaration names, and passes every other one. */
function checkDeclaredFailures(content: Content, exercise: ExerciseEntry, { index, example }: Declared, verdict: Verdict): Problem[] {
  const folder = shown(content.roots, exercise.dir);
  const patch = patchPath(example.name);
  if (verdict.status === 'pass') {
    return [{
      check: 'grading',
      file: `${folder}/${patch}`,
      message: `passes every grading test, so the tests do not catch this mistake (${example.mistake})`,
      fix: `Add a test to grade.test.ts that this program fails (with a message that explains the mistake), or delete the patch and its entry in exercise.json if it is not a mistake.`,
    }];
  }
  const problems: Problem[] = [];
  const add = (message: string, fix: string) => problems.push({ check: 'grading', file: `${folder}/exercise.json`, field: `wrong.${index}.fails`, message, fix });
  const names = verdict.tests.map((t) => t.name);
  const regrade = `\`npm run new:wrong -- ${exercise.id} ${example.name}\` grades it and sets "fails" to the tests it fails.`;
  for (const name of example.fails) {
    const test = verdict.tests.find((t) => t.name === name);
    if (!test) {
      add(`"${name}" is not a test of grade.test.ts (closest: ${closest(name, names, 3).map((n) => `"${n}"`).join(', ')})`, `Use the test's exact name, "<describe> > <it>" as the verdict gives it; ${regrade}`);
    } else if (test.status === 'pass') {
      add(`${patch} passes "${name}", which it is declared to fail`, `Remove "${name}" from "fails" if this mistake does not break it; if it does, the test misses the mistake: make it catch it.`);
    }
  }
  for (const test of failing(verdict).filter((t) => !example.fails.includes(t.name))) {
    add(
      `${patch} also fails "${test.name}", which "fails" does not declare: ${(test.message ?? test.status).split('\n').slice(0, 6).join('\n  ')}`,
      `Add "${test.name}" to "fails" if this mistake breaks it too; if not, the patch makes a second mistake (keep it to one), or the test fails for a reason of its own.`,
    );
  }
  return problems;
}

const failing = (v: Verdict) => v.tests.filter((t) => t.status !== 'pass');

function describeFailures(v: Verdict): string {
  return failing(v)
    .map((t) => `- "${t.name}": ${(t.message ?? t.status).split('\n').slice(0, 6).join('\n  ')}`)
    .join('\n');
}
