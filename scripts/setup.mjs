#!/usr/bin/env node
// `npm run setup`: everything the product needs on this machine, installed or named.
//
//   node scripts/setup.mjs              what serving needs (npm run setup)
//   node scripts/setup.mjs --for-tests  that, plus what the tests need (the start of npm test)
//   add --dry-run to see the commands it would run, without running them
//
// 1. The Debian packages listed in scripts/system-packages.json (product; and tests with
//    --for-tests): as root on a Debian/apt host the missing ones are installed (`apt-get update`
//    once, then `apt-get install -y`); otherwise the exact command to run is printed and set-up goes
//    on, so the server still starts (in process isolation, with its warning) and the tests that
//    need a package fail saying which.
// 2. That bubblewrap can create the namespaces a pod needs, as the user pods run as, and the cgroups
//    the server manages; when not, what to set.
// 3. `npm ci` when node_modules is missing or differs from package-lock.json.
// Plain Node with no npm dependency: it runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCommand } from '../sandbox-server/src/find-command.mjs';

export { findCommand };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NOBODY = 65534;
const CGROUP_GROUP = 'socket-mastery';

/** The packages wanted in this mode, from the one list (scripts/system-packages.json). */
export function wantedPackages(forTests) {
  const list = JSON.parse(readFileSync(path.join(root, 'scripts/system-packages.json'), 'utf8'));
  return forTests ? [...list.product, ...list.tests] : list.product;
}


function say(line) {
  console.log(`setup: ${line}`);
}

const dryRun = process.argv.includes('--dry-run');

/** Runs a command for all to see (with --dry-run: only shows it, and it counts as failed). */
function run(command, args, options = {}) {
  if (dryRun) {
    say(`would run: ${[command, ...args].join(' ')}`);
    return false;
  }
  say(`$ ${[command, ...args].join(' ')}`);
  return spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options }).status === 0;
}

/** Installs the missing packages where it can, else prints the command; true when all are present afterwards. */
function ensurePackages(wanted) {
  const missing = wanted.filter((p) => !findCommand(p.command));
  for (const p of wanted) if (!missing.includes(p)) say(`${p.package}: installed — ${p.for}`);
  if (missing.length === 0) return true;
  const names = missing.map((p) => p.package);
  for (const p of missing) say(`${p.package}: missing — ${p.for}`);
  const isRoot = process.getuid?.() === 0;
  const hasApt = Boolean(findCommand('apt-get'));
  if (isRoot && hasApt) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (dryRun) {
      run('apt-get', ['update', '-qq']);
      run('apt-get', ['install', '-y', '-qq', ...names]);
      return false;
    }
    if (run('apt-get', ['update', '-qq'], { env }) && run('apt-get', ['install', '-y', '-qq', ...names], { env })) {
      const still = missing.filter((p) => !findCommand(p.command));
      if (still.length === 0) return true;
      say(`installed, but still not on PATH: ${still.map((p) => p.command).join(', ')}`);
    }
    say(`could not install ${names.join(' ')}; see apt-get's output above`);
    return false;
  }
  const command = `apt-get install -y ${names.join(' ')}`;
  if (hasApt) say(`to install: sudo ${command}   (or run npm run setup as root)`);
  else say(`install ${names.join(', ')} with this system's package manager (on Debian: ${command})`);
  return false;
}

function readSysctl(name) {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The sysctl that stops unprivileged user namespaces on this kernel, as the command that allows them. */
function userNamespaceFix() {
  if (readSysctl('kernel.unprivileged_userns_clone') === '0') return 'sysctl -w kernel.unprivileged_userns_clone=1';
  if (readSysctl('user.max_user_namespaces') === '0') return 'sysctl -w user.max_user_namespaces=15000';
  if (readSysctl('kernel.apparmor_restrict_unprivileged_userns') === '1') return 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0';
  return undefined;
}

/**
 * Why bubblewrap cannot make a pod's namespaces as the user pods run as (nobody, when the server is
 * root), with the setting that fixes it when known; undefined when it can. `bwrap`: the command to
 * probe (tests pass another to see the failure without uninstalling).
 */
export function namespaceProblem(bwrap = 'bwrap') {
  const trueCommand = findCommand('true', `${process.env.PATH ?? ''}:/usr/bin:/bin`) ?? 'true';
  const probe = [bwrap, '--unshare-all', '--ro-bind', '/', '/', trueCommand];
  const asUser = process.getuid?.() === 0 && findCommand('setpriv') ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...probe] : probe;
  const result = spawnSync(asUser[0], asUser.slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (result.status === 0) return undefined;
  const why = (result.stderr || result.error?.message || `exit ${result.status}`).trim().split('\n')[0];
  return { why, fix: userNamespaceFix() };
}

/** Why the server cannot manage its cgroup v1 groups (under `base`), with the command that fixes it; undefined when it can. */
export function cgroupProblem(base = '/sys/fs/cgroup') {
  const dirs = ['memory', 'pids'].map((c) => path.join(base, c, CGROUP_GROUP));
  const noController = dirs.map(path.dirname).filter((d) => !existsSync(d));
  if (noController.length > 0) {
    return { why: `no cgroup v1 controller at ${noController.join(', ')} (cgroup v2-only hosts are not supported yet)`, fix: undefined };
  }
  if (process.getuid?.() === 0) return undefined; // a root server creates its groups
  const unusable = dirs.filter((d) => {
    try {
      accessSync(path.join(d, 'cgroup.procs'), constants.W_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (unusable.length === 0) return undefined;
  const user = process.env.USER || String(process.getuid?.());
  return { why: `this user cannot manage ${unusable.join(', ')}`, fix: `mkdir -p ${unusable.join(' ')} && chown -R ${user} ${unusable.join(' ')}` };
}

/** Why node_modules does not match package-lock.json, or undefined when it does. */
export function installedDependenciesProblem(dir = root) {
  const installedPath = path.join(dir, 'node_modules/.package-lock.json');
  if (!existsSync(installedPath)) return 'node_modules is missing';
  const locked = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')).packages ?? {};
  const installed = JSON.parse(readFileSync(installedPath, 'utf8')).packages ?? {};
  for (const [name, entry] of Object.entries(locked)) {
    if (name === '') continue;
    // Optional packages for other platforms are locked but never installed.
    if (!installed[name]) {
      if (!entry.optional) return `${name} is not installed`;
    } else if (installed[name].version !== entry.version) return `${name} is ${installed[name].version}, the lock says ${entry.version}`;
  }
  for (const name of Object.keys(installed)) if (!locked[name]) return `${name} is installed but not in package-lock.json`;
  return undefined;
}

function main() {
  const forTests = process.argv.includes('--for-tests');
  let strong = ensurePackages(wantedPackages(forTests));
  if (findCommand('bwrap')) {
    const namespaces = namespaceProblem();
    if (namespaces) {
      say(`bubblewrap cannot create namespaces here: ${namespaces.why}`);
      say(namespaces.fix ? `allow unprivileged user namespaces (as root): ${namespaces.fix}` : 'the kernel must allow unprivileged user namespaces (see README, "Security model")');
      strong = false;
    } else say('bubblewrap can create unprivileged user namespaces');
  }
  const cgroups = cgroupProblem();
  if (cgroups) {
    say(`cgroups: ${cgroups.why}${cgroups.fix ? `; as root once: ${cgroups.fix}` : ''}`);
    strong = false;
  }
  if (!strong) say('until that is done the server runs learner code with process-level limits only, and the tests that need strong isolation fail saying what is missing');

  const problem = installedDependenciesProblem();
  if (problem) {
    say(`npm dependencies: ${problem}`);
    if (!run('npm', ['ci', '--no-audit', '--no-fund']) && !dryRun) {
      say('npm ci failed; see its output above');
      process.exit(1);
    }
  } else say('npm dependencies: as in package-lock.json');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
