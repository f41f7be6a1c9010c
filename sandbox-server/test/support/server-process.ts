// Starts the real server as its own process (as `npm start` does, on free ports) for black-box tests.
// Every server started here is stopped, also when its test fails or times out before it could stop
// it: the per-file hook (test-file-hooks.ts) stops what is still running after each file, and an
// 'exit' handler kills the rest if the worker goes away first.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { recordServer, RUN_ENV } from '../../../scripts/test-run.mjs';
import { REFERENCE_SERVERS } from '../../src/reference-servers/registry.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  log(): string;
  /** The server's exit code, once it has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Also pass the server an open pipe as descriptor `inheritFd` (as a supervisor might leave one). */
  inheritFd?: number;
}

/** Every variable a learner program may see: HOST, PORT and each reference server's port, sorted. */
export const LEARNER_ENVIRONMENT = ['HOST', 'PORT', ...Object.values(REFERENCE_SERVERS).map((s) => s.env)].sort();

/** Each shared reference server's port variable set to 0: other servers run on this machine too. */
export const EVERY_REFERENCE_SERVER_ON_A_FREE_PORT: Record<string, string> = Object.fromEntries(Object.values(REFERENCE_SERVERS).map((s) => [s.env, '0']));

/** Servers started and not yet stopped. */
const running = new Set<ServerProcess>();

/** Stops every server still running (the per-file hook calls it; a test stops its own). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

// Last resort, when the worker exits with servers still running: synchronous, so SIGKILL to each
// server's process group (it leads its own; its pods die with it through --die-with-parent).
process.once('exit', () => {
  for (const s of running) killGroup(s.child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
}

/** How long a server may take to shut down on SIGTERM before its process group is killed. */
const STOP_GRACE_MS = 15_000;

export async function startServerProcess(env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServerProcess> {
  // The run directory base is ours to remove unless the caller brings its own.
  const ownTmpDir = env.SANDBOX_TMP_DIR === undefined ? mkdtempSync(path.join(os.tmpdir(), 'sm-test-')) : undefined;
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'pipe', 'pipe'];
  if (options.inheritFd !== undefined) {
    while (stdio.length < options.inheritFd) stdio.push('ignore');
    stdio.push('pipe'); // not close-on-exec in the server, like any descriptor a parent passes down
  }
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'sandbox-server/src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PORT: '0',
      ...EVERY_REFERENCE_SERVER_ON_A_FREE_PORT,
      ...inheritedRunEnvironment(),
      ...(ownTmpDir ? { SANDBOX_TMP_DIR: ownTmpDir } : {}),
      // Every test client is 127.0.0.1: one test file's dozens of runs would trip the per-IP rate
      // limit. Tests of the limit set it themselves (load.test.ts).
      RATE_LIMIT_PER_MIN: '0',
      // Test files start many servers at once on a small machine: a burst-sized pool of pods
      // starting in each would only compete with the tests.
      SANDBOX_WARM_PODS: '2',
      ...env,
    },
    stdio,
    // Its own process group, so that a stop can kill the server with everything it started.
    detached: true,
  });
  recordServer(child.pid!);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<number | null> | undefined;
  const server: ServerProcess = {
    url: '',
    child,
    exited,
    log: () => output,
    stop(signal = 'SIGTERM') {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
        const code = await exited;
        clearTimeout(timer);
        killGroup(child, 'SIGKILL'); // anything of its group that outlived it
        if (ownTmpDir) rmSync(ownTmpDir, { recursive: true, force: true });
        running.delete(server);
        return code;
      })();
      return stopping;
    },
  };
  running.add(server);
  try {
    server.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start within 20 s:\n${output}`)), 20_000);
      const look = () => {
        const m = output.match(/listening on (http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout!.on('data', look);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before listening:\n${output}`));
      });
    });
  } catch (err) {
    await server.stop('SIGKILL');
    throw err;
  }
  return server;
}

/** The test run's marker and TMPDIR (scripts/test-run.mjs), passed on so the run can find what the server leaves. */
function inheritedRunEnvironment(): Record<string, string> {
  const pass: Record<string, string> = {};
  for (const name of [RUN_ENV, 'TMPDIR']) if (process.env[name] !== undefined) pass[name] = process.env[name]!;
  return pass;
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}
