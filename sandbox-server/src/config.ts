// The only module that reads the server's own environment; everything else gets a Config.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE_SERVERS, REFERENCE_SERVER_NAMES, type ReferenceServerName } from './reference-servers/registry.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunLimits {
  /** Wall-clock limit for one learner process. */
  timeoutMs: number;
  /** Resident memory (V8 heap and Buffers) at which the process is killed. */
  memoryMb: number;
  /** stdout + stderr captured per process; the rest is dropped and the learner told. */
  outputBytes: number;
}

export interface GradeLimits {
  /** Wall-clock limit for a learner process while it is being graded (a server lives through all tests). */
  processTimeoutMs: number;
}

/** How many runs and grades execute at once, and how many may wait (see harness/run-slots.ts). */
export interface SlotLimits {
  slots: number;
  queue: number;
  /** A job that waited this long for a slot is refused as busy. */
  queueTimeoutMs: number;
}

/** Token buckets on runs and submissions (see api/rate-limit.ts); perMin 0 turns them off. */
export interface RateLimits {
  /** Per client: an HTTP client (its IP) or one WebSocket connection. */
  perMin: number;
  burst: number;
  /** Per IP across HTTP and all its WebSocket connections (room for several learners behind one NAT). */
  ipPerMin: number;
  ipBurst: number;
}

export interface WebSocketLimits {
  /** Ping interval; a peer that has not answered the previous ping by the next one is dropped. */
  heartbeatMs: number;
  maxPerIp: number;
}

/** Limits of the shared reference servers (per-session servers use the defaults in reference-servers/). */
export interface ReferenceLimits {
  /** Connections per TCP server; past it a client is told "Error: server full" and disconnected. */
  maxConnections: number;
  /** A connection that sends nothing for this long is closed (0 = never). */
  idleTimeoutMs: number;
  /** A chat connection must register a name within this time (0 = no limit). */
  registerTimeoutMs: number;
}

export interface Config {
  host: string;
  port: number;
  /** Ports of the shared reference servers for the live demos (0 = any free port), from each one's variable. */
  referencePorts: Record<ReferenceServerName, number>;
  siteDir: string;
  exercisesDir: string;
  lessonsDir: string;
  tmpDir: string;
  maxCodeBytes: number;
  limits: RunLimits;
  grade: GradeLimits;
  /** "auto" (strong where possible), "bwrap" (strong or refuse) or "process". */
  isolation: 'auto' | 'bwrap' | 'process';
  /** Refuse to start without strong isolation. */
  requireIsolation: boolean;
  /** Sandboxes kept started and waiting for a program (strong isolation). */
  warmPods: number;
  logRequests: boolean;
  runSlots: SlotLimits;
  rateLimit: RateLimits;
  webSocket: WebSocketLimits;
  reference: ReferenceLimits;
  /** Reverse proxies in front of the server whose X-Forwarded-For is trusted (0 = use the socket address). */
  trustProxyHops: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max: number = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

export const DEFAULT_PORT = 4321;

function isolationFromEnv(raw: string | undefined): Config['isolation'] {
  if (raw === undefined || raw === '' || raw === 'auto') return 'auto';
  if (raw === 'bwrap' || raw === 'process') return raw;
  throw new Error(`SANDBOX_ISOLATION must be auto, bwrap or process, got "${raw}"`);
}

/**
 * Runs and grades spend most of their time waiting on sockets and process start-up, not on the CPU,
 * so two per core keeps the cores busy (measured with `npm run bench`, see the README).
 */
export function defaultRunSlots(): number {
  return os.availableParallelism() * 2;
}

/**
 * Pods kept started: a burst of this many submissions (a class pressing "submit" together) pays no
 * sandbox start-up (~150 ms of CPU each, most of a grading's cost). An idle pod holds ~8 MB; the
 * pool refills one pod at a time on idle CPU (see pod-isolation.ts).
 */
const DEFAULT_WARM_PODS = 20;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const slots = intFromEnv(env, 'RUN_SLOTS', defaultRunSlots(), 1, 1_000);
  const perMin = intFromEnv(env, 'RATE_LIMIT_PER_MIN', 60, 0, 1_000_000);
  const burst = intFromEnv(env, 'RATE_LIMIT_BURST', 10, 1, 1_000_000);
  return {
    host: env.HOST || '127.0.0.1',
    port: intFromEnv(env, 'PORT', DEFAULT_PORT),
    referencePorts: Object.fromEntries(
      REFERENCE_SERVER_NAMES.map((name) => [name, intFromEnv(env, REFERENCE_SERVERS[name].env, REFERENCE_SERVERS[name].defaultPort)]),
    ) as Record<ReferenceServerName, number>,
    siteDir: path.resolve(env.SITE_DIR || path.join(PROJECT_ROOT, 'site/dist')),
    exercisesDir: path.resolve(env.EXERCISES_DIR || path.join(PROJECT_ROOT, 'exercises')),
    lessonsDir: path.join(PROJECT_ROOT, 'lessons'),
    tmpDir: path.resolve(env.SANDBOX_TMP_DIR || path.join(os.tmpdir(), 'socket-mastery')),
    maxCodeBytes: intFromEnv(env, 'MAX_CODE_BYTES', 100_000, 1_000, 10_000_000),
    limits: {
      timeoutMs: intFromEnv(env, 'RUN_TIMEOUT_MS', 5_000, 100, 600_000),
      memoryMb: intFromEnv(env, 'RUN_MEMORY_MB', 256, 64, 16_384),
      outputBytes: intFromEnv(env, 'RUN_OUTPUT_BYTES', 1_000_000, 1_000, 100_000_000),
    },
    grade: { processTimeoutMs: intFromEnv(env, 'GRADE_TIMEOUT_MS', 30_000, 1_000, 600_000) },
    isolation: isolationFromEnv(env.SANDBOX_ISOLATION),
    requireIsolation: env.SANDBOX_REQUIRE_ISOLATION === '1',
    warmPods: intFromEnv(env, 'SANDBOX_WARM_PODS', DEFAULT_WARM_PODS, 0, 256),
    logRequests: env.LOG_REQUESTS !== '0',
    runSlots: {
      slots,
      queue: intFromEnv(env, 'RUN_QUEUE', slots * 4, 0, 100_000),
      queueTimeoutMs: intFromEnv(env, 'RUN_QUEUE_TIMEOUT_MS', 30_000, 100, 600_000),
    },
    rateLimit: {
      perMin,
      burst,
      ipPerMin: intFromEnv(env, 'RATE_LIMIT_IP_PER_MIN', perMin * 4, 0, 1_000_000),
      ipBurst: intFromEnv(env, 'RATE_LIMIT_IP_BURST', burst * 4, 1, 1_000_000),
    },
    webSocket: {
      heartbeatMs: intFromEnv(env, 'WS_HEARTBEAT_MS', 30_000, 50, 3_600_000),
      maxPerIp: intFromEnv(env, 'WS_MAX_PER_IP', 20, 1, 100_000),
    },
    reference: {
      maxConnections: intFromEnv(env, 'REF_MAX_CONNECTIONS', 256, 1, 100_000),
      idleTimeoutMs: intFromEnv(env, 'REF_IDLE_TIMEOUT_MS', 5 * 60_000, 0, 86_400_000),
      registerTimeoutMs: intFromEnv(env, 'REF_REGISTER_TIMEOUT_MS', 30_000, 0, 86_400_000),
    },
    trustProxyHops: intFromEnv(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
  };
}
