// check:content: every check of the course content, one function per kind of check, each returning
// structured problems ({file, line?, field?, message, fix}). Used by the CLI (cli.ts, `npm run
// check:content`), by `npm test` (test/content/content.test.ts) and by the checker's own tests.
import { contentRoots, type ContentRoots } from '../content/roots.ts';
import { loadContent, type Content } from './content.ts';
import { checkExerciseMetadata } from './exercises.ts';
import { checkGrading, gradable } from './grading.ts';
import { checkLessonComponents, checkLessonFrontmatter, checkLessonPlacement } from './lessons.ts';
import { checkExerciseLinks, checkInternalLinks, checkLessonImports } from './links.ts';
import { CHECK_TITLES, type CheckName, type Problem } from './problems.ts';
import { checkLessonExcerpts, checkSampleExpectations, checkSampleRuns } from './samples.ts';
import { startGradingServer, type GradingServer } from './grading-server.ts';
import { checkTypes } from './types.ts';

export { checkExerciseMetadata, checkGrading, checkLessonComponents, checkLessonFrontmatter, checkLessonPlacement, checkExerciseLinks, checkInternalLinks, checkLessonImports };
export { checkLessonExcerpts, checkSampleExpectations, checkSampleRuns, checkTypes, loadContent, contentRoots, startGradingServer };
export { CHECK_TITLES, formatProblems, type CheckName, type Problem } from './problems.ts';
export type { Content, ContentRoots, GradingServer };

/** "1 lesson", "13 lessons". */
const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const ALL_CHECKS: CheckName[] = ['lessons', 'exercises', 'links', 'types', 'samples', 'grading'];

export interface CheckResult {
  check: CheckName;
  problems: Problem[];
  /** What was checked, e.g. "13 lessons", "34 submissions". */
  detail: string;
  ms: number;
}

export interface ContentReport {
  results: CheckResult[];
  problems: Problem[];
  ms: number;
}

export interface CheckOptions {
  /** Which checks to run (default: all). */
  checks?: CheckName[];
  /** Grade only these exercises (default: every exercise). */
  exercises?: string[];
  /** Called as each check finishes. */
  onResult?: (result: CheckResult) => void;
  /** Called with progress lines while the slow checks run. */
  onProgress?: (line: string) => void;
}

export async function checkContent(roots: ContentRoots = contentRoots(), options: CheckOptions = {}): Promise<ContentReport> {
  const started = Date.now();
  const wanted = new Set(options.checks ?? ALL_CHECKS);
  const content = loadContent(roots);
  const results: CheckResult[] = [];
  const record = (check: CheckName, problems: Problem[], detail: string, since: number) => {
    const result = { check, problems, detail, ms: Date.now() - since };
    results.push(result);
    options.onResult?.(result);
  };
  const timed = async (check: CheckName, detail: string, run: () => Problem[] | Promise<Problem[]>) => {
    if (!wanted.has(check)) return;
    const since = Date.now();
    record(check, await run(), detail, since);
  };

  // Fast, static checks first.
  await timed('lessons', count(content.lessons.length, 'lesson'), async () => [...(await checkLessonFrontmatter(content)), ...checkLessonPlacement(content), ...checkLessonComponents(content)]);
  await timed('exercises', count(content.exercises.length, 'exercise'), () => checkExerciseMetadata(content));
  await timed('links', `${count(content.lessons.length, 'lesson')}, ${count(content.exercises.length, 'exercise')}`, () => [...checkExerciseLinks(content), ...checkInternalLinks(content), ...checkLessonImports(content)]);

  const toGrade = gradable(content).filter((e) => !options.exercises || options.exercises.includes(e.id));
  const needsServer = (wanted.has('samples') && content.samples.length > 0) || (wanted.has('grading') && toGrade.length > 0);
  const sandboxStarting = needsServer ? startGradingServer(roots.exercisesDir) : undefined;
  sandboxStarting?.catch(() => {}); // awaited below
  try {
    // tsc is synchronous CPU work: it runs while the server starts.
    if (wanted.has('types')) {
      const since = Date.now();
      const types = checkTypes(content);
      record('types', types.problems, count(types.files, 'file'), since);
    }
    const sandbox = await sandboxStarting;
    // Samples first, on an otherwise idle server (some measure timing); then the gradings, many at once.
    await timed('samples', count(content.samples.length, 'sample'), async () => [
      ...checkSampleExpectations(content),
      ...checkLessonExcerpts(content),
      ...(sandbox ? await checkSampleRuns(content, sandbox) : []),
    ]);
    if (wanted.has('grading')) {
      const since = Date.now();
      options.onProgress?.(`grading ${count(toGrade.length, 'exercise')}…`);
      const report = sandbox && toGrade.length ? await checkGrading({ ...content, exercises: toGrade }, sandbox, (id) => options.onProgress?.(`  graded ${id}`)) : { problems: [], submissions: 0, regraded: 0, unsteady: [] };
      const again = report.regraded ? `; ${report.regraded} graded again alone` : '';
      const unsteady = report.unsteady.length ? `, of which ${report.unsteady.length} fit only alone (unsteady): ${report.unsteady.join('; ')}` : '';
      record('grading', report.problems, `${count(toGrade.length, 'exercise')}, ${count(report.submissions, 'submission')}${again}${unsteady}`, since);
    }
  } finally {
    await (await sandboxStarting?.catch(() => undefined))?.stop();
  }
  results.sort((a, b) => ALL_CHECKS.indexOf(a.check) - ALL_CHECKS.indexOf(b.check));
  return { results, problems: results.flatMap((r) => r.problems), ms: Date.now() - started };
}
