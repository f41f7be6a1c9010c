// Browser steps for the traffic view (<course-traffic data-traffic>), called by scripts/test-browser.mjs
// with its own helpers:
//   the TCP echo client sample runs in its lesson and its sequence diagram shows the lifelines (the
//   program, the echo server), the connect, the two lines going out and coming back as chunks, and the
//   close; an arrow opens its payload from the keyboard (Enter), as text and hex, and Space closes it;
//   the diagram is one tab stop, Up and Down move between its arrows;
//   a wrong tcp-echo-server fails its tests in its lesson, and a failing test's button shows that
//   test's part of the diagram; axe, light and dark, with the diagram and the payload shown;
//   the Socket.IO transports sample's diagram shows its long-polling requests with their packets
//   decoded, then the upgrade, and a packet's payload says where in its body it was (axe, dark).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyWrongPatch } from '../content/wrong.ts';

const LESSON = '/03-tcp-sockets/first-tcp-client/';
const SAMPLE = 'course-playground[data-title="echo-client.ts"]';
const SENT = ['Hello from the client!\n', 'This is a second message\n'];
const SIO_LESSON = '/05-socket-io/why-socket-io/';
const SIO_SAMPLE = 'course-playground[data-title="why-socket-io-transports.ts"]';
/** A wrong example that fails a few of the echo server's tests, not all of them. */
const WRONG = { exercise: 'tcp-echo-server', patch: 'to-string' };

/** What the diagram of a panel shows: its lanes, and each arrow's kind, lane ends and label. */
const diagramOf = (page, sel) =>
  page.locator(`${sel} [data-traffic]`).evaluate((el) => ({
    svg: !!el.querySelector('svg'),
    lanes: [...el.querySelectorAll('[data-lane]')].map((l) => l.getAttribute('data-lane')),
    rows: [...el.querySelectorAll('.sm-traffic-row[data-seq]')].map((g) => ({
      kind: g.getAttribute('data-kind'),
      endpoint: g.getAttribute('data-endpoint'),
      direction: g.classList.contains('from-learner') ? 'out' : g.classList.contains('to-learner') ? 'in' : '',
      label: g.querySelector('.sm-traffic-label')?.textContent ?? '',
      name: g.getAttribute('aria-label') ?? '',
      full: g.getAttribute('data-label') ?? '',
    })),
    summary: el.querySelector('[data-traffic-summary]')?.textContent ?? '',
  }));

/**
 * @param {object} t what scripts/test-browser.mjs hands over
 * @param {import('playwright-core').Page} t.page
 * @param {string} t.base the server's URL
 * @param {string} t.root the repo
 * @param {(name: string, fn: () => Promise<unknown>) => Promise<boolean>} t.step
 * @param {(cond: unknown, message: string) => void} t.assert
 * @param {() => Promise<string>} t.axe runs axe on the page (no serious or critical violation)
 * @param {(page: unknown, text: string, panelSel: string) => Promise<void>} t.pasteIntoEditor
 */
export async function trafficSteps({ page, base, root, step, assert, axe, pasteIntoEditor }) {
  /** axe with the page in the dark theme, then the theme as it was. */
  const axeDark = async () => {
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
    await page.waitForTimeout(300); // the editors follow the theme a moment later (as in the main test's dark step)
    try {
      return await axe();
    } finally {
      await page.evaluate((t) => (document.documentElement.dataset.theme = t ?? 'light'), before);
    }
  };

  const opened = await step(`traffic view: the TCP client lesson opens (${LESSON})`, async () => {
    const res = await page.goto(base + LESSON, { waitUntil: 'load' });
    assert(res && res.ok(), `HTTP ${res?.status()}`);
    const hidden = await page.locator(`${SAMPLE} [data-traffic]`).evaluate((el) => el.hidden);
    assert(hidden, 'the traffic view shows before anything ran');
  });
  if (!opened) return;

  const ran = await step('traffic view: Run of echo-client.ts draws the program and echo lifelines, the connect, each chunk both ways and the close', async () => {
    await page.locator(`${SAMPLE} button[data-action="run"]`).click();
    await page.waitForFunction((s) => /Exited with code 0/.test(document.querySelector(`${s} [data-status]`)?.textContent ?? ''), SAMPLE, { timeout: 30_000 });
    const d = await diagramOf(page, SAMPLE);
    assert(d.svg, 'no <svg> in [data-traffic]');
    assert(JSON.stringify(d.lanes) === JSON.stringify(['your program', 'echo']), `lanes ${JSON.stringify(d.lanes)}`);
    const echo = d.rows.filter((r) => r.endpoint === 'echo');
    assert(echo[0]?.kind === 'open' && echo[0].direction === '', `the first arrow is not the connect: ${JSON.stringify(echo[0])}`);
    const chunks = (direction) => echo.filter((r) => r.kind === 'data' && r.direction === direction);
    // The label on the arrow is cut to fit; the whole of it is in data-label (and the accessible name).
    const text = (rows) => rows.map((r) => /^chunk \d+ B "(.*)"$/.exec(r.full)?.[1] ?? '?').join('');
    const expected = SENT.join('').replace(/\n/g, '\\n');
    assert(chunks('out').length >= 1 && text(chunks('out')) === expected, `chunks out: ${JSON.stringify(chunks('out').map((r) => r.label))}`);
    assert(chunks('in').length >= 1 && text(chunks('in')) === expected, `chunks back: ${JSON.stringify(chunks('in').map((r) => r.label))}`);
    assert(echo.some((r) => r.kind === 'close'), `no close arrow: ${JSON.stringify(echo.map((r) => r.kind))}`);
    assert(/^\d+ ms connect, your program to echo$/.test(echo[0].name), `the connect's accessible name: ${JSON.stringify(echo[0].name)}`);
    return `${d.rows.length} arrows: ${echo.map((r) => r.label).join(' | ')}`;
  });

  if (ran) {
    await step('traffic view: Enter on an arrow shows its payload as text and hex; Space closes it; Up and Down move between arrows', async () => {
      const arrow = page.locator(`${SAMPLE} [data-traffic] .sm-traffic-row[data-kind="data"].from-learner`).first();
      await arrow.focus();
      await page.keyboard.press('Enter');
      const detail = page.locator(`${SAMPLE} .sm-traffic-detail`);
      await detail.waitFor({ state: 'visible', timeout: 3000 });
      const textShown = await detail.locator('.sm-traffic-text').textContent();
      const hexShown = (await detail.locator('.sm-traffic-hex').textContent()) ?? '';
      assert(textShown && SENT.join('').startsWith(textShown), `payload text ${JSON.stringify(textShown)}`);
      assert(/^0000  48 65 6c 6c 6f 20 66 72/.test(hexShown), `hex dump starts ${JSON.stringify(hexShown.slice(0, 40))}`);
      assert((await arrow.getAttribute('aria-pressed')) === 'true', 'the arrow does not say it is pressed');
      await arrow.focus();
      await page.keyboard.press(' ');
      await detail.waitFor({ state: 'hidden', timeout: 3000 });
      // One tab stop: Down moves to the next arrow, Up back.
      const tabStops = await page.locator(`${SAMPLE} [data-traffic] .sm-traffic-row[tabindex="0"]`).count();
      assert(tabStops === 1, `${tabStops} arrows are tab stops`);
      await arrow.focus();
      const seq = await arrow.getAttribute('data-seq');
      await page.keyboard.press('ArrowDown');
      const next = await page.evaluate(() => document.activeElement?.getAttribute('data-seq'));
      assert(next !== null && Number(next) > Number(seq), `ArrowDown went from arrow ${seq} to ${next}`);
      await page.keyboard.press('ArrowUp');
      const back = await page.evaluate(() => document.activeElement?.getAttribute('data-seq'));
      assert(back === seq, `ArrowUp came back to ${back}, not ${seq}`);
      await page.keyboard.press('Enter'); // shown again, for axe
      await detail.waitFor({ state: 'visible', timeout: 3000 });
      return `text ${JSON.stringify(textShown)}, hex ${hexShown.split('\n')[0]}`;
    });
    await step('axe: no serious/critical violations (traffic diagram and payload, light)', () => axe());
    await step('axe: no serious/critical violations (traffic diagram and payload, dark)', axeDark);
  }

  const lesson = JSON.parse(readFileSync(path.join(root, 'exercises', WRONG.exercise, 'exercise.json'), 'utf8')).lesson;
  const sel = `course-exercise[data-id="${WRONG.exercise}"]`;
  await step(`traffic view: a failing test of ${WRONG.exercise} (wrong/${WRONG.patch}) shows its part of the diagram`, async () => {
    const solution = readFileSync(path.join(root, 'exercises', WRONG.exercise, 'solution.ts'), 'utf8');
    const applied = applyWrongPatch(solution, readFileSync(path.join(root, 'exercises', WRONG.exercise, 'wrong', `${WRONG.patch}.patch`), 'utf8'));
    assert(applied.ok, `wrong/${WRONG.patch}.patch does not apply: ${JSON.stringify(applied.failure)}`);
    const res = await page.goto(`${base}/${lesson}/`, { waitUntil: 'load' });
    assert(res && res.ok(), `HTTP ${res?.status()} for /${lesson}/`);
    await page.locator(sel).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${sel}[data-editor="ready"]`, { timeout: 30_000 });
    await pasteIntoEditor(page, applied.program, sel);
    await page.locator(`${sel} button[data-action="check"]`).click();
    await page.waitForSelector(`${sel}[data-verdict]`, { timeout: 60_000 });
    const verdict = await page.locator(sel).getAttribute('data-verdict');
    assert(verdict === 'fail', `verdict ${verdict}`);
    const failing = page.locator(`${sel} [data-tests] li[data-status="fail"]`);
    const count = await failing.count();
    assert(count > 0, 'no failing test shown');
    const passingLinks = await page.locator(`${sel} [data-tests] li[data-status="pass"] [data-traffic-test]`).count();
    assert(passingLinks === 0, `${passingLinks} passing test(s) have a traffic link`);
    const name = (await failing.first().locator('.test-name').textContent()) ?? '';
    await failing.first().locator('[data-traffic-test]').click();
    const focused = await page.waitForFunction(
      (s) => {
        const el = document.activeElement;
        return el && document.querySelector(`${s} [data-traffic]`)?.contains(el) ? el.getAttribute('data-test') : null;
      },
      sel,
      { timeout: 5000 },
    );
    const test = await focused.jsonValue();
    assert(test === name, `focus went to the mark of ${JSON.stringify(test)}, not of ${JSON.stringify(name)}`);
    const inBand = await page.locator(`${sel} [data-traffic] .sm-traffic-band.is-current`).count();
    assert(inBand === 1, `${inBand} bands highlighted`);
    const d = await diagramOf(page, sel);
    assert(d.lanes.includes('your program') && d.lanes.some((l) => l.startsWith('grader:')), `lanes ${JSON.stringify(d.lanes)}`);
    const titles = await page.locator(`${sel} [data-traffic] .sm-traffic-lane-sub`).allTextContents();
    assert(titles.some((t) => t.startsWith('test client')), `no lane titled as a test client: ${JSON.stringify(titles)}`);
    return `${count} failing; "${name}" focused in a diagram of ${d.rows.length} arrows, lanes ${d.lanes.length}`;
  });
  await step('axe: no serious/critical violations (exercise with failing tests and their traffic)', async () => {
    // The solution back in the editor: Monaco greys out the wrong program's unused code in a colour
    // axe finds too faint (color-contrast on .squiggly-inline-unnecessary), which is not the view's.
    const solution = readFileSync(path.join(root, 'exercises', WRONG.exercise, 'solution.ts'), 'utf8');
    await pasteIntoEditor(page, solution, sel);
    await page.locator(`${sel} [data-stale]`).waitFor({ state: 'visible', timeout: 5000 });
    await page.waitForFunction((s) => !document.querySelector(`${s} .squiggly-inline-unnecessary`), sel, { timeout: 10_000 });
    const arrows = await page.locator(`${sel} [data-traffic] .sm-traffic-row`).count();
    assert(arrows > 0, 'the diagram went away with the edit');
    return axe();
  });
  const polled = await step('traffic view: Run of why-socket-io-transports.ts draws the polling GETs and POSTs with their packets decoded, then the upgrade', async () => {
    const res = await page.goto(base + SIO_LESSON, { waitUntil: 'load' });
    assert(res && res.ok(), `HTTP ${res?.status()} for ${SIO_LESSON}`);
    await page.locator(`${SIO_SAMPLE} button[data-action="run"]`).click();
    await page.waitForFunction((s) => /Exited with code 0/.test(document.querySelector(`${s} [data-status]`)?.textContent ?? ''), SIO_SAMPLE, { timeout: 30_000 });
    const d = await diagramOf(page, SIO_SAMPLE);
    const sio = d.rows.filter((r) => r.endpoint === 'socketIo');
    const steps = [
      (r) => r.kind === 'http' && r.direction === 'out' && /^HTTP GET \/socket\.io\/\?EIO=4&transport=polling/.test(r.full),
      (r) => r.kind === 'packet' && r.direction === 'in' && r.full === 'polling: Engine.IO open',
      (r) => r.kind === 'packet' && r.direction === 'out' && r.full === 'polling: CONNECT {"name":"default"}',
      (r) => r.kind === 'handshake' && r.direction === 'out' && /transport=websocket&sid=/.test(r.full),
      (r) => r.kind === 'frame' && r.direction === 'out' && r.full === 'Engine.IO upgrade',
    ].map((test) => sio.findIndex(test));
    assert(steps.every((at, i) => at !== -1 && (i === 0 || at > steps[i - 1])), `steps at ${JSON.stringify(steps)} in ${JSON.stringify(sio.map((r) => `${r.kind} ${r.full}`))}`);
    return `${sio.length} arrows to socketIo: ${sio.filter((r) => r.kind === 'packet').map((r) => r.label).join(' | ')}`;
  });
  if (polled) {
    await step("traffic view: a polling packet's payload says where in its body it was (Enter opens it)", async () => {
      const packet = page.locator(`${SIO_SAMPLE} [data-traffic] .sm-traffic-row[data-kind="packet"].from-learner`).first();
      await packet.focus();
      await page.keyboard.press('Enter');
      const detail = page.locator(`${SIO_SAMPLE} .sm-traffic-detail`);
      await detail.waitFor({ state: 'visible', timeout: 3000 });
      const fields = await detail.locator('.sm-traffic-fields').textContent();
      assert(/HTTP long-pollingpacket 1 of the body/.test(fields ?? ''), `fields ${JSON.stringify(fields)}`);
      assert(/Socket\.IO packetCONNECT, namespace \//.test(fields ?? ''), `fields ${JSON.stringify(fields)}`);
      const text = await detail.locator('.sm-traffic-text').textContent();
      assert(text === '40{"name":"default"}', `payload text ${JSON.stringify(text)}`);
      return text;
    });
    await step('axe: no serious/critical violations (polling traffic and a packet payload, dark)', axeDark);
  }
}
