// The set-up step (scripts/setup.mjs) on a machine that lacks the Debian packages, seen without
// changing this machine: it runs with a PATH that has node and apt-get but no bubblewrap or chromium,
// with --dry-run so nothing is installed.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCommand, installedDependenciesProblem } from '../../scripts/setup.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SETUP = path.join(ROOT, 'scripts/setup.mjs');
const dirs: string[] = [];
afterAll(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-setup-'));
  chmodSync(dir, 0o755); // readable by nobody, for the run as another user
  dirs.push(dir);
  return dir;
}

/** A PATH with node and apt-get only: a Debian machine without bubblewrap, redis-server and chromium. */
function barePath(): string {
  const dir = tempDir();
  symlinkSync(process.execPath, path.join(dir, 'node'));
  symlinkSync(findCommand('apt-get') ?? '/usr/bin/apt-get', path.join(dir, 'apt-get'));
  return dir;
}

/** setup.mjs's output, as root when this is root, or (`asOtherUser`) as nobody. */
function runSetup(args: string[], asOtherUser = false): { status: number | null; lines: string[] } {
  const env = { PATH: barePath() };
  const [command, ...rest] = asOtherUser && process.getuid?.() === 0
    ? [findCommand('setpriv') ?? '/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, SETUP, ...args]
    : [process.execPath, SETUP, ...args];
  const r = spawnSync(command, rest, { env, encoding: 'utf8', cwd: ROOT, timeout: 30_000 });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.trim().split('\n') };
}

describe('npm run setup on a machine without the packages', () => {
  it('as root on Debian, installs what is missing (apt-get update once, then install), for the tests too', () => {
    const { status, lines } = runSetup(['--for-tests', '--dry-run']);
    expect(status).toBe(0);
    expect(lines).toContain('setup: bubblewrap: missing — strong isolation of learner code (each program in its own sandbox)');
    expect(lines).toContain('setup: redis-server: missing — the Socket.IO scaling lesson and exercise (each run that needs one gets its own Redis)');
    expect(lines).toContain('setup: chromium: missing — the browser test (npm run test:browser)');
    if (process.getuid?.() === 0) {
      expect(lines.filter((l) => l.startsWith('setup: would run: apt-get'))).toEqual(['setup: would run: apt-get update -qq', 'setup: would run: apt-get install -y -qq bubblewrap redis-server chromium']);
    } else {
      expect(lines).toContain('setup: to install: sudo apt-get install -y bubblewrap redis-server chromium   (or run npm run setup as root)');
    }
  });

  it('as another user, prints the exact command and goes on (the server then starts in process isolation)', () => {
    const { status, lines } = runSetup([], true);
    expect(status).toBe(0);
    expect(lines).toContain('setup: to install: sudo apt-get install -y bubblewrap redis-server   (or run npm run setup as root)');
    expect(lines.some((l) => l.includes('chromium'))).toBe(false); // only what serving needs
    expect(lines).toContain('setup: until that is done the server runs learner code with process-level limits only, and the tests that need strong isolation fail saying what is missing');
    expect(lines.at(-1)).toMatch(/^setup: npm dependencies: /);
  });

  it('needs nothing from npm: it imports only Node built-ins, itself or through plain .mjs files of the repo', () => {
    const outside: string[] = [];
    const read = new Set<string>();
    const follow = (file: string) => {
      if (read.has(file)) return;
      read.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^import .* from '([^']+)';$/gm)) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.') && spec.endsWith('.mjs')) follow(path.resolve(path.dirname(file), spec));
        else outside.push(`${path.relative(ROOT, file)} imports ${spec}`);
      }
    };
    follow(SETUP);
    expect(read.size).toBeGreaterThan(1); // it does share a module with the server (find-command.mjs)
    expect(outside).toEqual([]);
  });
});

describe('whether npm ci is due', () => {
  /** A project folder with this lock, and node_modules as npm last installed it (or none). */
  function project(locked: Record<string, object>, installed?: Record<string, object>): string {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ packages: { '': {}, ...locked } }));
    if (installed) {
      mkdirSync(path.join(dir, 'node_modules'));
      writeFileSync(path.join(dir, 'node_modules/.package-lock.json'), JSON.stringify({ packages: installed }));
    }
    return dir;
  }
  const ws = { 'node_modules/ws': { version: '8.18.0' } };

  it('is due when node_modules is missing, differs from the lock or has more than it', () => {
    expect(installedDependenciesProblem(project(ws))).toBe('node_modules is missing');
    expect(installedDependenciesProblem(project(ws, {}))).toBe('node_modules/ws is not installed');
    expect(installedDependenciesProblem(project(ws, { 'node_modules/ws': { version: '8.17.1' } }))).toBe('node_modules/ws is 8.17.1, the lock says 8.18.0');
    expect(installedDependenciesProblem(project({}, ws))).toBe('node_modules/ws is installed but not in package-lock.json');
  });

  it('is not due when node_modules matches the lock, optional packages for other platforms aside', () => {
    const locked = { ...ws, 'node_modules/@esbuild/darwin-arm64': { version: '0.25.0', optional: true } };
    expect(installedDependenciesProblem(project(locked, ws))).toBeUndefined();
  });
});
