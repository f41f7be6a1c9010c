// Every exercise through the real grading path (HTTP submissions to the spawned server): the
// solution passes, the starter fails, and every wrong/ file fails. Gradings run concurrently
// (they mostly wait on sockets and deadlines); each file is graded once.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { wrongFiles } from '../content/exercises.ts';
import { shown } from '../content/roots.ts';
import type { Content, ExerciseEntry } from './content.ts';
import type { Problem } from './problems.ts';
import type { GradingServer, Verdict } from './grading-server.ts';

type Role = 'solution' | 'starter' | 'wrong';

interface Submission {
  exercise: ExerciseEntry;
  role: Role;
  /** Relative to the exercise folder: "solution.ts", "wrong/to-string.ts". */
  name: string;
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
}

export async function checkGrading(content: Content, sandbox: GradingServer, onGraded?: (exerciseId: string) => void): Promise<GradingReport> {
  const exercises = gradable(content);
  // Starters and wrong answers usually run into deadlines, so they go first and overlap the rest.
  const submissions: Submission[] = [
    ...exercises.map((exercise) => ({ exercise, role: 'starter' as const, name: 'starter.ts' })),
    ...exercises.flatMap((exercise) => wrongFiles(exercise.dir).map((f) => ({ exercise, role: 'wrong' as const, name: `wrong/${f}` }))),
    ...exercises.map((exercise) => ({ exercise, role: 'solution' as const, name: 'solution.ts' })),
  ];
  const left = new Map(exercises.map((e) => [e.id, submissions.filter((s) => s.exercise === e).length]));
  const results = await Promise.all(
    submissions.map(async (s) => {
      const verdict = await sandbox.submit(s.exercise.id, readFileSync(path.join(s.exercise.dir, s.name), 'utf8')).catch(
        (err: Error): Verdict => ({ status: 'error', message: `the server could not grade it: ${err.message}`, tests: [], durationMs: 0 }),
      );
      const remaining = left.get(s.exercise.id)! - 1;
      left.set(s.exercise.id, remaining);
      if (remaining === 0) onGraded?.(s.exercise.id);
      return { ...s, verdict };
    }),
  );
  const problems: Problem[] = [];
  const suiteBroken = new Set<string>();
  for (const { exercise, role, name, verdict } of results) {
    const folder = shown(content.roots, exercise.dir);
    const file = `${folder}/${name}`;
    const add = (p: Omit<Problem, 'check'>) => problems.push({ check: 'grading', ...p });
    if (verdict.status === 'error' && /could not be loaded/.test(verdict.message ?? '')) {
      if (!suiteBroken.has(exercise.id)) {
        add({ file: `${folder}/grade.test.ts`, message: `the grading tests do not load: ${verdict.message?.replace(/^.*?: /, '')}`, fix: 'Fix the error in grade.test.ts (or a file it imports); `npm run typecheck` shows type errors too.' });
      }
      suiteBroken.add(exercise.id);
      continue;
    }
    if (verdict.status === 'error' && verdict.message?.startsWith('the server could not grade it')) {
      add({ file, message: verdict.message, fix: 'This is a fault of the server, not of the content: see its log (`npm run dev` prints it), or try again.' });
      continue;
    }
    if (verdict.status === 'error') {
      const at = /^main\.ts:(\d+):(\d+): (.*)$/s.exec(verdict.message ?? '');
      const purpose = role === 'solution' ? 'the solution' : role === 'starter' ? 'the starter (learners would start from an error)' : 'a wrong/ example (it should be a plausible program with one mistake the tests catch)';
      add({ file, line: at ? Number(at[1]) : undefined, message: `does not compile: ${at ? at[3] : verdict.message}`, fix: `Fix the syntax of ${purpose}.` });
      continue;
    }
    if (role === 'solution' && verdict.tests.length === 0) {
      add({ file: `${folder}/grade.test.ts`, message: 'declares no tests, so nothing can pass', fix: "Add tests with describe()/it() from 'vitest' (see AUTHORING.md)." });
      continue;
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
    if (role === 'wrong' && verdict.status === 'pass') {
      add({ file, message: `passes every grading test, so the tests do not catch this mistake`, fix: 'Add a test to grade.test.ts that this program fails (with a message that explains the mistake), or delete the file if it is not a mistake.' });
    }
  }
  return { problems, submissions: submissions.length };
}

const failing = (v: Verdict) => v.tests.filter((t) => t.status !== 'pass');

function describeFailures(v: Verdict): string {
  return failing(v)
    .map((t) => `- "${t.name}": ${(t.message ?? t.status).split('\n').slice(0, 6).join('\n  ')}`)
    .join('\n');
}
