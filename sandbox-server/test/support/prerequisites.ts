// What some tests need from the host beyond `npm ci`, checked up front so that such a test fails
// with one line naming what is missing and how to get it, instead of an ENOENT or a wrong value deep
// inside. The checks are set-up's own (scripts/setup.mjs), so the two never disagree.
import { cgroupProblem, findCommand, namespaceProblem, wantedPackages } from '../../../scripts/setup.mjs';

/** A missing prerequisite: its stack is the message alone, so the test report shows one line. */
export class MissingPrerequisite extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPrerequisite';
    this.stack = `${this.name}: ${message}`;
  }
}

export interface IsolationHost {
  /** The bubblewrap command (tests of this check pass one that does not exist). */
  bwrap?: string;
  /** Where the cgroup v1 controllers are mounted. */
  cgroupBase?: string;
}

/** Why this host cannot give learner code strong isolation (bubblewrap pods), or undefined when it can. */
export function strongIsolationProblem(host: IsolationHost = {}): string | undefined {
  if (process.platform !== 'linux') return `strong isolation needs Linux; this host is ${process.platform}`;
  const bwrap = host.bwrap ?? 'bwrap';
  if (!findCommand(bwrap)) {
    const pkg = wantedPackages(false).find((p) => p.command === 'bwrap')!.package;
    return `${pkg} is not installed: run \`npm run setup\` as root, or \`apt-get install -y ${pkg}\``;
  }
  const namespaces = namespaceProblem(bwrap);
  if (namespaces) return `bubblewrap cannot create namespaces (${namespaces.why}): ${namespaces.fix ? `as root, \`${namespaces.fix}\`` : 'see README, "Security model"'}`;
  const cgroups = cgroupProblem(host.cgroupBase);
  if (cgroups) return `the server cannot manage its cgroups: ${cgroups.why}${cgroups.fix ? `; as root once, \`${cgroups.fix}\`` : ''}`;
  return undefined;
}

/** Throws the one-line reason when this host cannot give strong isolation. Call it first in a test (or beforeAll) that needs it. */
export function requireStrongIsolation(host: IsolationHost = {}): void {
  const problem = strongIsolationProblem(host);
  if (problem) throw new MissingPrerequisite(problem);
}

/** Throws the one-line reason when redis-server (a run's own Redis) is not installed. */
export function requireRedis(): void {
  if (findCommand('redis-server')) return;
  const pkg = wantedPackages(false).find((p) => p.command === 'redis-server')!.package;
  throw new MissingPrerequisite(`${pkg} is not installed: run \`npm run setup\` as root, or \`apt-get install -y ${pkg}\``);
}
