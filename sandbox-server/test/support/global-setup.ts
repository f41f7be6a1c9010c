// vitest's global set-up: every test file runs inside one test run (scripts/test-run.mjs), and at
// the end the run must have left no process, temp dir or cgroup; if it did, vitest fails, naming each.
// Under `npm run test:unit` the run is the wrapper's (which checks again once vitest has exited);
// `npx vitest run` begins its own here (and the next run sweeps it if vitest is killed first).
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { beginRun, checkAndClean, childProcesses, currentRun, endRun, lineage } from '../../../scripts/test-run.mjs';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const inherited = currentRun();
  const run = inherited ?? (await beginRun());
  return async function teardown() {
    // vitest's own: its process and ancestors, its direct children (the workers and its esbuild
    // service, which it ends after this; a test's processes are the workers' children) and its
    // cache dir. What a dead worker left behind is reparented away from vitest, so it is still found.
    const vitest = {
      processes: new Set([...lineage(), ...childProcesses(process.pid).map((c) => c.pid)]),
      paths: [project.tmpDir],
    };
    const left = await checkAndClean(run, console.error, vitest);
    if (left > 0) {
      // vitest removes its cache dir only after a teardown that did not throw.
      rmSync(project.tmpDir, { recursive: true, force: true });
    }
    if (!inherited) endRun(run);
    if (left > 0) throw new Error(`the tests left ${left} thing(s) behind; see the lines above`);
  };
}
