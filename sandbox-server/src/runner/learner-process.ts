// The contract between the harness and an isolation layer: start one learner program as one OS
// process, capture its output, enforce limits, report how it ended. The process-level layer below
// implements it today; an OS-isolated layer (bubblewrap + namespaces + cgroups) slots in beside it.
import type net from 'node:net';
import type { RunLimits } from '../config.ts';
import type { OutputListener } from './output-capture.ts';

export interface ExitInfo {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Plain-words description of the limit that stopped the program, if one did. */
  limit?: string;
  /**
   * Set when the program never ran because its sandbox could not be started (a busy host): why.
   * The server's fault, not the program's.
   */
  unstarted?: string;
}

export interface StartOptions {
  /** Directory holding the compiled program; the only place the program may read besides packages. */
  runDir: string;
  /** Entry file inside runDir. */
  entry: string;
  /** The complete environment of the process (nothing is inherited). */
  env: Record<string, string>;
  limits: RunLimits;
  /**
   * Trusted TCP services the program may reach, by the port it is told to use. Under process
   * isolation they already listen on that port on the host's loopback; an isolated layer relays
   * the port inside the program's private network to `accept`.
   */
  services: StreamService[];
  /**
   * Trusted UDP services, likewise: under process isolation they listen on the host's loopback; an
   * isolated layer relays the datagrams sent to `port` inside the program's network to `receive`.
   */
  datagramServices?: DatagramService[];
}

export interface StreamService {
  port: number;
  accept(socket: net.Socket): void;
}

export interface DatagramService {
  port: number;
  /** `reply` sends a datagram back to the sender (from `port`). */
  receive(message: Buffer, from: { address: string; port: number }, reply: (message: Buffer) => void): void;
}

export interface LearnerProcess {
  readonly pid: number | undefined;
  readonly startedAt: number;
  /** Output so far (capped). */
  readonly stdout: string;
  readonly stderr: string;
  onOutput(listener: OutputListener): () => void;
  readonly exited: Promise<ExitInfo>;
  readonly hasExited: boolean;
  /** Resolves when the program itself starts running (a sandbox may need a moment first). */
  readonly started: Promise<void>;
  /** Kill the process and everything it started. Idempotent. */
  kill(limit?: string): void;
  /** Opens a TCP connection to `port` in the program's network (the grader reaching its server). */
  connect(port: number): Promise<net.Socket>;
}

export interface Isolation {
  /** Reported by /api/health: how strongly learner code is isolated. */
  readonly isolation: string;
  /** Makes a run directory (the program's files are in it) ready for this layer's processes. */
  prepareRunDir?(runDir: string): Promise<void>;
  start(options: StartOptions): LearnerProcess;
  /** Stops anything the sandbox keeps running between programs (warm pods). */
  shutdown?(): Promise<void>;
  /** Resolves once the sandboxes it starts ahead of time are all ready. */
  whenWarm?(): Promise<void>;
  /** Sandboxes started ahead of time: how many are ready now, and how many it keeps. */
  readonly warmPods?: { ready: number; target: number };
}

export function formatLimitMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${+(bytes / 1_000_000).toFixed(1)} MB`;
  if (bytes >= 1_000) return `${+(bytes / 1_000).toFixed(1)} kB`;
  return `${bytes} bytes`;
}
