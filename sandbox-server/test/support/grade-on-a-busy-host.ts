// Grades a program with an isolation layer whose sandboxes never start (as on a host too busy to
// boot a pod in time) and prints the verdict as JSON. Run as its own process (node --import tsx):
// the grader imports each suite as a module file, which vitest's own module loader does not allow.
//   node --import tsx grade-on-a-busy-host.ts <exercise id> <program file>
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../src/config.ts';
import { ExerciseCatalog } from '../../src/exercises/catalog.ts';
import { Grader } from '../../src/grading/grader.ts';
import { Harness } from '../../src/harness/run-harness.ts';
import type { ExitInfo, Isolation, LearnerProcess } from '../../src/runner/learner-process.ts';

export const UNSTARTED_WHY = 'a sandbox did not start within 10 s';

/** A learner process whose sandbox failed to start: it never runs, and its exit says why. */
function neverStarted(): LearnerProcess {
  const exit: ExitInfo = { exitCode: null, signal: 'SIGKILL', timedOut: false, unstarted: UNSTARTED_WHY };
  const started = Promise.reject(new Error(UNSTARTED_WHY));
  started.catch(() => {});
  return {
    pid: undefined,
    startedAt: Date.now(),
    stdout: '',
    stderr: `${UNSTARTED_WHY}\n`,
    onOutput: () => () => {},
    exited: Promise.resolve(exit),
    hasExited: true,
    started,
    kill: () => {},
    connect: () => Promise.reject(new Error(UNSTARTED_WHY)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [id, programFile] = process.argv.slice(2);
  const config = loadConfig(process.env);
  const exercise = await new ExerciseCatalog(config.exercisesDir).get(id);
  if (!exercise) throw new Error(`no exercise ${id}`);
  const busyHost: Isolation = { isolation: 'test: sandboxes never start', start: neverStarted };
  const verdict = await new Grader(new Harness(config, busyHost)).grade(exercise, await readFile(programFile, 'utf8'));
  process.stdout.write(JSON.stringify(verdict));
}
