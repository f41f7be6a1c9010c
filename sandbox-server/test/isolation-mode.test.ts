// Which isolation the server runs learner code with, and what it does when strong isolation is
// unavailable: fall back loudly, or refuse to start when SANDBOX_REQUIRE_ISOLATION=1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getJson, startServerProcess } from './support/server-process.ts';
import { requireStrongIsolation } from './support/prerequisites.ts';

/** A PATH with what the server needs but no bubblewrap, as on a host without the package. */
let pathWithoutBwrap: string;
beforeAll(() => {
  pathWithoutBwrap = mkdtempSync(path.join(os.tmpdir(), 'no-bwrap-'));
  for (const tool of ['/bin/sh', '/usr/bin/prlimit', '/usr/bin/setpriv']) symlinkSync(tool, path.join(pathWithoutBwrap, path.basename(tool)));
});
afterAll(() => {
  rmSync(pathWithoutBwrap, { recursive: true, force: true });
});

describe('isolation mode', () => {
  it('is strong ("bwrap") on a host with bubblewrap and a cgroup', async () => {
    requireStrongIsolation();
    const server = await startServerProcess();
    try {
      const { json } = await getJson(`${server.url}/api/health`);
      expect(json.isolation).toBe('bwrap');
      expect(server.log()).toContain('Learner code isolation: bwrap');
    } finally {
      await server.stop();
    }
  });

  it('falls back to process limits with a loud warning when bubblewrap is missing', async () => {
    const server = await startServerProcess({ PATH: pathWithoutBwrap });
    try {
      const { json } = await getJson(`${server.url}/api/health`);
      expect(json.isolation).toBe('process');
      expect(server.log()).toMatch(/WARNING: learner code runs with process-level limits only \(bubblewrap \(bwrap\) is not installed\)/);
    } finally {
      await server.stop();
    }
  });

  it('refuses to start without strong isolation when SANDBOX_REQUIRE_ISOLATION=1', async () => {
    await expect(startServerProcess({ PATH: pathWithoutBwrap, SANDBOX_REQUIRE_ISOLATION: '1' })).rejects.toThrow(
      /server exited with 1 before listening:[\s\S]*strong isolation is required but unavailable: bubblewrap \(bwrap\) is not installed/,
    );
  });
});
