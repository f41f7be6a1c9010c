// The grading check grades a program again, alone, when its first verdict does not fit its role, and
// reports what the second grading finds: a mismatch seen twice is a problem, one the second grading
// clears is named as unsteady. A scripted grading server stands in for the real one (whose verdicts
// do not change on demand), so each case is exact.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadContent } from '../../scripts/check-content/content.ts';
import { checkGrading } from '../../scripts/check-content/grading.ts';
import type { GradingServer, Verdict } from '../../scripts/check-content/grading-server.ts';
import { EXERCISES, makeTree } from './fixture.ts';

const t = makeTree();
afterAll(() => t.remove());

const id = EXERCISES.module;
const meta = JSON.parse(readFileSync(t.file(`exercises/${id}/exercise.json`), 'utf8'));
const [wrong] = meta.wrong as Array<{ name: string; fails: string[] }>;
const solution = readFileSync(t.file(`exercises/${id}/solution.ts`), 'utf8');
const starter = readFileSync(t.file(`exercises/${id}/starter.ts`), 'utf8');
const EXTRA = 'a test the mistake does not break';
const TESTS = [...wrong.fails, EXTRA];

const verdict = (failing: string[]): Verdict => ({
  status: failing.length ? 'fail' : 'pass',
  tests: TESTS.map((name) => (failing.includes(name) ? { name, status: 'fail', message: `${name} failed` } : { name, status: 'pass' })),
  durationMs: 1,
});

/** A server whose verdicts for the wrong example follow `wrongVerdicts`, one per grading; the others are right. */
function scripted(wrongVerdicts: string[][]): GradingServer & { graded: string[] } {
  const graded: string[] = [];
  return {
    url: 'http://scripted.invalid',
    graded,
    async submit(exerciseId, code) {
      expect(exerciseId).toBe(id);
      const role = code === solution ? 'solution' : code === starter ? 'starter' : 'wrong';
      graded.push(role);
      if (role === 'solution') return verdict([]);
      if (role === 'starter') return verdict(TESTS);
      const next = wrongVerdicts.shift();
      if (!next) throw new Error('graded more often than scripted');
      return verdict(next);
    },
    run: () => Promise.reject(new Error('not used')),
    stop: () => Promise.resolve(),
  };
}

const content = () => {
  const all = loadContent(t.roots);
  return { ...all, exercises: all.exercises.filter((e) => e.id === id) };
};

describe('grading a program again when its verdict does not fit', () => {
  it('grades each program once when every verdict fits', async () => {
    const server = scripted([wrong.fails]);
    const report = await checkGrading(content(), server);
    expect(report).toEqual({ problems: [], submissions: 3, regraded: 0, unsteady: [] });
    expect(server.graded.sort()).toEqual(['solution', 'starter', 'wrong']);
  });

  it('names a wrong example that failed an undeclared test with the others and fits alone as unsteady, not as a problem', async () => {
    const server = scripted([TESTS, wrong.fails]);
    const report = await checkGrading(content(), server);
    expect(report.problems).toEqual([]);
    expect(report.regraded).toBe(1);
    expect(report.unsteady).toEqual([`exercises/${id}/wrong/${wrong.name}.patch (graded with the others: wrong/${wrong.name}.patch also fails "${EXTRA}", which "fails" does not declare: ${EXTRA} failed)`]);
  });

  it('reports what the second grading found when it does not fit either', async () => {
    const server = scripted([TESTS, []]);
    const report = await checkGrading(content(), server);
    expect(report.unsteady).toEqual([]);
    expect(report.problems.map((p) => p.message)).toEqual([`passes every grading test, so the tests do not catch this mistake (${meta.wrong[0].mistake})`]);
    expect(report.problems[0].file).toBe(path.join('exercises', id, 'wrong', `${wrong.name}.patch`));
  });
});
