import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // exercises/*/grade.test.ts are grading tests, run by the grader against learner code, not by vitest.
    include: ['sandbox-server/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'exercises/**', 'site/**'],
    // One test run (scripts/test-run.mjs) around all files; it fails if anything of it is left at the end.
    globalSetup: ['sandbox-server/test/support/global-setup.ts'],
    // In every file: stop the servers its tests left running (failed or timed out before their own stop).
    setupFiles: ['sandbox-server/test/support/test-file-hooks.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start servers and learner processes; two files at a time suits a 2-core machine.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
