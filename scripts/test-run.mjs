#!/usr/bin/env node
// One test run, and what it left behind.
//
//   node scripts/test-run.mjs <command> [args...]     (npm run test:unit, npm run test:browser)
//
// A run has its own directory under the system temp dir; everything the run starts inherits its
// marker (SOCKET_MASTERY_TEST_RUN=<that directory>) and TMPDIR=<that directory>/tmp, so every temp
// dir a test makes lands there. Test helpers note the servers they start in <dir>/servers, whose
// pods' cgroups are named after the server's pid. After the command, what is left is looked up by
// those marks alone (other runs on the same machine are not ours): processes with the marker in
// their environment or their working directory in the run's directory, entries in its tmp, and
// cgroups of its servers. Each one is named, then killed or removed, and the run fails.
// vitest's global set-up (sandbox-server/test/support/global-setup.ts) makes the same check at the
// end of vitest, beginning a run of its own when vitest is started directly.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RUN_ENV = 'SOCKET_MASTERY_TEST_RUN';
const CGROUP_BASE = '/sys/fs/cgroup';
const CGROUP_GROUP = 'socket-mastery';
/** What tools keep in TMPDIR across runs (tsx's compile cache, per uid): not left by a test; removed with the run. */
const TOOL_CACHES = /^tsx-\d+$/;

const RUN_PREFIX = 'sm-test-run-';
/** How long what is left may take to go away by itself before it counts. */
const GRACE_MS = 2000;

function runAt(dir) {
  return { dir, tmp: path.join(dir, 'tmp'), servers: path.join(dir, 'servers'), owner: path.join(dir, 'owner') };
}

/** The run this process belongs to, or undefined when none was begun. */
export function currentRun() {
  const dir = process.env[RUN_ENV];
  return dir ? runAt(dir) : undefined;
}

/**
 * Begins a run: its directory, and its marker and TMPDIR in this process's environment (inherited
 * by all it starts). First it clears away runs whose driver died before it could check them.
 */
export async function beginRun() {
  await sweepDeadRuns();
  const run = runAt(mkdtempSync(path.join(os.tmpdir(), RUN_PREFIX)));
  writeFileSync(run.owner, `${process.pid}\n`);
  // Like /tmp: learner programs run as another user (nobody) and must reach their run directories.
  chmodSync(run.dir, 0o711);
  mkdirSync(run.tmp);
  chmodSync(run.tmp, 0o1777);
  process.env[RUN_ENV] = run.dir;
  process.env.TMPDIR = run.tmp;
  return run;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Removes, with what is left of them, the runs whose driver is gone (killed, say, by a timeout). */
async function sweepDeadRuns(base = os.tmpdir()) {
  for (const name of readdirSync(base).filter((n) => n.startsWith(RUN_PREFIX))) {
    const run = runAt(path.join(base, name));
    const owner = Number(readOr(run.owner, '0'));
    if (!owner || isAlive(owner)) continue; // being set up, or still running
    await removeLeftovers(run, findLeftovers(run, { processes: lineage(), paths: [] }));
    endRun(run);
  }
}

/** Notes a process of the run that may make pods (a server, or a test worker), so that their cgroups can be found once it is gone. */
export function recordServer(pid) {
  const run = currentRun();
  if (run) appendFileSync(run.servers, `${pid}\n`);
}

function readOr(file, fallback) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** `pid` and its ancestors: the processes that began the run carry its marker and are not left over. */
export function lineage(pid = process.pid) {
  const seen = new Set();
  while (pid > 0 && !seen.has(pid)) {
    seen.add(pid);
    pid = Number(/^PPid:\s*(\d+)/m.exec(readOr(`/proc/${pid}/status`, ''))?.[1] ?? 0);
  }
  return seen;
}

/** The live child processes of `parent`. */
export function childProcesses(parent) {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && Number(/^PPid:\s*(\d+)/m.exec(readOr(`/proc/${pid}/status`, ''))?.[1]) === parent)
    .map((pid) => ({ pid, command: readOr(`/proc/${pid}/cmdline`, '').split('\0').join(' ').trim() }));
}

function runProcesses(run, exclude) {
  if (!existsSync('/proc')) return [];
  const marker = `${RUN_ENV}=${run.dir}`;
  const found = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || exclude.has(pid)) continue;
    const environ = readOr(`/proc/${pid}/environ`, '').split('\0');
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // gone meanwhile, or not ours to read
    }
    if (!environ.includes(marker) && !(cwd === run.dir || cwd.startsWith(run.dir + path.sep))) continue;
    if (/^State:\s*Z/m.test(readOr(`/proc/${pid}/status`, ''))) continue; // exited; its parent has yet to reap it
    found.push({ pid, command: readOr(`/proc/${pid}/cmdline`, '').split('\0').join(' ').trim().slice(0, 160) });
  }
  return found;
}

function runCgroups(run) {
  const servers = new Set(readOr(run.servers, '').split('\n').filter(Boolean));
  if (servers.size === 0) return [];
  const found = [];
  for (const controller of ['memory', 'pids', 'cpu']) {
    const group = path.join(CGROUP_BASE, controller, CGROUP_GROUP);
    for (const parent of [group, path.join(group, 'warming')]) {
      let names = [];
      try {
        names = readdirSync(parent);
      } catch {
        continue;
      }
      for (const n of names) if (servers.has(/^(\d+)-pod-/.exec(n)?.[1])) found.push(path.join(parent, n));
    }
  }
  return found;
}

/**
 * What the run left: processes (other than those in `exclude.processes`), entries of its temp dir
 * (other than `exclude.paths`), cgroups of its servers.
 */
export function findLeftovers(run, exclude = { processes: lineage(), paths: [] }) {
  const tempEntries = existsSync(run.tmp) ? readdirSync(run.tmp).filter((n) => !TOOL_CACHES.test(n)).map((n) => path.join(run.tmp, n)) : [];
  return {
    processes: runProcesses(run, exclude.processes),
    tempEntries: tempEntries.filter((e) => !exclude.paths?.includes(e)),
    cgroups: runCgroups(run),
  };
}

export function describeLeftovers(left) {
  return [
    ...left.processes.map((p) => `process ${p.pid} still running: ${p.command}`),
    ...left.tempEntries.map((e) => `temp dir entry not removed: ${e}`),
    ...left.cgroups.map((c) => `cgroup not removed: ${c}`),
  ];
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Kills and removes what `findLeftovers` found, so a failed run leaves nothing either. */
export async function removeLeftovers(run, left) {
  for (const p of left.processes) kill(p.pid, 'SIGKILL');
  for (const dir of left.cgroups) for (const pid of readOr(path.join(dir, 'cgroup.procs'), '').split('\n').filter(Boolean)) kill(Number(pid), 'SIGKILL');
  // A cgroup can be removed once its tasks have exited, which takes the kernel a moment after SIGKILL.
  for (const dir of left.cgroups) {
    for (let attempt = 0; attempt < 50 && existsSync(dir); attempt++) {
      try {
        rmdirSync(dir);
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  for (const entry of left.tempEntries) rmSync(entry, { recursive: true, force: true });
}

/** Removes the run's own directory (call once nothing is left in it). */
export function endRun(run) {
  rmSync(run.dir, { recursive: true, force: true });
}

/**
 * After the run: names what is left (one line each, to `log`), removes it, and returns how many
 * there were. `exclude`: what belongs to the run's driver (by default this process and its ancestors).
 */
export async function checkAndClean(run, log = console.error, exclude = { processes: lineage(), paths: [] }) {
  let left = findLeftovers(run, exclude);
  // A process may be exiting right now (a stopped server's esbuild service sees its pipe close):
  // only what is still there after a grace period is left over.
  for (let waited = 0; waited < GRACE_MS && left.processes.length + left.cgroups.length > 0; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    left = findLeftovers(run, exclude);
  }
  const lines = describeLeftovers(left);
  if (lines.length > 0) {
    log(`The test run left ${lines.length} thing(s) behind (now removed):`);
    for (const line of lines) log(`  ${line}`);
  }
  await removeLeftovers(run, left);
  return lines.length;
}

async function main(argv) {
  if (argv.length === 0) {
    console.error('usage: node scripts/test-run.mjs <command> [args...]');
    process.exit(2);
  }
  const run = await beginRun();
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env: process.env });
  // Ctrl+C reaches the child too (same process group); wait for it, then check. A SIGTERM is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const code = await new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`${argv[0]}: ${err.message}`);
      resolve(127);
    });
    child.once('exit', (status, signal) => resolve(status ?? (signal ? 128 + os.constants.signals[signal] : 1)));
  });
  const left = await checkAndClean(run);
  endRun(run);
  process.exit(code !== 0 ? code : left > 0 ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
