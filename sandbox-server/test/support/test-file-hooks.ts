// Runs in every test file (vitest setupFiles): after the file, stop each server a test started and
// did not stop (it failed or timed out before its own stop).
import { afterAll } from 'vitest';
import { stopAllServers } from './server-process.ts';

afterAll(async () => {
  await stopAllServers();
});
