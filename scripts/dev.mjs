#!/usr/bin/env node
// `npm run dev`: the authoring loop. Starts, side by side,
//   server  the sandbox server under `tsx watch` (restarts when its code, the grading kit or the
//           reference servers change; grade.test.ts files and exercise folders are re-read without
//           a restart) on SANDBOX_PORT (default 4322), without the rate limit;
//   site    `astro dev` on PORT (default 4321), hot-reloading lessons and exercises, with /api and
//           its WebSocket proxied to the server.
// Their output is prefixed with their names. A new section folder in lessons/ restarts the site
// (its sidebar groups are read at start). Ctrl+C (or SIGTERM) stops both; if one of them exits,
// the other is stopped too.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { readdirSync, watch } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const host = '127.0.0.1';
const sitePort = process.env.PORT || '4321';
const serverPort = process.env.SANDBOX_PORT || '4322';
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);

// Both ports must be free (tsx watch would keep waiting for a file change after a failed start).
for (const [port, variable] of [[sitePort, 'PORT'], [serverPort, 'SANDBOX_PORT']]) {
  const free = await new Promise((resolve) => {
    const probe = net.createServer().once('error', () => resolve(false));
    probe.listen(Number(port), host, () => probe.close(() => resolve(true)));
  });
  if (!free) {
    console.error(`npm run dev: port ${port} on ${host} is in use (another npm run dev or npm start?). Stop it, or choose another port: ${variable}=<port> npm run dev`);
    process.exit(1);
  }
}

// The editor bundle the site loads (skipped when up to date).
const editor = spawnSync(process.execPath, [path.join(root, 'scripts/build-editor.mjs')], { cwd: root, stdio: 'inherit' });
if (editor.status !== 0) process.exit(editor.status ?? 1);

const children = new Map();

function start(name, colorCode, args, env) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = paint(colorCode, `${name.padEnd(6)}│ `);
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (text) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) (stream === child.stderr ? process.stderr : process.stdout).write(`${prefix}${line}\n`);
    });
    stream.on('end', () => rest && process.stdout.write(`${prefix}${rest}\n`));
  }
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    const restart = restarting.get(name);
    if (restart && !stopping) {
      restarting.delete(name);
      restart();
    } else if (!stopping) {
      console.log(`${prefix}exited (${signal ?? `code ${code}`}); stopping the rest`);
      stop(code ?? 1);
    } else if (children.size === 0) process.exit(exitCode);
  });
}

let stopping = false;
let exitCode = 0;
/**
 * Stops both. Ctrl+C has already sent SIGINT to the children (they share the terminal's process
 * group), and a second signal would make tsx kill the server before it cleaned up, so after SIGINT
 * they get 2 s on their own first; then SIGTERM; then, after 5 s more, SIGKILL.
 */
function stop(code, { graceMs = 0 } = {}) {
  exitCode = code;
  if (stopping) return;
  stopping = true;
  if (children.size === 0) process.exit(exitCode);
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGTERM');
    setTimeout(() => {
      for (const child of children.values()) child.kill('SIGKILL');
      process.exit(exitCode || 1);
    }, 5000).unref();
  }, graceMs).unref();
}
process.on('SIGINT', () => stop(0, { graceMs: 2000 }));
process.on('SIGTERM', () => stop(0));

/** Children being restarted on purpose: their exit starts them again instead of stopping all. */
const restarting = new Map();

const tsxCli = require.resolve('tsx/cli');
const astroCli = path.join(path.dirname(require.resolve('astro/package.json')), 'astro.js');

// The server's run directories hold bundled grading files it imports: not a reason to restart.
const runDirs = path.join(process.env.SANDBOX_TMP_DIR || path.join(os.tmpdir(), 'socket-mastery'), '**');
start('server', '36', [tsxCli, 'watch', '--clear-screen=false', '--exclude', runDirs, 'sandbox-server/src/main.ts'], {
  PORT: serverPort,
  HOST: host,
  // one author clicking Check often: no rate limit
  RATE_LIMIT_PER_MIN: '0',
});
const startSite = () =>
  start('site', '35', [astroCli, 'dev', '--root', 'site', '--host', host, '--port', sitePort], {
    SOCKET_MASTERY_API: `http://${host}:${serverPort}`,
  });
startSite();

// The sidebar's groups are the section folders, read when astro starts: a new section folder
// (npm run new:lesson -- 04-websockets/intro) restarts the site so its pages and group appear.
const lessonsDir = path.join(root, 'lessons');
const sections = () => new Set(readdirSync(lessonsDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
let known = sections();
let pending;
watch(lessonsDir, () => {
  clearTimeout(pending);
  pending = setTimeout(() => {
    const now = sections();
    const changed = now.size !== known.size || [...now].some((s) => !known.has(s));
    known = now;
    const site = children.get('site');
    if (!changed || !site || stopping || restarting.has('site')) return;
    console.log(paint('1', 'A section folder was added or removed in lessons/: restarting the site for its sidebar.'));
    restarting.set('site', startSite);
    site.kill('SIGTERM');
  }, 300);
});
console.log(paint('1', `\nAuthoring at http://${host}:${sitePort}/ (lessons and exercises reload as you save; the sandbox server runs on port ${serverPort}). Ctrl+C stops both.\n`));
