// Starts the real server as its own process (as `npm start` does, on free ports) for black-box tests.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';

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

export async function startServerProcess(env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServerProcess> {
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
      ECHO_PORT: '0',
      CHAT_PORT: '0',
      UDP_ECHO_PORT: '0',
      SANDBOX_TMP_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-test-')),
      // Every test client is 127.0.0.1: one test file's dozens of runs would trip the per-IP rate
      // limit. Tests of the limit set it themselves (load.test.ts).
      RATE_LIMIT_PER_MIN: '0',
      // Test files start many servers at once on a small machine: a burst-sized pool of pods
      // starting in each would only compete with the tests.
      SANDBOX_WARM_PODS: '2',
      ...env,
    },
    stdio,
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 20 s:\n${output}`)), 20_000);
    const look = () => {
      const m = output.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', look);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  return {
    url,
    child,
    exited,
    log: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}
