// The only module that reads the server's own environment; everything else gets a Config.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

export interface Config {
  host: string;
  port: number;
  /** Shared reference servers for the live demos (0 = any free port). */
  echoPort: number;
  chatPort: number;
  udpEchoPort: number;
  siteDir: string;
  exercisesDir: string;
  lessonsDir: string;
  tmpDir: string;
  maxCodeBytes: number;
  limits: RunLimits;
  grade: GradeLimits;
  logRequests: boolean;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

export const DEFAULT_PORT = 4321;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    host: env.HOST || '127.0.0.1',
    port: intFromEnv(env, 'PORT', DEFAULT_PORT),
    echoPort: intFromEnv(env, 'ECHO_PORT', 7001),
    chatPort: intFromEnv(env, 'CHAT_PORT', 7002),
    udpEchoPort: intFromEnv(env, 'UDP_ECHO_PORT', 7003),
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
    logRequests: env.LOG_REQUESTS !== '0',
  };
}
