// Browser steps for the learner's progress file (the course overview's Export / Import / Reset and
// its per-section progress), called by scripts/test-browser.mjs with its own helpers:
//   one browser context solves tcp-echo-server with Check and edits a playground, through the UI;
//   the overview counts it in its section; Export downloads the file; a FRESH context imports it
//   and has the code and the solved mark, on the overview and in the lesson; an import over other
//   code names what it replaces and Cancel changes nothing; bad files are refused with their reason
//   and change nothing; Reset asks, then removes this course's keys only; axe, light and dark.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_PROGRESS_FILE_BYTES, PROGRESS_FORMAT } from '../../sandbox-server/src/shapes/progress.ts';
import { keys } from '../../site/src/client/storage-keys.ts';
import { STORAGE_PREFIX } from '../../site/src/client/storage.ts';

const EDIT_MARK = '// edited before the export (progress test)';
const OTHER_APP_KEY = 'another-app-on-this-origin';

/** Every localStorage key of the course in the page, with its value. */
const courseStorage = (page) =>
  page.evaluate((prefix) => Object.fromEntries(Object.keys(localStorage).filter((k) => k.startsWith(prefix)).map((k) => [k, localStorage.getItem(k)])), STORAGE_PREFIX);

/** The section folders and exercise ids the overview must show, read from the repo as it is now. */
function courseOnDisk(root) {
  const dirs = (p) => readdirSync(path.join(root, p), { withFileTypes: true }).filter((e) => e.isDirectory());
  const sections = dirs('lessons')
    .map((e) => e.name)
    .filter((name) => /^\d+-/.test(name) && readdirSync(path.join(root, 'lessons', name)).some((f) => /\.mdx?$/.test(f)));
  const exercises = dirs('exercises')
    .filter((e) => readdirSync(path.join(root, 'exercises', e.name)).includes('exercise.json'))
    .map((e) => JSON.parse(readFileSync(path.join(root, 'exercises', e.name, 'exercise.json'), 'utf8')).id ?? e.name);
  return { sections, exercises };
}

/**
 * @param {object} t what scripts/test-browser.mjs hands over
 * @param {import('playwright-core').Browser} t.browser
 * @param {string} t.base the server's URL
 * @param {string} t.root the repo
 * @param {string} t.lessonUrl the page that embeds the exercise and a playground
 * @param {string} t.exerciseId
 * @param {string} t.solution the exercise's model solution
 * @param {(name: string, fn: () => unknown) => Promise<boolean>} t.step
 * @param {(cond: unknown, message: string) => void} t.assert
 * @param {(page, axeSource: string) => Promise<string>} t.runAxe
 * @param {string} t.axeSource
 * @param {(page, text: string, panelSel: string) => Promise<void>} t.pasteIntoEditor
 */
export async function progressSteps({ browser, base, root, lessonUrl, exerciseId, solution, step, assert, runAxe, axeSource, pasteIntoEditor }) {
  const exerciseSel = `course-exercise[data-id="${exerciseId}"]`;
  const playgroundSel = 'course-playground';
  const codeKey = STORAGE_PREFIX + keys.exerciseCode(exerciseId);
  const solvedKey = STORAGE_PREFIX + keys.solved(exerciseId);
  const contexts = [];
  const pageErrors = [];
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // Listening from the start turns Playwright's file-chooser interception on before any click:
    // a waitForEvent('filechooser') set up just before the key press raced it (the native chooser opened).
    page.on('filechooser', (chooser) => choosers.get(page)?.shift()?.(chooser));
    choosers.set(page, []);
    return page;
  };
  const choosers = new Map();
  const openOverview = async (page) => {
    const res = await page.goto(`${base}/overview/`, { waitUntil: 'load' });
    assert(res && res.ok(), `/overview/: HTTP ${res?.status()}`);
    await page.locator('[data-progress-panel]').waitFor();
  };
  const status = (page) => page.locator('[data-progress-status]');
  /** Waits for the status line to say something matching `re` (of `kind`), and returns it. */
  const statusSays = async (page, re, kind) => {
    await page
      .waitForFunction(
        ([source, k]) => {
          const el = document.querySelector('[data-progress-status]');
          return new RegExp(source).test(el?.textContent ?? '') && (!k || el.dataset.kind === k);
        },
        [re.source, kind],
        { timeout: 10_000 },
      )
      .catch(async () => {
        throw new Error(`the status did not say ${re}${kind ? ` (${kind})` : ''}; it says ${JSON.stringify(await status(page).textContent())}`);
      });
    return (await status(page).textContent()) ?? '';
  };
  /** Picks a file in the import file chooser, opened with the keyboard. */
  const importFile = async (page, name, buffer) => {
    let timer;
    const chooser = new Promise((resolve, reject) => {
      const waiting = choosers.get(page);
      waiting.push(resolve);
      timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(resolve), 1);
        reject(new Error('pressing Enter on "Import progress…" opened no file chooser within 5 s'));
      }, 5000);
    });
    await page.locator('[data-progress-action="import"]').focus();
    await page.keyboard.press('Enter');
    try {
      await (await chooser).setFiles({ name, mimeType: 'application/json', buffer });
    } finally {
      clearTimeout(timer);
    }
  };
  const sectionOf = (page) => page.locator(`section[data-section]:has([data-mark="${exerciseId}"])`);
  const barValues = (page) =>
    page.evaluate(() => [...document.querySelectorAll('[data-progress-of] progress')].map((p) => ({ id: p.id, value: p.value, max: p.max })));

  let exported = null; // { name, text, playgroundKey }
  try {
    // --- one context: solve and edit through the UI ------------------------------------------------
    const solved = await step(`progress: one browser context solves ${exerciseId} with Check and edits a playground (${lessonUrl})`, async () => {
      const page = await newPage();
      const res = await page.goto(base + lessonUrl, { waitUntil: 'load' });
      assert(res && res.ok(), `HTTP ${res?.status()}`);
      await page.locator(exerciseSel).scrollIntoViewIfNeeded();
      await page.waitForSelector(`${exerciseSel}[data-editor="ready"]`, { timeout: 30_000 });
      await pasteIntoEditor(page, solution, exerciseSel);
      await page.waitForFunction(([k, v]) => localStorage.getItem(k) === v, [codeKey, solution], { timeout: 5000 });
      await page.locator(`${exerciseSel} button[data-action="check"]`).click();
      await page.waitForSelector(`${exerciseSel}[data-verdict]`, { timeout: 60_000 });
      const verdict = await page.locator(exerciseSel).getAttribute('data-verdict');
      assert(verdict === 'pass', `verdict ${verdict}: ${await page.locator(`${exerciseSel} [data-verdict]`).textContent()}`);
      assert((await courseStorage(page))[solvedKey], 'no solved mark stored after a passing Check');

      // the page's first playground, by its hash (titles may repeat on a page)
      const hash = await page.locator(playgroundSel).first().getAttribute('data-hash');
      const sel = `${playgroundSel}[data-hash="${hash}"]`;
      const playground = page.locator(sel);
      await playground.scrollIntoViewIfNeeded();
      await page.waitForSelector(`${sel}[data-editor="ready"]`, { timeout: 30_000 });
      const original = await playground.evaluate((el) => el.getCode());
      const edited = `${EDIT_MARK}\n${original}`;
      await pasteIntoEditor(page, edited, sel);
      const handle = await page.waitForFunction(
        ([prefix, v]) => Object.keys(localStorage).find((k) => k.startsWith(`${prefix}playground:`) && localStorage.getItem(k) === v),
        [STORAGE_PREFIX, edited],
        { timeout: 5000 },
      );
      const playgroundKey = await handle.jsonValue();
      exported = { page, playgroundKey, playgroundCode: edited, playgroundSel: sel, title: await playground.getAttribute('data-title') };
      return `verdict pass; playground ${exported.title} stored under ${playgroundKey}`;
    });
    if (!solved) return;
    const pageA = exported.page;

    await step('progress: the overview shows every section and exercise of the course, and counts the solve in its section', async () => {
      await openOverview(pageA);
      await pageA.waitForFunction((id) => document.querySelector(`[data-mark="${id}"]`)?.dataset.solved === 'true', exerciseId, { timeout: 5000 });
      const onDisk = courseOnDisk(root);
      const shownSections = await pageA.locator('section[data-section]').evaluateAll((els) => els.map((el) => el.dataset.section));
      const missingSections = onDisk.sections.filter((s) => !shownSections.includes(s));
      assert(!missingSections.length, `sections not on the overview: ${missingSections.join(', ')} (shown: ${shownSections.join(', ')})`);
      const shownExercises = await pageA.locator('tr[data-exercise]').evaluateAll((els) => els.map((el) => el.dataset.exercise));
      const missingExercises = onDisk.exercises.filter((id) => !shownExercises.includes(id));
      assert(!missingExercises.length, `exercises not on the overview: ${missingExercises.join(', ')}`);
      const section = sectionOf(pageA);
      const heading = ((await section.locator('h2').textContent()) ?? '').trim();
      // found by its accessible name: the section's heading, then the bar's own label
      const bar = section.getByRole('progressbar', { name: `${heading} Exercises`, exact: true });
      assert((await bar.count()) === 1, `no progress bar named "${heading} Exercises" in the section`);
      const { value, max } = await bar.evaluate((p) => ({ value: p.value, max: p.max }));
      assert(value === 1, `the section's bar is at ${value} of ${max}, not 1`);
      const text = (await section.locator('[data-progress-text]').first().textContent()) ?? '';
      assert(text === `1 of ${max} solved`, `the section's count says ${JSON.stringify(text)}`);
      const total = await pageA.locator('#progress-all').evaluate((p) => p.value);
      assert(total === 1, `the course bar is at ${total}`);
      const lessonCount = (await section.locator(`.sm-lesson-list li:has(a[href="${lessonUrl}"]) [data-progress-of]`).textContent().catch(() => null)) ?? '(no lesson count)';
      assert(/^1 of \d+ solved$/.test(lessonCount), `the lesson's count says ${JSON.stringify(lessonCount)}`);
      return `${shownSections.length} sections, ${shownExercises.length} exercises; "${heading}": ${text}; lesson: ${lessonCount}`;
    });

    const downloaded = await step('progress: Export downloads a dated JSON file with the code, the solved mark and the playground', async () => {
      const [download] = await Promise.all([pageA.waitForEvent('download', { timeout: 10_000 }), pageA.locator('[data-progress-action="export"]').click()]);
      const name = download.suggestedFilename();
      assert(/^socket-mastery-progress-\d{4}-\d{2}-\d{2}\.json$/.test(name), `file name ${name}`);
      const chunks = [];
      for await (const c of await download.createReadStream()) chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      const file = JSON.parse(text);
      assert(file.format === PROGRESS_FORMAT && file.version === 1, `format ${file.format}, version ${file.version}`);
      const ex = file.exercises?.[exerciseId];
      assert(ex?.code === solution, `the file's code for ${exerciseId} is not the solution: ${JSON.stringify(ex?.code)?.slice(0, 80)}`);
      assert(ex.solved === true && !Number.isNaN(Date.parse(ex.solvedAt)), `solved ${ex.solved}, solvedAt ${ex.solvedAt}`);
      const playgroundName = exported.playgroundKey.slice(`${STORAGE_PREFIX}playground:`.length);
      assert(file.playgrounds?.[playgroundName] === exported.playgroundCode, `the file has no playground ${playgroundName}: ${Object.keys(file.playgrounds ?? {}).join(', ')}`);
      const said = await statusSays(pageA, /^Downloaded socket-mastery-progress-/, 'done');
      Object.assign(exported, { name, text, playgroundName });
      return `${name}, ${text.length} bytes; "${said}"`;
    });
    if (!downloaded) return;

    // --- a fresh context: import -----------------------------------------------------------------
    const pageB = await newPage();
    const imported = await step('progress: a fresh browser context imports the file (keyboard), after a dialog that says nothing is replaced', async () => {
      await openOverview(pageB);
      assert(Object.keys(await courseStorage(pageB)).length === 0, 'the fresh context already has course storage');
      assert((await pageB.locator(`[data-mark="${exerciseId}"]`).getAttribute('data-solved')) === 'false', 'solved before the import');
      await importFile(pageB, exported.name, Buffer.from(exported.text));
      const dialog = pageB.locator('dialog[data-progress-dialog="import"]');
      await dialog.waitFor({ state: 'visible', timeout: 10_000 });
      const summary = (await dialog.locator('[data-import-summary]').textContent()) ?? '';
      assert(/Nothing in this browser is replaced/.test(summary), `summary: ${summary}`);
      assert(/the code of 1 exercise, 1 edited playground and 1 solved mark/.test(summary), `summary: ${summary}`);
      assert(await dialog.locator('button[value="cancel"]').evaluate((b) => b === document.activeElement), 'Cancel is not focused in the dialog');
      await dialog.locator('button[value="confirm"]').click();
      const said = await statusSays(pageB, /^Imported /, 'done');
      await pageB.waitForFunction((id) => document.querySelector(`[data-mark="${id}"]`)?.dataset.solved === 'true', exerciseId, { timeout: 5000 });
      const stored = await courseStorage(pageB);
      assert(stored[codeKey] === solution, 'the imported code is not the solution');
      assert(stored[solvedKey], 'no solved mark after the import');
      assert(stored[exported.playgroundKey] === exported.playgroundCode, 'the playground code was not imported');
      const focusBack = await pageB.evaluate(() => document.activeElement?.getAttribute('data-progress-action'));
      assert(focusBack === 'import', `focus went to ${focusBack}, not back to Import`);
      const sectionBar = await sectionOf(pageB).locator('[data-progress-of] progress').first().evaluate((p) => p.value);
      assert(sectionBar === 1, `the section's bar is at ${sectionBar} after the import`);
      return `"${said}"; marks and the section bar updated without a reload`;
    });
    if (!imported) return;

    await step('progress: in the fresh context the lesson shows the imported code, the solved mark and the edited playground', async () => {
      const res = await pageB.goto(base + lessonUrl, { waitUntil: 'load' });
      assert(res && res.ok(), `HTTP ${res?.status()}`);
      await pageB.locator(`[data-solved-badge="${exerciseId}"]`).waitFor({ state: 'visible', timeout: 5000 });
      await pageB.locator(exerciseSel).scrollIntoViewIfNeeded();
      await pageB.waitForSelector(`${exerciseSel}[data-editor="ready"]`, { timeout: 30_000 });
      const line = solution.split('\n').find((l) => l.includes('createServer'))?.trim() ?? solution.split('\n')[0];
      const shows = (sel, text) =>
        pageB.waitForFunction(
          ([s, t]) => (document.querySelector(`${s} [data-editor] .view-lines`)?.textContent ?? '').replace(/\u00a0/g, ' ').includes(t),
          [sel, text],
          { timeout: 5000 },
        );
      await shows(exerciseSel, line);
      await pageB.locator(exported.playgroundSel).scrollIntoViewIfNeeded();
      await pageB.waitForSelector(`${exported.playgroundSel}[data-editor="ready"]`, { timeout: 30_000 });
      await shows(exported.playgroundSel, EDIT_MARK);
      return `exercise editor shows "${line}", playground ${exported.title} shows the edit, "✓ Solved" visible`;
    });

    await step('progress: an import over other code names what it replaces; Escape cancels and nothing changes', async () => {
      await openOverview(pageB);
      await pageB.evaluate(([k]) => localStorage.setItem(k, '// my other attempt'), [codeKey]);
      const before = await courseStorage(pageB);
      await importFile(pageB, exported.name, Buffer.from(exported.text));
      const dialog = pageB.locator('dialog[data-progress-dialog="import"]');
      await dialog.waitFor({ state: 'visible', timeout: 10_000 });
      const summary = (await dialog.locator('[data-import-summary]').textContent()) ?? '';
      assert(/replaces what this browser has for 1 item/.test(summary), `summary: ${summary}`);
      const listed = await dialog.locator('[data-import-replaced] li').allTextContents();
      assert(listed.length === 1 && listed[0] === `exercise ${exerciseId}`, `listed as replaced: ${JSON.stringify(listed)}`);
      await pageB.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden', timeout: 5000 });
      const said = await statusSays(pageB, /^Import cancelled\. Nothing was changed\.$/);
      const after = await courseStorage(pageB);
      assert(JSON.stringify(after) === JSON.stringify(before), 'storage changed although the import was cancelled');
      await pageB.evaluate(([k, v]) => localStorage.setItem(k, v), [codeKey, solution]);
      return `listed "${listed[0]}"; "${said}"`;
    });

    await step('progress: bad files are refused with their reason and change nothing', async () => {
      const good = JSON.parse(exported.text);
      const bad = [
        ['notes.txt', Buffer.from('just some notes, not JSON'), /not a Socket Mastery progress file .*It is not even JSON/],
        ['package.json', Buffer.from(JSON.stringify({ name: 'x', version: '1.0.0' })), /Expected "format": "socket-mastery-progress"; it has no "format" field/],
        ['newer.json', Buffer.from(JSON.stringify({ ...good, version: 2 })), /written by a newer version of the course \(format version 2\); this site reads version 1/],
        ['damaged.json', Buffer.from(JSON.stringify({ ...good, exercises: { [exerciseId]: { code: 7, solved: false } } })), /damaged: exercises › [\w-]+ › code must be the code as text/],
        ['huge.json', Buffer.alloc(MAX_PROGRESS_FILE_BYTES + 1, 32), /The file is 4\.0 MB; a progress file is at most 4\.0 MB/],
      ];
      const before = await courseStorage(pageB);
      const seen = [];
      for (const [name, buffer, expected] of bad) {
        await importFile(pageB, name, buffer);
        const said = await statusSays(pageB, new RegExp(`^${name.replace('.', '\\.')} was not imported\\. .*${expected.source}.* Nothing was changed\\.$`), 'error');
        assert(!(await pageB.locator('dialog[open]').count()), `a dialog opened for ${name}`);
        seen.push(said.slice(0, 70));
      }
      const after = await courseStorage(pageB);
      assert(JSON.stringify(after) === JSON.stringify(before), 'a refused file changed the storage');
      return seen.join(' | ');
    });

    await step('axe: no serious/critical violations (overview after an import, light)', async () => {
      await openOverview(pageB);
      await importFile(pageB, 'notes.txt', Buffer.from('not json'));
      await statusSays(pageB, /was not imported/, 'error'); // the error status is on the page too
      return runAxe(pageB, axeSource);
    });
    await step('axe: no serious/critical violations (overview after an import, dark, and its import dialog)', async () => {
      await pageB.evaluate(() => {
        document.documentElement.dataset.theme = 'dark'; // what Starlight's theme picker does
      });
      await pageB.waitForTimeout(300);
      const page = await runAxe(pageB, axeSource);
      await pageB.evaluate(([k]) => localStorage.setItem(k, '// differs, so the dialog lists it'), [codeKey]);
      await importFile(pageB, exported.name, Buffer.from(exported.text));
      await pageB.locator('dialog[data-progress-dialog="import"]').waitFor({ state: 'visible', timeout: 10_000 });
      const dialog = await runAxe(pageB, axeSource);
      await pageB.keyboard.press('Escape');
      await statusSays(pageB, /^Import cancelled/);
      return `page: ${page}; dialog open: ${dialog}`;
    });

    await step("progress: Reset asks first, then removes this course's keys and no other key of the site", async () => {
      await pageB.evaluate((k) => localStorage.setItem(k, 'keep me'), OTHER_APP_KEY);
      const before = await courseStorage(pageB);
      assert(Object.keys(before).length >= 3, `only ${Object.keys(before).length} course keys before the reset`);
      await pageB.locator('[data-progress-action="reset"]').focus();
      await pageB.keyboard.press('Enter');
      const dialog = pageB.locator('dialog[data-progress-dialog="reset"]');
      await dialog.waitFor({ state: 'visible', timeout: 10_000 });
      const summary = (await dialog.locator('[data-reset-summary]').textContent()) ?? '';
      assert(/This removes the code of 1 exercise, 1 edited playground and 1 solved mark of this course from this browser/.test(summary), `summary: ${summary}`);
      await dialog.locator('button[value="confirm"]').click();
      const said = await statusSays(pageB, /^Progress reset: \d+ entries removed from this browser\.$/, 'done');
      assert(Object.keys(await courseStorage(pageB)).length === 0, 'course keys left after the reset');
      assert((await pageB.evaluate((k) => localStorage.getItem(k), OTHER_APP_KEY)) === 'keep me', "the reset removed another app's key");
      await pageB.waitForFunction((id) => document.querySelector(`[data-mark="${id}"]`)?.dataset.solved === 'false', exerciseId, { timeout: 5000 });
      const nonZero = (await barValues(pageB)).filter((b) => b.value !== 0);
      assert(!nonZero.length, `bars not at 0 after the reset: ${JSON.stringify(nonZero)}`);
      return `"${said}"; marks and bars back to 0; ${OTHER_APP_KEY} kept`;
    });

  } finally {
    // also after a failed step: an error in the page is often why it failed
    await step('progress: no uncaught errors in the progress contexts', () => {
      assert(!pageErrors.length, pageErrors.join(' | '));
    });
    for (const c of contexts) await c.close().catch(() => {});
  }
}
