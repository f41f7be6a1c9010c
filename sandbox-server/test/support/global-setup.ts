// vitest's global set-up: every test file runs inside one test run (scripts/test-run.mjs), and at
// the end the run must have left no process, temp dir or cgroup; if it did, vitest fails, naming each.
// Under `npm run test:unit` the run is the wrapper's (which checks again once vitest has exited);
// `npx vitest run` begins its own here.
import type { TestProject } from 'vitest/node';
import { beginRun, checkAndClean, childProcesses, currentRun, endRun, lineage } from '../../../scripts/test-run.mjs';

export default function setup(project: TestProject): () => Promise<void> {
  const inherited = currentRun();
  const run = inherited ?? beginRun();
  return async function teardown() {
    // vitest's own: its process and ancestors, its direct children (the workers and its esbuild
    // service, which it ends after this; a test's processes are the workers' children) and its
    // cache dir. What a dead worker left behind is reparented away from vitest, so it is still found.
    const vitest = {
      processes: new Set([...lineage(), ...childProcesses(process.pid).map((c) => c.pid)]),
      paths: [project.tmpDir],
    };
    const left = await checkAndClean(run, console.error, vitest);
    if (!inherited) endRun(run);
    if (left > 0) throw new Error(`the tests left ${left} thing(s) behind; see the lines above`);
  };
}
