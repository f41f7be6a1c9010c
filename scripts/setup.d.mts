// Types for setup.mjs (plain JavaScript, because it runs before `npm ci`).
export interface SystemPackage {
  package: string;
  command: string;
  for: string;
}
export interface HostProblem {
  why: string;
  /** The command that fixes it, when known. */
  fix: string | undefined;
}
export declare function wantedPackages(forTests: boolean): SystemPackage[];
export { findCommand } from '../sandbox-server/src/find-command.mjs';
export declare function namespaceProblem(bwrap?: string): HostProblem | undefined;
export declare function cgroupProblem(base?: string): HostProblem | undefined;
export declare function installedDependenciesProblem(dir?: string): string | undefined;
