// Types for test-run.mjs (plain JavaScript, so that the browser test, plain Node too, can use it).
export interface TestRun {
  /** The run's own directory; also its marker's value. */
  dir: string;
  /** TMPDIR of everything in the run. */
  tmp: string;
  /** The pids of the servers the run started, one a line. */
  servers: string;
  /** The pid of the process that began the run (a run whose owner is gone is swept by the next). */
  owner: string;
}
export interface Leftovers {
  processes: Array<{ pid: number; command: string }>;
  tempEntries: string[];
  cgroups: string[];
}
export declare const RUN_ENV: string;
export declare function currentRun(): TestRun | undefined;
export declare function beginRun(): Promise<TestRun>;
export declare function recordServer(pid: number): void;
export declare function childProcesses(parent: number): Array<{ pid: number; command: string }>;
export declare function lineage(pid?: number): Set<number>;
/** What belongs to whoever drives the run, not to its tests. */
export interface Driver {
  processes: Set<number>;
  paths?: string[];
}
export declare function findLeftovers(run: TestRun, exclude?: Driver): Leftovers;
export declare function describeLeftovers(left: Leftovers): string[];
export declare function removeLeftovers(run: TestRun, left: Leftovers): Promise<void>;
export declare function endRun(run: TestRun): void;
export declare function checkAndClean(run: TestRun, log?: (line: string) => void, exclude?: Driver): Promise<number>;
