// The course content passes check:content: the same checker as `npm run check:content`
// (scripts/check-content/), run once here so `npm test` covers lessons, exercises, links, types,
// samples and grading (each exercise's solution, starter and wrong/ files graded through the real
// server; one whose verdict does not fit graded again alone). A failing check prints the checker's own report: file, line or field, what, fix.
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS, CHECK_TITLES, checkContent, formatProblems, type ContentReport } from '../../scripts/check-content/index.ts';

let report: ContentReport;
beforeAll(async () => {
  report = await checkContent();
  // Gradings that fit only when done again alone pass, but are said in the test log (CI's too).
  const grading = report.results.find((r) => r.check === 'grading');
  if (grading && /unsteady/.test(grading.detail)) console.warn(`check:content grading: ${grading.detail}`);
}, 900_000); // it grades every solution, starter and wrong example (300+): minutes on a 2-core machine

describe('course content (npm run check:content)', () => {
  it.each(ALL_CHECKS)('%s', (check) => {
    const result = report.results.find((r) => r.check === check)!;
    expect(result, `${check} did not run`).toBeDefined();
    const problems = result.problems;
    expect(problems.length, `${CHECK_TITLES[check]}: ${problems.length} problem(s)\n\n${formatProblems(problems)}`).toBe(0);
  });

  it('has lessons, exercises and samples to check', () => {
    expect(report.results.find((r) => r.check === 'grading')!.detail).not.toMatch(/^0 exercises/);
    expect(report.results.find((r) => r.check === 'samples')!.detail).not.toMatch(/^0 samples/);
  });
});
