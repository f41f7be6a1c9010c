// The up-front check of what the host lacks for strong isolation, seen failing without changing the
// host: it is given a bubblewrap that does not exist or cannot make namespaces, and no cgroups.
import { describe, expect, it } from 'vitest';
import { MissingPrerequisite, requireStrongIsolation, strongIsolationProblem } from './support/prerequisites.ts';

describe('strong isolation prerequisites', () => {
  it('names the package and the command that installs it when bubblewrap is missing', () => {
    expect(strongIsolationProblem({ bwrap: 'no-such-bwrap' })).toBe('bubblewrap is not installed: run `npm run setup` as root, or `apt-get install -y bubblewrap`');
  });

  it('says bubblewrap cannot create namespaces when its probe fails', () => {
    // `false` is on PATH and exits 1 whatever it is given, like a bwrap the kernel refuses.
    expect(strongIsolationProblem({ bwrap: 'false' })).toMatch(/^bubblewrap cannot create namespaces \(exit 1\): /);
  });

  it('says the server cannot manage its cgroups when the cgroup v1 controllers are missing', () => {
    expect(strongIsolationProblem({ cgroupBase: '/nonexistent-cgroup-root' })).toMatch(/^the server cannot manage its cgroups: no cgroup v1 controller at \/nonexistent-cgroup-root\/memory/);
  });

  it('fails a test with that one line and no stack', () => {
    let thrown: unknown;
    try {
      requireStrongIsolation({ bwrap: 'no-such-bwrap' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MissingPrerequisite);
    expect((thrown as Error).stack).toBe('MissingPrerequisite: bubblewrap is not installed: run `npm run setup` as root, or `apt-get install -y bubblewrap`');
  });
});
