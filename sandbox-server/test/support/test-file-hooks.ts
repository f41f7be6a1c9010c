// Runs in every test file (vitest setupFiles): after the file, stop each server a test started and
// did not stop (it failed or timed out before its own stop). The worker itself is noted as a server
// of the run, for the tests that make pods in-process (their cgroups are named after this pid).
import { afterAll } from 'vitest';
import { recordServer } from '../../../scripts/test-run.mjs';
import { stopAllServers } from './server-process.ts';

recordServer(process.pid);

afterAll(async () => {
  await stopAllServers();
});
