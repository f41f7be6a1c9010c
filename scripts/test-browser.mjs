#!/usr/bin/env node
// End-to-end browser test of the course site against the real sandbox server.
//
//   npm run test:browser        (part of `npm test`; node --import tsx scripts/test-browser.mjs)
//
// 1. builds the site when it is missing or older than its sources (site/, lessons/, exercises/)
// 2. starts `node --import tsx sandbox-server/src/main.ts` with PORT=0 and reads the URL it prints
// 3. drives /usr/bin/chromium (Debian package) with playwright-core through the lesson that embeds
//    <Exercise id="tcp-echo-server" /> (or /test/components/ when no lesson embeds it yet):
//    Monaco is not requested before the editor is scrolled into view; the editor mounts; the model
//    solution passes Check with every test streamed; Run streams output and reports the limit;
//    the code and the solved mark survive a reload; a syntax error is shown as main.ts:LINE:COL text
//    and as an editor marker at that position; axe-core finds no serious/critical violations
//    (before and after the editor mounts); then the browser-side lesson (/04-websockets/browser-client/):
//    its echo page runs in a sandboxed frame against /live/wsEcho and shows the echo in its console and,
//    as text, in its page; Stop removes the frame; an edit runs in a fresh one; the isolation probe
//    shows the frame refused the site's localStorage, cookies and page, and a connection elsewhere; axe;
//    then the traffic view's sequence diagrams (scripts/browser-steps/traffic.mjs);
//    then the live demos (chat terminal, collaborative editor, dashboard: scripts/browser-steps/demos.mjs).
// Prints PASS/FAIL per step and "N passed, N failed"; exits non-zero on any failure. The server
// and the browser are stopped in every case, and `npm run test:browser` runs this inside a test run
// (scripts/test-run.mjs) that fails if either, or a temp dir, is left.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { progressSteps } from './browser-steps/progress.mjs';
import { recordServer } from './test-run.mjs';
import { demoSteps } from './browser-steps/demos.mjs';
import { trafficSteps } from './browser-steps/traffic.mjs';
// TypeScript, so this script runs under tsx (npm run test:browser).
import { REFERENCE_SERVERS } from '../sandbox-server/src/reference-servers/registry.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXERCISE = 'tcp-echo-server';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const STORAGE_PREFIX = 'socket-mastery:';
const t0 = Date.now();

// ---------------------------------------------------------------------------------------------
// reporting
const results = [];
function report(ok, name, detail = '') {
  results.push({ ok, name });
  const secs = ((Date.now() - t0) / 1000).toFixed(1).padStart(5);
  console.log(`${ok ? 'PASS' : 'FAIL'}  [${secs}s] ${name}${detail ? ` — ${detail}` : ''}`);
}
async function step(name, fn) {
  try {
    const detail = await fn();
    report(true, name, typeof detail === 'string' ? detail : '');
    return true;
  } catch (err) {
    report(false, name, (err && err.message ? err.message : String(err)).split('\n').slice(0, 6).join(' | '));
    return false;
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// which page to open
function listFiles(dir, filter) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' || e.name === '.astro' ? [] : listFiles(p, filter);
    return filter(p) ? [p] : [];
  });
}

/** Astro's default slug for a content file: each path segment lowercased and slugified. */
function slugOf(rel) {
  return rel
    .replace(/\.(mdx?|markdown)$/, '')
    .split('/')
    .map((s) =>
      s
        .toLowerCase()
        .trim()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    )
    .join('/')
    .replace(/(^|\/)index$/, '');
}

function findLessonPage(exerciseId = EXERCISE) {
  const lessonsDir = path.join(root, 'lessons');
  const re = new RegExp(`<Exercise\\s[^>]*id=["'{\`]+${exerciseId}["'}\`]`);
  for (const file of listFiles(lessonsDir, (p) => /\.mdx$/.test(p)).sort()) {
    const rel = path.relative(lessonsDir, file).split(path.sep).join('/');
    if (rel.startsWith('samples/')) continue;
    const text = readFileSync(file, 'utf8');
    if (!re.test(text)) continue;
    const fm = /^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? '';
    const slug = /^slug:\s*["']?([^"'\n]+)["']?\s*$/m.exec(fm)?.[1]?.replace(/^\/|\/$/g, '') ?? slugOf(rel);
    return { url: `/${slug}/`, source: `lessons/${rel}` };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// build
function newestMtime(paths) {
  let newest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const files = statSync(p).isDirectory() ? listFiles(p, (f) => !f.includes(`${path.sep}public${path.sep}editor${path.sep}`)) : [p];
    for (const f of files) newest = Math.max(newest, statSync(f).mtimeMs);
  }
  return newest;
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${(r.stdout ?? '').slice(-2000)}${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// server
/** Each shared reference server's port variable set to 0 (from the registry): other servers run on this machine too. */
function anyFreeReferencePorts() {
  return Object.fromEntries(Object.values(REFERENCE_SERVERS).map((s) => [s.env, '0']));
}

function startServer(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox-server/src/main.ts'], {
      cwd: root,
      // Two warm pods: the browser test grades a few programs, one at a time.
      env: { ...process.env, PORT: '0', ...anyFreeReferencePorts(), LOG_REQUESTS: '0', SANDBOX_WARM_PODS: '2', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    recordServer(child.pid); // the test run (scripts/test-run.mjs) then checks its pods' cgroups are gone
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`server printed no http://127.0.0.1:PORT line within 30 s:\n${out.slice(-1500)}`));
    }, 30_000);
    const onData = (d) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${m[1]}`, log: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}):\n${out.slice(-1500)}`));
    });
  });
}

async function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(r, 5000, 'timeout'));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// page helpers
const exerciseSel = `course-exercise[data-id="${EXERCISE}"]`;

async function pasteIntoEditor(page, text, panelSel = exerciseSel) {
  const host = page.locator(`${panelSel} [data-editor]`);
  await host.locator('.view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  // A real paste event: Monaco reads clipboardData and inserts the text verbatim (no auto-close/indent).
  await page.evaluate((t) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', t);
    const target = document.activeElement;
    target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, text);
}

async function storedCode(page) {
  return page.evaluate((k) => localStorage.getItem(k), `${STORAGE_PREFIX}exercise:${EXERCISE}:code`);
}

/** `context`: what axe checks (axe's context: the whole page unless it says include/exclude). */
async function runAxe(page, axeSource, context = null) {
  // Expressive Code makes a code block that overflows focusable (tabindex) from a ResizeObserver,
  // debounced 250 ms then run when idle: let it settle first, or axe races it (scrollable-region-focusable
  // came and went from run to run). A block still unmarked after that is reported as it should be.
  await page
    .waitForFunction(() => [...document.querySelectorAll('.expressive-code pre')].every((pre) => pre.scrollWidth <= pre.clientWidth || pre.hasAttribute('tabindex')), null, { timeout: 3000 })
    .catch(() => {});
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const res = await page.evaluate(async (ctx) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(ctx ?? document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')), why: v.nodes[0]?.any?.[0]?.message ?? v.nodes[0]?.failureSummary ?? '' }));
  }, context);
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = res.filter((v) => !bad.includes(v)).map((v) => `${v.id}(${v.impact})`);
  assert(!bad.length, bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(', ')} (${v.why})`).join('; '));
  return minor.length ? `no serious/critical; minor: ${minor.join(', ')}` : 'no violations';
}

// ---------------------------------------------------------------------------------------------
// browser-side code: the lesson's BrowserPlayground samples run in sandboxed frames against /live/
const BROWSER_LESSON = '/04-websockets/browser-client/';
const echoPageSel = 'course-browser-playground[data-title="echo-page.js"]';
const probeSel = 'course-browser-playground[data-title="isolation-probe.js"]';
/** Errors the browser-playground step throws in its frame on purpose (error messages as Playwright reports them). */
const DELIBERATE_FRAME_ERRORS = new Set(['boom', 'nope']);

/** Clicks Run in a BrowserPlayground and waits until its console shows `pattern`; returns the console text. */
async function runInPage(page, sel, pattern, timeout = 15_000) {
  await page.locator(`${sel} button[data-action="run"]`).click();
  await page.waitForFunction(
    ([s, source]) => new RegExp(source).test(document.querySelector(`${s} [data-output]`)?.textContent ?? ''),
    [sel, pattern.source],
    { timeout },
  ).catch(async (err) => {
    const shown = await page.locator(`${sel} [data-output]`).textContent().catch(() => '');
    throw new Error(`${pattern} not in the console within ${timeout} ms; it shows: ${JSON.stringify(shown)} (${err.message.split('\n')[0]})`);
  });
  return (await page.locator(`${sel} [data-output]`).textContent()) ?? '';
}

async function stopInPage(page, sel) {
  await page.locator(`${sel} button[data-action="stop"]`).click();
  await page.waitForFunction((s) => !document.querySelector(s).hasAttribute('data-busy') && !document.querySelector(`${s} iframe`), sel, { timeout: 5000 });
}

/** A WebSocket exercise end to end: its lesson, its editor, Check with the model solution, every test passing. */
const WS_EXERCISE = 'ws-echo-server';

/** The ws-client lesson's browser page: requests and replies by id against the shared JSON API, shown as text. */
async function browserApiPageSteps(page, base) {
  const sel = 'course-browser-playground[data-title="api-page.js"]';
  const opened = await step('browser sample: the ws-client lesson opens with its API page', async () => {
    const res = await page.goto(`${base}/04-websockets/ws-client/`, { waitUntil: 'load' });
    assert(res && res.ok(), `HTTP ${res?.status()}`);
    await page.locator(sel).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${sel}[data-editor="ready"]`, { timeout: 30_000 });
  });
  if (!opened) return;
  await step('browser sample: the API page matches out-of-order replies by id, renders them as text, closes with 1000', async () => {
    const out = await runInPage(page, sel, /closed with code 1000, reason "done", clean: true/, 20_000);
    const replies = [...out.matchAll(/reply (\d): (\w+)/g)].map((m) => m[2]);
    assert(replies.length === 5, `${replies.length} replies in the console: ${JSON.stringify(out)}`);
    assert(replies[replies.length - 1] === 'slow', `the slow request's reply was not the last one: ${replies.join(', ')}`);
    assert(/upper = "HÉLLO <B>NOT BOLD<\/B> ✓"/.test(out), `no upper-cased reply in ${JSON.stringify(out)}`);
    const frame = page.frameLocator(`${sel} iframe[data-browser-frame]`);
    const bold = await frame.locator('b').count();
    assert(bold === 0, `${bold} <b> element(s) in the page: a reply was parsed as HTML`);
    return `replies in order ${replies.join(', ')}; markup shown as text`;
  });
}

async function webSocketExerciseSteps(page, base) {
  const lesson = findLessonPage(WS_EXERCISE);
  const sel = `course-exercise[data-id="${WS_EXERCISE}"]`;
  const opened = await step(`WebSocket exercise: its lesson opens (${lesson?.url})`, async () => {
    assert(lesson, `no lesson embeds ${WS_EXERCISE}`);
    const res = await page.goto(base + lesson.url, { waitUntil: 'load' });
    assert(res && res.ok(), `HTTP ${res?.status()}`);
    await page.locator(sel).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${sel}[data-editor="ready"]`, { timeout: 30_000 });
  });
  if (!opened) return;
  await step(`WebSocket exercise: Check grades ${WS_EXERCISE}'s solution over real WebSocket connections, every test passing`, async () => {
    const solution = readFileSync(path.join(root, 'exercises', WS_EXERCISE, 'solution.ts'), 'utf8');
    await pasteIntoEditor(page, solution, sel);
    await page.waitForFunction(([k, v]) => localStorage.getItem(k) === v, [`${STORAGE_PREFIX}exercise:${WS_EXERCISE}:code`, solution], { timeout: 5000 });
    await page.locator(`${sel} button[data-action="check"]`).click();
    await page.waitForSelector(`${sel}[data-verdict]`, { timeout: 60_000 });
    const tests = await page.locator(`${sel} [data-tests] li`).evaluateAll((lis) => lis.map((li) => ({ status: li.dataset.status, name: li.querySelector('.test-name')?.textContent })));
    assert(tests.length >= 5, `only ${tests.length} test results shown`);
    const failed = tests.filter((t) => t.status !== 'pass');
    assert(!failed.length, `not passing: ${failed.map((t) => `${t.name}=${t.status}`).join(', ')}`);
    const verdict = await page.locator(sel).getAttribute('data-verdict');
    assert(verdict === 'pass', `verdict ${verdict}`);
    return `${tests.length} tests passed`;
  });
}

async function browserSampleSteps(page, base, axeSource) {
  const opened = await step(`browser lesson opens (${BROWSER_LESSON})`, async () => {
    const res = await page.goto(base + BROWSER_LESSON, { waitUntil: 'load' });
    assert(res && res.ok(), `HTTP ${res?.status()}`);
    const count = await page.locator('[data-browser-playground]').count();
    assert(count >= 2, `${count} browser playgrounds on the page, expected the echo page and the isolation probe`);
    return `${count} browser playgrounds`;
  });
  if (!opened) return;

  await step('browser sample: the echo page runs in a sandboxed frame; the echo shows in its console and, as text, in its page', async () => {
    const sent = 'Hello <img src=x onerror=alert(1)> & welcome';
    const out = await runInPage(page, echoPageSel, /echo: Hello <img src=x onerror=alert\(1\)> & welcome/);
    assert(/connected to ws:\/\/127\.0\.0\.1:\d+\/live\/wsEcho/.test(out), `no "connected to ws://…/live/wsEcho" in ${JSON.stringify(out)}`);
    const frame = page.locator(`${echoPageSel} iframe[data-browser-frame]`);
    const sandbox = await frame.getAttribute('sandbox');
    assert(sandbox === 'allow-scripts', `the frame's sandbox is "${sandbox}", not "allow-scripts"`);
    const inFrame = page.frameLocator(`${echoPageSel} iframe[data-browser-frame]`);
    const item = await inFrame.locator('li').first().textContent({ timeout: 5000 });
    assert(item === sent, `the page's list shows ${JSON.stringify(item)}, not the message sent`);
    const images = await inFrame.locator('img').count();
    assert(images === 0, `${images} <img> element(s) in the frame: the message was parsed as HTML`);
    return 'echo in the console and as text in the frame\'s list';
  });

  await step('axe: no serious/critical violations (browser lesson, frame and console shown)', () => runAxe(page, axeSource));

  await step('browser sample: Stop removes the frame; an edited page runs in a new one', async () => {
    await stopInPage(page, echoPageSel);
    const status = (await page.locator(`${echoPageSel} [data-status]`).textContent()) ?? '';
    assert(/^Stopped on request after [\d.]+ s\.$/.test(status), `status after Stop: ${JSON.stringify(status)}`);
    await page.locator(echoPageSel).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${echoPageSel}[data-editor="ready"]`, { timeout: 30_000 });
    const edited = readFileSync(path.join(root, 'lessons/samples/04-websockets/browser-echo-page.js'), 'utf8').replace(
      /input\.value = '[^']*';/,
      "input.value = 'edited in the editor';",
    );
    assert(edited.includes('edited in the editor'), 'could not edit the sample (its first message line changed?)');
    await pasteIntoEditor(page, edited, echoPageSel);
    const out = await runInPage(page, echoPageSel, /echo: edited in the editor/);
    assert(!out.includes('Hello <img'), 'the console still shows the previous run');
    await stopInPage(page, echoPageSel);
    return 'edited code echoed in a fresh frame';
  });

  await step('browser playground: warnings, uncaught errors (with their line) and unhandled rejections are shown', async () => {
    const code = ["console.warn('careful', { n: 1 });", "Promise.reject(new RangeError('nope'));", "setTimeout(() => { throw new Error('boom'); });", ''].join('\n');
    await pasteIntoEditor(page, code, echoPageSel);
    await runInPage(page, echoPageSel, /Uncaught Error: boom \(line 3\)/);
    const spans = await page.locator(`${echoPageSel} [data-output] span`).evaluateAll((els) => els.map((e) => ({ cls: e.className, text: e.textContent })));
    await stopInPage(page, echoPageSel);
    const find = (re) => spans.find((sp) => re.test(sp.text));
    const warn = find(/^careful \{ n: 1 \}\n$/);
    const rejection = find(/^Unhandled promise rejection: RangeError: nope\n$/);
    const uncaught = find(/^Uncaught Error: boom \(line 3\)\n$/);
    assert(warn?.cls === 'out-stderr', `console.warn line: ${JSON.stringify(warn)} in ${JSON.stringify(spans)}`);
    assert(rejection?.cls === 'out-error', `rejection line: ${JSON.stringify(rejection)} in ${JSON.stringify(spans)}`);
    assert(uncaught?.cls === 'out-error', `uncaught error line: ${JSON.stringify(uncaught)}`);
    return 'warn as stderr; rejection and uncaught error as errors';
  });

  await step("browser sample: the frame cannot read the site's localStorage or cookies, reach the page, or connect elsewhere", async () => {
    const secret = `secret-${Date.now()}`;
    await page.evaluate((v) => {
      localStorage.setItem('socket-mastery:anything', v);
      document.cookie = `probe=${v}; path=/`;
    }, secret);
    // the three reads print at once; the blocked connection is reported a moment later
    const text = await runInPage(page, probeSel, /the page around this frame:[\s\S]*Blocked: ws:\/\/127\.0\.0\.1:9/);
    await stopInPage(page, probeSel);
    await page.evaluate(() => {
      localStorage.removeItem('socket-mastery:anything');
      document.cookie = 'probe=; path=/; max-age=0';
    });
    assert(!text.includes(secret), `the frame read the secret: ${JSON.stringify(text)}`);
    for (const what of ['localStorage', 'document.cookie', 'the page around this frame']) {
      const line = text.split('\n').find((l) => l.startsWith(`${what}:`)) ?? '';
      assert(/refused \((SecurityError|DOMException)/.test(line), `${what}: ${JSON.stringify(line || '(no line)')} is not a refusal`);
    }
    assert(/Blocked: ws:\/\/127\.0\.0\.1:9\/? \(connect-src\)/.test(text), `no CSP block of ws://127.0.0.1:9 shown: ${JSON.stringify(text)}`);
    return text.split('\n').filter((l) => /refused|Blocked/.test(l)).map((l) => l.slice(0, 60)).join(' | ');
  });
}

// ---------------------------------------------------------------------------------------------
async function main() {
  let server = null;
  let browser = null;
  let tmpDist = null;
  let sandboxTmp = null;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    browser = null;
    await stopServer(server?.child).catch(() => {});
    server = null;
    if (sandboxTmp) await rm(sandboxTmp, { recursive: true, force: true }).catch(() => {});
    sandboxTmp = null;
  };
  const onSignal = (sig) => {
    console.log(`\n${sig}: stopping`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Last resort when this script dies before its cleanup (an uncaught error, a closed stdout):
  // synchronous, so SIGKILL; the browser is playwright's child and goes with its pipe.
  process.once('exit', () => server?.child.kill('SIGKILL'));

  try {
    if (!existsSync(CHROMIUM)) {
      // One line, like the vitest tests' missing prerequisites (sandbox-server/test/support/prerequisites.ts).
      report(false, 'chromium is installed', `${CHROMIUM} not found: run \`npm test\` as root (its set-up installs it), or \`apt-get install -y chromium\``);
      return;
    }
    const solution = readFileSync(path.join(root, 'exercises', EXERCISE, 'solution.ts'), 'utf8');
    const axeSource = readFileSync(path.join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

    // --- build ------------------------------------------------------------------------------
    let lesson = findLessonPage();
    let siteDir = path.join(root, 'site/dist');
    const built = await step('site is built and up to date', async () => {
      run(process.execPath, ['scripts/build-editor.mjs']);
      if (!lesson) {
        // no lesson embeds the exercise yet: build the site with the component test page, aside
        // (--outDir is relative to site/; site/.astro/ is gitignored)
        tmpDist = path.join(root, 'site/.astro/test-dist');
        run(process.execPath, [path.join(root, 'node_modules/astro/astro.js'), 'build', '--root', 'site', '--outDir', '.astro/test-dist'], {
          SOCKET_MASTERY_TEST_PAGES: '1',
        });
        siteDir = tmpDist;
        lesson = { url: '/test/components/', source: 'site/src/routes/test-components.astro (no lesson embeds the exercise yet)' };
        return `built with the test page into ${tmpDist}`;
      }
      const sources = newestMtime([
        path.join(root, 'site/src'),
        path.join(root, 'site/astro.config.mjs'),
        path.join(root, 'site/public'),
        path.join(root, 'site/public/editor/stamp.json'),
        path.join(root, 'lessons'),
        path.join(root, 'exercises'),
      ]);
      const distIndex = path.join(siteDir, 'index.html');
      const distTime = existsSync(distIndex) ? statSync(distIndex).mtimeMs : 0;
      if (distTime && distTime >= sources && existsSync(path.join(siteDir, 'editor/monaco.js'))) return 'site/dist is newer than its sources';
      const t = Date.now();
      run('npm', ['run', '--silent', 'build:site']);
      return `built site/dist in ${((Date.now() - t) / 1000).toFixed(1)} s`;
    });
    if (!built) return;
    console.log(`      page under test: ${lesson.url} (from ${lesson.source})`);

    // --- server & browser -----------------------------------------------------------------------
    const started = await step('sandbox server starts', async () => {
      // own scratch folder: servers of other test runs on this machine clean up the shared default
      sandboxTmp = await mkdtemp(path.join(os.tmpdir(), 'socket-mastery-browser-test-'));
      server = await startServer({ SANDBOX_TMP_DIR: sandboxTmp, ...(tmpDist ? { SITE_DIR: tmpDist } : {}) });
      return server.base;
    });
    if (!started) return;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const editorRequests = [];
    const assetBytes = { js: 0, css: 0 };
    let mounted = false;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/editor/')) editorRequests.push({ url: r.url(), mounted });
    });
    page.on('response', async (r) => {
      if (mounted) return;
      const type = r.request().resourceType();
      if (type !== 'script' && type !== 'stylesheet') return;
      const body = await r.body().catch(() => null);
      if (body) assetBytes[type === 'script' ? 'js' : 'css'] += body.length;
    });

    const opened = await step(`lesson page opens (${lesson.url})`, async () => {
      const res = await page.goto(server.base + lesson.url, { waitUntil: 'load' });
      assert(res && res.ok(), `HTTP ${res?.status()}`);
      await page.locator(exerciseSel).waitFor({ state: 'attached', timeout: 10_000 });
      return await page.title();
    });
    if (!opened) return;

    await step('no Monaco request before the editor is scrolled into view', async () => {
      await page.waitForTimeout(800); // idle time in which a non-lazy loader would fire
      const inView = await page.locator(`${exerciseSel} [data-static]`).evaluate((el) => el.getBoundingClientRect().top < innerHeight);
      assert(!inView, 'the exercise is visible at load; cannot test laziness on this page');
      const early = editorRequests.filter((r) => !r.mounted);
      assert(early.length === 0, `requested before scrolling: ${early.map((r) => r.url).join(', ')}`);
      const hoisted = await page.evaluate(() =>
        [...document.querySelectorAll('link[rel=stylesheet], style')].filter((l) => /monaco/i.test(l.getAttribute('href') ?? '') || /\.monaco-editor/.test(l.textContent ?? '')).length,
      );
      assert(hoisted === 0, `${hoisted} Monaco stylesheet(s) in the page before mount`);
      return `page JS ${(assetBytes.js / 1024).toFixed(1)} KiB, CSS ${(assetBytes.css / 1024).toFixed(1)} KiB before mount (uncompressed)`;
    });

    await step('axe: no serious/critical violations (static code, before mount)', () => runAxe(page, axeSource));

    const ready = await step('editor mounts when scrolled into view', async () => {
      mounted = true;
      const t = Date.now();
      await page.locator(exerciseSel).scrollIntoViewIfNeeded();
      await page.waitForSelector(`${exerciseSel}[data-editor="ready"]`, { timeout: 30_000 });
      await page.locator(`${exerciseSel} [data-editor] .view-lines`).waitFor({ timeout: 10_000 });
      assert(editorRequests.length > 0, 'no request under /editor/');
      return `${Date.now() - t} ms, ${editorRequests.length} requests under /editor/`;
    });
    if (!ready) return;

    const pasted = await step('model solution replaces the code in the editor', async () => {
      await pasteIntoEditor(page, solution);
      await page.waitForFunction(
        ([k, v]) => localStorage.getItem(k) === v,
        [`${STORAGE_PREFIX}exercise:${EXERCISE}:code`, solution],
        { timeout: 5000 },
      );
    });

    if (pasted) {
      await step('Check: every test passes, streamed, verdict "pass"', async () => {
        await page.evaluate((sel) => {
          const el = document.querySelector(sel);
          window.__testTimes = [];
          new MutationObserver(() => {
            window.__testTimes.push({ tests: el.querySelectorAll('[data-tests] li').length, verdict: el.dataset.verdict ?? null, t: performance.now() });
          }).observe(el, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-verdict'] });
        }, exerciseSel);
        await page.locator(`${exerciseSel} button[data-action="check"]`).click();
        await page.waitForSelector(`${exerciseSel}[data-verdict]`, { timeout: 45_000 });
        const tests = await page.locator(`${exerciseSel} [data-tests] li`).evaluateAll((lis) =>
          lis.map((li) => ({ status: li.dataset.status, name: li.querySelector('.test-name')?.textContent, badge: li.querySelector('.badge')?.textContent?.trim() })),
        );
        const verdict = await page.locator(exerciseSel).getAttribute('data-verdict');
        const verdictText = await page.locator(`${exerciseSel} [data-verdict]`).textContent();
        assert(tests.length > 0, 'no test results rendered');
        const failed = tests.filter((t) => t.status !== 'pass');
        assert(!failed.length, `not passing: ${failed.map((t) => `${t.name}=${t.status}`).join(', ')}`);
        assert(tests.every((t) => /passed/i.test(t.badge ?? '')), 'a badge has no text label');
        assert(verdict === 'pass', `verdict ${verdict}: ${verdictText}`);
        // Streamed: results were in the page, one by one, before the verdict (a verdict that brings
        // all results at once renders them in the same task as the verdict: no such moment).
        const times = await page.evaluate(() => window.__testTimes);
        const beforeVerdict = times.filter((x) => x.tests > 0 && !x.verdict);
        assert(beforeVerdict.length > 0, `no test result was shown before the verdict (observed: ${JSON.stringify(times.map((x) => [x.tests, x.verdict]))})`);
        const verdictAt = times.find((x) => x.verdict);
        return `${tests.length} tests passed, ${new Set(beforeVerdict.map((x) => x.tests)).size} result counts shown before the verdict, the first ${Math.round(verdictAt.t - beforeVerdict[0].t)} ms before it`;
      });

      await step('Run streams output and reports the limit', async () => {
        await page.locator(`${exerciseSel} button[data-action="run"]`).click();
        // Read in one go in the page: whether the run was still going when its output first showed.
        const firstOutput = await page.waitForFunction(
          (sel) => {
            const el = document.querySelector(sel);
            const text = el.querySelector('[data-output]')?.textContent ?? '';
            return /listening/.test(text) ? { busy: el.hasAttribute('data-busy') } : null;
          },
          exerciseSel,
          { timeout: 15_000 },
        );
        assert((await firstOutput.jsonValue()).busy, 'the output appeared only after the run had ended (not streamed)');
        await page.waitForFunction((sel) => !document.querySelector(sel).hasAttribute('data-busy'), exerciseSel, { timeout: 30_000 });
        const out = (await page.locator(`${exerciseSel} [data-output]`).textContent()) ?? '';
        const last = out.trim().split('\n').pop() ?? '';
        // The solution is a server: it runs until the time limit stops it (not an exit of its own).
        assert(/^⏹ Stopped: stopped after .+ \(time limit\)$/.test(last), `the run did not end with the time limit: "${last}"`);
        return `output arrived while running; ends with "${last}"`;
      });
    }

    await step('reload: code kept and exercise marked solved', async () => {
      await page.reload({ waitUntil: 'load' });
      const badge = page.locator(`[data-solved-badge="${EXERCISE}"]`);
      await badge.waitFor({ state: 'visible', timeout: 5000 });
      assert(await page.locator(exerciseSel).evaluate((el) => el.hasAttribute('data-solved')), 'panel not marked solved');
      await page.locator(exerciseSel).scrollIntoViewIfNeeded();
      await page.waitForSelector(`${exerciseSel}[data-editor="ready"]`, { timeout: 30_000 });
      assert((await storedCode(page)) === solution, 'stored code differs from the solution');
      const firstLine = solution.split('\n').find((l) => l.includes('createServer')).trim();
      await page.waitForFunction(
        ([sel, line]) => (document.querySelector(`${sel} [data-editor] .view-lines`)?.textContent ?? '').replace(/\u00a0/g, ' ').includes(line),
        [exerciseSel, firstLine],
        { timeout: 5000 },
      );
      return 'solution shown in the editor, "✓ Solved" visible';
    });

    await step('axe: no serious/critical violations (editor mounted, results shown, light)', () => runAxe(page, axeSource));
    await step('axe: no serious/critical violations (editor mounted, results shown, dark)', async () => {
      await page.evaluate(() => {
        document.documentElement.dataset.theme = 'dark'; // what Starlight's theme picker does
      });
      await page.waitForTimeout(300);
      return runAxe(page, axeSource);
    });

    await step('compile error shown as main.ts:LINE:COL and as an editor marker', async () => {
      const lines = solution.split('\n');
      const at = lines.findIndex((l) => l.includes('createServer'));
      lines.splice(at + 1, 0, '  const = 42;');
      const broken = lines.join('\n');
      await pasteIntoEditor(page, broken);
      await page.waitForFunction(([k, v]) => localStorage.getItem(k) === v, [`${STORAGE_PREFIX}exercise:${EXERCISE}:code`, broken], { timeout: 5000 });
      await page.locator(`${exerciseSel} button[data-action="check"]`).click();
      const box = page.locator(`${exerciseSel} [data-compile-error]`);
      await box.waitFor({ state: 'visible', timeout: 20_000 });
      const text = (await box.textContent()) ?? '';
      const m = /main\.ts:(\d+):(\d+)/.exec(text);
      assert(m, `no main.ts:LINE:COL in "${text}"`);
      const line = Number(m[1]);
      assert(line === at + 2, `error reported at line ${line}, expected ${at + 2}`);
      const markerAttr = await page.locator(exerciseSel).getAttribute('data-marker');
      assert(markerAttr === `${m[1]}:${m[2]}`, `data-marker ${markerAttr} vs ${m[1]}:${m[2]}`);
      const markers = await page.locator(exerciseSel).evaluate((el) => el.markers());
      const sandboxMarker = markers.find((mk) => mk.owner === 'sandbox');
      assert(sandboxMarker, `no sandbox marker in the editor (markers: ${JSON.stringify(markers)})`);
      assert(sandboxMarker.line === line && sandboxMarker.column === Number(m[2]), `marker at ${sandboxMarker.line}:${sandboxMarker.column}`);
      await page.locator(`${exerciseSel} [data-editor] .squiggly-error`).first().waitFor({ timeout: 5000 });
      await page.waitForSelector(`${exerciseSel}:not([data-busy])`, { timeout: 20_000 });
      return `${m[0]} in text, marker at ${sandboxMarker.line}:${sandboxMarker.column}`;
    });

    await step('course overview lists the exercise as solved', async () => {
      const res = await page.goto(`${server.base}/overview/`, { waitUntil: 'load' });
      assert(res && res.ok(), `HTTP ${res?.status()}`);
      const mark = page.locator(`[data-mark="${EXERCISE}"]`);
      await page.waitForFunction((id) => document.querySelector(`[data-mark="${id}"]`)?.dataset.solved === 'true', EXERCISE, { timeout: 5000 });
      const rows = await page.locator('tr[data-exercise]').count();
      return `"${(await mark.textContent())?.trim()}", ${rows} exercises listed`;
    });

    await browserSampleSteps(page, server.base, axeSource);
    await browserApiPageSteps(page, server.base);
    await webSocketExerciseSteps(page, server.base);
    await trafficSteps({ page, base: server.base, root, step, assert, axe: () => runAxe(page, axeSource), pasteIntoEditor });
    await progressSteps({ browser, base: server.base, root, lessonUrl: lesson.url, exerciseId: EXERCISE, solution, step, assert, runAxe, axeSource, pasteIntoEditor });
    await demoSteps({ browser, base: server.base, step, assert, runAxe: (p, context) => runAxe(p, axeSource, context) });

    await step('no uncaught errors in the page', async () => {
      // (Playwright reports the learner frames' errors here too: the ones a step raised on purpose are not the site's)
      const unexpected = pageErrors.filter((m) => !DELIBERATE_FRAME_ERRORS.has(m));
      assert(!unexpected.length, unexpected.join(' | '));
    });
  } catch (err) {
    report(false, 'unexpected error', err?.stack ?? String(err));
  } finally {
    await cleanup();
  }
}

await main();
const failed = results.filter((r) => !r.ok).length;
console.log(`\nbrowser test took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`browser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
