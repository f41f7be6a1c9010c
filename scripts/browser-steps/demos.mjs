// Browser steps for the live demos (issue 11), called by scripts/test-browser.mjs with its browser,
// the running server and its step/assert/axe helpers:
// - the chat terminal (/03-tcp-sockets/chat-client/): xterm.js is not loaded before the widget is
//   near the viewport; a line typed in the terminal (with Backspace used) reaches the shared chat,
//   where a TCP client of this test, connected to the chat's own port, reads it; what that client
//   sends (markup, escape sequences) shows in the terminal as text; Disconnect leaves the chat;
// - the collaborative editor (/04-websockets/collaborative-editor/): two browser contexts join one
//   document; an edit in each appears in the other, and each sees the other's name (as text, even
//   one made of markup) and cursor;
// - the dashboard (/04-websockets/dashboard/): points keep coming and the chart's canvas changes;
//   Pause, and a hidden page, stop them (unsubscribe) until Resume, or the page is shown again;
// - axe finds no serious or critical violation on the three pages, light and dark.
import net from 'node:net';

const CHAT_LESSON = '/03-tcp-sockets/chat-client/';
const COLLAB_LESSON = '/04-websockets/collaborative-editor/';
const DASHBOARD_LESSON = '/04-websockets/dashboard/';
const chatSel = '[data-demo="chat-terminal"]';
const collabSel = '[data-demo="collab-editor"]';
const dashSel = '[data-demo="dashboard"]';

/** A TCP client of the shared chat, as a learner's program would be: its lines, and a wait for one. */
async function chatClient(port, name) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  const lines = [];
  let pending = '';
  const waiters = [];
  socket.on('data', (text) => {
    pending += text;
    const parts = pending.split('\n');
    pending = parts.pop();
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (line, timeout = 10_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the chat client never got ${typeof line === 'string' ? JSON.stringify(line) : line}; it got ${JSON.stringify(lines.slice(-8))}`)), timeout);
      // an exact line, or a RegExp; resolves with the line
      const check = () => {
        const found = typeof line === 'string' ? lines.find((l) => l === line) : lines.find((l) => line.test(l));
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else waiters.push(check);
      };
      check();
    });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`${name}\n`);
  await waitFor(`Welcome, ${name}!`);
  return { socket, lines, waitFor, close: () => socket.destroy() };
}

/** The text the terminal shows (xterm's DOM renderer: one element per row). */
function terminalText(page) {
  return page.locator(`${chatSel} .xterm-rows`).evaluate((rows) => [...rows.children].map((r) => r.textContent.replace(/\u00a0/g, ' ').trimEnd()).join('\n'));
}

async function waitForTerminal(page, pattern, timeout = 10_000) {
  await page
    .waitForFunction(
      ([sel, source]) => new RegExp(source).test([...(document.querySelector(`${sel} .xterm-rows`)?.children ?? [])].map((r) => r.textContent.replace(/\u00a0/g, ' ')).join('\n')),
      [chatSel, pattern.source],
      { timeout },
    )
    .catch(async () => {
      throw new Error(`${pattern} not in the terminal within ${timeout} ms; it shows: ${JSON.stringify(await terminalText(page).catch(() => ''))}`);
    });
}

async function bothThemes(page, runAxe, label, step, context = null) {
  const note = context ? ` (left out: ${context.exclude.join(', ')})` : '';
  for (const theme of ['light', 'dark']) {
    await step(`axe: no serious/critical violations (${label}, ${theme})`, async () => {
      await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
      await page.waitForTimeout(200);
      return (await runAxe(page, context)) + note;
    });
  }
}

async function chatTerminalSteps({ browser, base, chatPort, step, assert, runAxe, pageErrors }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`chat terminal: ${e.message}`));
  const requested = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  let observer;
  try {
    const opened = await step(`chat terminal: the chat client lesson opens (${CHAT_LESSON}) without loading xterm.js`, async () => {
      const res = await page.goto(base + CHAT_LESSON, { waitUntil: 'load' });
      assert(res && res.ok(), `HTTP ${res?.status()}`);
      await page.locator(chatSel).waitFor({ state: 'attached', timeout: 5000 });
      await page.waitForTimeout(500);
      const far = await page.locator(chatSel).evaluate((el) => el.getBoundingClientRect().top > innerHeight * 1.5);
      const early = requested.filter((p) => /xterm/i.test(p));
      if (far) assert(early.length === 0, `xterm.js requested before the widget came near: ${early.join(', ')}`);
      return far ? 'no xterm request at load' : 'the widget is near the top: laziness not observable here';
    });
    if (!opened) return;

    const connected = await step('chat terminal: loads when scrolled to, connects, shows the chat\'s welcome', async () => {
      await page.locator(chatSel).scrollIntoViewIfNeeded();
      await page.waitForSelector(`${chatSel}[data-terminal="ready"]`, { timeout: 15_000 });
      assert(requested.some((p) => /xterm/i.test(p)), 'no xterm chunk was requested');
      await page.locator(`${chatSel} button[data-action="connect"]`).click();
      await waitForTerminal(page, /Please enter your username:/);
      const status = await page.locator(`${chatSel} [data-status]`).textContent();
      assert(/Connected to the shared chat/.test(status ?? ''), `status: ${JSON.stringify(status)}`);
    });
    if (!connected) return;

    await step('chat terminal: a line typed (with Backspace) reaches the shared chat, read by a TCP client on the chat port', async () => {
      observer = await chatClient(chatPort, 'tcp-observer');
      await page.locator(`${chatSel} .xterm`).click();
      await page.keyboard.type('page-learner');
      await page.keyboard.press('Enter');
      await observer.waitFor('* page-learner joined the chat');
      await page.keyboard.type('hello from the browsxx');
      await page.keyboard.press('Backspace');
      await page.keyboard.press('Backspace');
      await page.keyboard.type('er ✓');
      await page.keyboard.press('Enter');
      await observer.waitFor('page-learner: hello from the browser ✓');
      // a paste of two lines sends two lines
      await page.locator(`${chatSel} .xterm-helper-textarea`).evaluate((el) => {
        const data = new DataTransfer();
        data.setData('text/plain', 'pasted one\npasted two\n');
        el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      });
      await observer.waitFor('page-learner: pasted two');
      assert(observer.lines.includes('page-learner: pasted one'), 'the first pasted line did not arrive');
      return 'the TCP client got "page-learner: hello from the browser ✓" and both pasted lines';
    });

    await step('chat terminal: a TCP user\'s markup and escape sequences are shown as text, not run', async () => {
      assert(observer, 'no TCP client (the step before failed)');
      observer.socket.write('<img src=x onerror=alert(1)> \u001b[2J\u001b]0;pwned\u0007 still here\n');
      await waitForTerminal(page, /tcp-observer: <img src=x onerror=alert\(1\)> \^\[\[2J\^\[\]0;pwned\^G still here/);
      const images = await page.locator(`${chatSel} img`).count();
      assert(images === 0, `${images} <img> in the widget`);
      const text = await terminalText(page);
      assert(text.includes('hello from the browser ✓'), 'the screen was cleared: an escape sequence ran');
      const log = await page.locator(`${chatSel} [data-log]`).textContent();
      assert(log.includes('tcp-observer: <img src=x'), `the screen-reader log lacks the line: ${JSON.stringify(log)}`);
      assert((await page.title()) !== 'pwned', 'the window title was changed');
      return 'shown as ^[[2J…, screen kept, no element made';
    });

    await step("chat terminal: a Run of the lesson's shared-chat sample joins the same chat, seen in the terminal and by the TCP client", async () => {
      assert(observer, 'no TCP client');
      const playground = page.locator('course-playground[data-title="chat-client-shared.ts"]');
      assert((await playground.getAttribute('data-shared')) === 'chat', 'the Playground does not ask to join the shared chat');
      await playground.scrollIntoViewIfNeeded();
      await playground.locator('button[data-action="run"]').click();
      const said = await observer.waitFor(/^kim-[a-z0-9]+: Hello from a Run in the lesson!$/);
      await page.waitForFunction((sel) => /Exited with code 0/.test(document.querySelector(`${sel} [data-status]`)?.textContent ?? ''), 'course-playground[data-title="chat-client-shared.ts"]', { timeout: 15_000 });
      // xterm draws only while in view: back to the terminal to read it
      await page.locator(chatSel).scrollIntoViewIfNeeded();
      await waitForTerminal(page, /kim-[a-z0-9]+: Hello from a Run in the lesson!/);
      return `the program said "${said}" in the shared chat`;
    });

    await bothThemes(page, runAxe, 'chat terminal connected', step);

    await step('chat terminal: Disconnect leaves the chat; Reconnect joins again', async () => {
      assert(observer, 'no TCP client');
      await page.locator(`${chatSel} button[data-action="disconnect"]`).click();
      await observer.waitFor('* page-learner left the chat');
      await page.waitForFunction((sel) => /Disconnected/.test(document.querySelector(`${sel} [data-status]`)?.textContent ?? ''), chatSel, { timeout: 5000 });
      const label = await page.locator(`${chatSel} button[data-action="connect"]`).textContent();
      assert(label === 'Reconnect', `the connect button says ${JSON.stringify(label)}`);
      await page.locator(`${chatSel} button[data-action="connect"]`).click();
      await page.waitForFunction((sel) => /Connected to the shared chat/.test(document.querySelector(`${sel} [data-status]`)?.textContent ?? ''), chatSel, { timeout: 10_000 });
      await page.keyboard.type('page-learner');
      await page.keyboard.press('Enter');
      await observer.waitFor('* page-learner joined the chat'); // again: the name was free once it left
      return 'left, reconnected, joined again under the same name';
    });
  } finally {
    observer?.close();
    await context.close();
  }
}

async function collabSteps({ browser, base, step, assert, runAxe, pageErrors }) {
  const contexts = [await browser.newContext({ viewport: { width: 1280, height: 800 } }), await browser.newContext({ viewport: { width: 1280, height: 800 } })];
  try {
    const [a, b] = await Promise.all(contexts.map((c) => c.newPage()));
    a.on('pageerror', (e) => pageErrors.push(`collab A: ${e.message}`));
    b.on('pageerror', (e) => pageErrors.push(`collab B: ${e.message}`));
    const doc = `browser-test-${Date.now() % 100000}`;
    const names = ['ada-browser', '<b>bob</b>'];
    const joined = await step(`collaborative editor: two browser contexts join document "${doc}"`, async () => {
      for (const [i, page] of [a, b].entries()) {
        const res = await page.goto(base + COLLAB_LESSON, { waitUntil: 'load' });
        assert(res && res.ok(), `HTTP ${res?.status()}`);
        await page.locator(collabSel).scrollIntoViewIfNeeded();
        await page.locator(`${collabSel} [data-field="doc"]`).fill(doc);
        if (i === 1) {
          // a name the server refuses (only spaces): said, and Join works again with another
          await page.locator(`${collabSel} [data-field="name"]`).fill('   ');
          await page.locator(`${collabSel} button[data-action="join"]`).click();
          await page.waitForFunction((sel) => /That name was refused: name must not be only whitespace/.test(document.querySelector(`${sel} [data-status]`).textContent), collabSel, { timeout: 10_000 });
        }
        await page.locator(`${collabSel} [data-field="name"]`).fill(names[i]);
        await page.locator(`${collabSel} button[data-action="join"]`).click();
        await page.waitForSelector(`${collabSel}[data-joined]`, { timeout: 10_000 });
      }
      await a.waitForFunction(([sel, name]) => [...document.querySelectorAll(`${sel} [data-collab-users] li`)].some((li) => li.textContent === name), [collabSel, names[1]], { timeout: 5000 });
      const bold = await a.locator(`${collabSel} [data-collab-users] b`).count();
      assert(bold === 0, 'a name was inserted as HTML');
      return `a refused name said so; A lists ${JSON.stringify(names[1])} as text`;
    });
    if (!joined) return;

    await step('collaborative editor: an edit in one context appears in the other, both ways', async () => {
      const textA = a.locator(`${collabSel} [data-collab-text]`);
      const textB = b.locator(`${collabSel} [data-collab-text]`);
      await textA.click();
      await a.keyboard.type('Hello from A 🐱');
      await b.waitForFunction((sel) => document.querySelector(`${sel} [data-collab-text]`).value === 'Hello from A 🐱', collabSel, { timeout: 10_000 });
      await textB.click();
      await b.keyboard.press('End');
      await b.keyboard.type(', and B');
      await a.waitForFunction((sel) => document.querySelector(`${sel} [data-collab-text]`).value === 'Hello from A 🐱, and B', collabSel, { timeout: 10_000 });
      assert((await textB.inputValue()) === 'Hello from A 🐱, and B', `B shows ${JSON.stringify(await textB.inputValue())}`);
      return 'both show "Hello from A 🐱, and B"';
    });

    await step("collaborative editor: each context shows the other's cursor with the name", async () => {
      const textB = b.locator(`${collabSel} [data-collab-text]`);
      await textB.evaluate((el) => {
        el.focus();
        el.setSelectionRange(5, 5); // after "Hello"
        el.dispatchEvent(new Event('select'));
      });
      await a.waitForFunction(
        ([sel, name]) => [...document.querySelectorAll(`${sel} [data-collab-caret]`)].some((c) => c.textContent === name && c.previousSibling?.textContent?.endsWith('Hello')),
        [collabSel, names[1]],
        { timeout: 10_000 },
      );
      await b.waitForFunction(([sel, name]) => [...document.querySelectorAll(`${sel} [data-collab-caret]`)].some((c) => c.textContent === name), [collabSel, names[0]], { timeout: 10_000 });
      return 'carets named in both';
    });

    await bothThemes(a, runAxe, 'collaborative editor joined', step);

    await step('collaborative editor: when one leaves, the other shows it gone', async () => {
      await b.locator(`${collabSel} button[data-action="leave"]`).click();
      await a.waitForFunction((sel) => document.querySelectorAll(`${sel} [data-collab-users] li`).length === 1 && !document.querySelector(`${sel} [data-collab-caret]`), collabSel, { timeout: 10_000 });
      const status = await a.locator(`${collabSel} [data-status]`).textContent();
      assert(status === '<b>bob</b> left the document.', `A's status: ${JSON.stringify(status)}`);
    });
  } finally {
    for (const c of contexts) await c.close();
  }
}

async function dashboardSteps({ browser, base, step, assert, runAxe, pageErrors }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`dashboard: ${e.message}`));
  try {
    const opened = await step(`dashboard: the lesson opens (${DASHBOARD_LESSON}) and the widget goes live when scrolled to`, async () => {
      const res = await page.goto(base + DASHBOARD_LESSON, { waitUntil: 'load' });
      assert(res && res.ok(), `HTTP ${res?.status()}`);
      await page.locator(dashSel).scrollIntoViewIfNeeded();
      await page.waitForSelector(`${dashSel}[data-live]`, { timeout: 15_000 });
      await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.points) >= 2, dashSel, { timeout: 10_000 });
    });
    if (!opened) return;

    await step("dashboard: the chart moves (new points, a different picture)", async () => {
      const canvas = page.locator(`${dashSel} [data-chart="usage"] canvas`);
      const before = { points: Number(await page.locator(dashSel).getAttribute('data-tick')), image: await canvas.evaluate((c) => c.toDataURL()) };
      await page.waitForFunction(([sel, tick]) => Number(document.querySelector(sel).dataset.tick) >= tick + 2, [dashSel, before.points], { timeout: 10_000 });
      const after = { points: Number(await page.locator(dashSel).getAttribute('data-tick')), image: await canvas.evaluate((c) => c.toDataURL()) };
      assert(after.image !== before.image, 'the canvas is the same after two more ticks');
      const cpu = await page.locator(`${dashSel} [data-readout="cpu"]`).textContent();
      const viewers = await page.locator(`${dashSel} [data-readout="connections"]`).textContent();
      assert(/^\d+(\.\d)? %$|^not measured yet$/.test(cpu ?? ''), `CPU readout ${JSON.stringify(cpu)}`);
      assert(Number(viewers) >= 1, `connections readout ${JSON.stringify(viewers)}`);
      return `ticks ${before.points} → ${after.points}, canvas changed, CPU ${cpu}, ${viewers} dashboard(s) connected`;
    });

    await step('dashboard: Pause stops the points, Resume brings them back', async () => {
      await page.locator(`${dashSel} button[data-action="pause"]`).click();
      await page.waitForSelector(`${dashSel}[data-paused]`, { timeout: 5000 }); // the server's "unsubscribed": no tick comes after it
      const paused = Number(await page.locator(dashSel).getAttribute('data-tick'));
      await page.waitForTimeout(2500); // two ticks' time
      const still = Number(await page.locator(dashSel).getAttribute('data-tick'));
      assert(still === paused, `ticks went on while paused: ${paused} → ${still}`);
      await page.locator(`${dashSel} button[data-action="pause"]`).click();
      await page.waitForFunction(([sel, tick]) => Number(document.querySelector(sel).dataset.tick) > tick, [dashSel, still], { timeout: 10_000 });
    });

    await step('dashboard: a hidden page unsubscribes, and subscribes again when shown', async () => {
      const setHidden = (hidden) =>
        page.evaluate((h) => {
          Object.defineProperty(document, 'hidden', { value: h, configurable: true });
          document.dispatchEvent(new Event('visibilitychange'));
        }, hidden);
      await setHidden(true);
      await page.waitForSelector(`${dashSel}[data-paused]`, { timeout: 5000 });
      const tick = Number(await page.locator(dashSel).getAttribute('data-tick'));
      await setHidden(false);
      await page.waitForFunction(([sel, t]) => Number(document.querySelector(sel).dataset.tick) > t && !('paused' in document.querySelector(sel).dataset), [dashSel, tick], { timeout: 10_000 });
    });

    await bothThemes(page, runAxe, 'dashboard live', step);
  } finally {
    await context.close();
  }
}

/**
 * The live demos' steps. `runAxe(page, context?)` runs axe on a page (or axe's include/exclude context) and throws on a serious or critical
 * violation; `step(name, fn)` reports one step. Returns the page errors it saw (each a string).
 */
export async function demoSteps({ browser, base, step, assert, runAxe }) {
  const pageErrors = [];
  const health = await (await fetch(`${base}/api/health`)).json();
  const chatPort = health.referenceServers?.chat;
  const shared = { browser, base, chatPort, step, assert, runAxe, pageErrors };
  await chatTerminalSteps(shared);
  await collabSteps(shared);
  await dashboardSteps(shared);
  await step('live demos: no uncaught errors in their pages', async () => {
    assert(!pageErrors.length, pageErrors.join(' | '));
  });
}
