import { CodePanel, parseCompileLocation } from './panel';
import type { TestResult, TestStatus, Verdict } from '../../../sandbox-server/src/shapes/verdict.ts';
import { fetchJson, serverConnection, type ServerMessage } from './server-connection';
import { isSolved, keys, markSolved } from './storage';

const STATUS_TEXT: Record<TestStatus, string> = { pass: 'Passed', fail: 'Failed', error: 'Error' };
const STATUS_ICON: Record<TestStatus, string> = { pass: '✓', fail: '✗', error: '!' };

/** <course-exercise>: an exercise panel (see components/Exercise.astro). */
class CourseExercise extends CodePanel {
  private hintsShown = 0;
  private compileShown = false;

  protected get label() {
    return `main.ts, exercise ${this.dataset.title ?? this.dataset.id}`;
  }

  protected setup() {
    const id = this.dataset.id!;
    this.exerciseId = id;
    this.storageKey = keys.exerciseCode(id);
    this.button('check')?.addEventListener('click', () => this.check());
    this.button('hint')?.addEventListener('click', () => this.nextHint());
    this.button('solution')?.addEventListener('click', () => this.askSolution());
    const dialog = this.$<HTMLDialogElement>('dialog');
    dialog?.addEventListener('close', () => {
      if (dialog.returnValue === 'show') void this.loadSolution();
    });
    this.renderSolved();
    this.updateHintButton();
  }

  protected primaryAction() {
    this.run();
  }

  private renderSolved() {
    const solved = isSolved(this.dataset.id!);
    const badge = document.querySelector<HTMLElement>(`[data-solved-badge="${this.dataset.id}"]`);
    if (badge) badge.hidden = !solved;
    this.toggleAttribute('data-solved', solved);
  }

  // ---- hints -------------------------------------------------------------------------------
  private hintItems(): HTMLElement[] {
    return [...this.querySelectorAll<HTMLElement>('[data-hints] > li')];
  }
  private updateHintButton() {
    const items = this.hintItems();
    const b = this.button('hint');
    if (!b) return;
    const left = items.length - this.hintsShown;
    const count = this.$('[data-hint-count]');
    if (count) count.textContent = items.length ? `${left} of ${items.length} left` : 'none for this exercise';
    b.disabled = left <= 0;
  }
  private nextHint() {
    const items = this.hintItems();
    const item = items[this.hintsShown];
    if (!item) return;
    item.hidden = false;
    this.$('[data-hints]')!.hidden = false;
    this.hintsShown += 1;
    this.updateHintButton();
    item.tabIndex = -1;
    item.focus();
  }

  // ---- solution ----------------------------------------------------------------------------
  private askSolution() {
    const dialog = this.$<HTMLDialogElement>('dialog');
    if (!dialog || typeof dialog.showModal !== 'function') {
      if (confirm('Show the solution? It replaces the code in the editor.')) void this.loadSolution();
      return;
    }
    dialog.returnValue = '';
    dialog.showModal();
  }

  private async loadSolution() {
    this.setStatus('Loading the solution…');
    try {
      const { solution } = await fetchJson<{ solution: string }>(
        `/api/exercises/${encodeURIComponent(this.dataset.id!)}/solution`,
        (s) => this.setStatus(s ?? 'Loading the solution…'),
      );
      await this.mount();
      this.setCode(solution);
      this.clearMarker();
      this.setStatus('The solution is in the editor (Ctrl+Z brings your code back). Press Check to see it pass.');
    } catch (err) {
      this.setStatus(`Could not load the solution: ${(err as Error).message}`);
    }
  }

  // ---- check -------------------------------------------------------------------------------
  private results() {
    return this.$('[data-results]')!;
  }

  private check() {
    if (this.current) return;
    this.clearOutput();
    this.clearMarker();
    this.compileShown = false;
    const results = this.results();
    results.hidden = false;
    results.querySelector('[data-tests]')!.replaceChildren();
    const stale = results.querySelector<HTMLElement>('[data-stale]');
    if (stale) stale.hidden = true;
    const verdictEl = results.querySelector<HTMLElement>('[data-verdict]')!;
    verdictEl.className = 'verdict verdict-pending';
    verdictEl.textContent = 'Checking…';
    delete this.dataset.verdict;
    this.setBusy(true);
    this.setStatus('Checking your code against the tests…');
    this.traffic?.reset('check');
    this.current = serverConnection().request(
      { type: 'check', code: this.getCode(), exerciseId: this.dataset.id! },
      {
        onStatus: (s) => this.setStatus(s ?? 'Checking your code against the tests…'),
        onFailure: (m) => {
          verdictEl.className = 'verdict verdict-error';
          verdictEl.textContent = m;
          this.endRequest(null);
          this.setStatus(m);
        },
        onMessage: (msg) => this.onCheckMessage(msg),
      },
    );
  }

  private addTest(t: TestResult) {
    const li = document.createElement('li');
    li.className = `test test-${t.status}`;
    li.dataset.status = t.status;
    const head = document.createElement('div');
    head.className = 'test-head';
    const badge = document.createElement('span');
    badge.className = `badge badge-${t.status}`;
    badge.textContent = `${STATUS_ICON[t.status]} ${STATUS_TEXT[t.status]}`;
    const name = document.createElement('span');
    name.className = 'test-name';
    name.textContent = t.name;
    head.append(badge, ' ', name);
    li.append(head);
    if (t.message) {
      const pre = document.createElement('pre');
      pre.tabIndex = 0;
      pre.textContent = t.message;
      li.append(pre);
    }
    if (t.status !== 'pass' && this.traffic) li.append(this.trafficLink(t.name));
    if (t.output) {
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = 'Output of your program during this test';
      const pre = document.createElement('pre');
      pre.tabIndex = 0;
      pre.textContent = t.output;
      details.append(summary, pre);
      li.append(details);
    }
    this.results().querySelector('[data-tests]')!.append(li);
  }

  /** A button that shows the test's part of the sequence diagram. */
  private trafficLink(test: string): HTMLButtonElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sm-btn sm-btn-small sm-traffic-test-link';
    button.dataset.trafficTest = test;
    button.textContent = 'Show what this test exchanged in the traffic diagram';
    button.addEventListener('click', () => {
      if (this.traffic?.hasTest(test)) this.traffic.showTest(test);
      else this.setStatus('The traffic of this test has not arrived yet; try again in a moment.');
    });
    return button;
  }

  private showVerdict(v: Verdict) {
    const el = this.results().querySelector<HTMLElement>('[data-verdict]')!;
    const tests = v.tests;
    const passed = tests.filter((t) => t.status === 'pass').length;
    // tests not streamed (e.g. an older server): render them from the verdict
    if (!this.results().querySelector('[data-tests] li')) tests.forEach((t) => this.addTest(t));
    this.dataset.verdict = v.status;
    el.className = `verdict verdict-${v.status}`;
    if (v.status === 'pass') {
      el.textContent = `✓ Verdict: pass. All ${tests.length} tests passed. Exercise solved!`;
      markSolved(this.dataset.id!);
      this.renderSolved();
    } else if (v.status === 'fail') {
      el.textContent = `✗ Verdict: fail. ${passed} of ${tests.length} tests passed.`;
    } else {
      el.textContent = `! Verdict: error. The tests could not run.`;
      if (v.message) {
        const loc = parseCompileLocation(v.message);
        if (loc && !this.compileShown) this.showCompileError(loc.line, loc.column, v.message);
        else if (!loc) {
          const pre = document.createElement('pre');
          pre.tabIndex = 0;
          pre.textContent = v.message;
          el.append(pre);
        }
      }
    }
    this.endRequest(null);
    this.setStatus(`Verdict: ${v.status} (${(v.durationMs / 1000).toFixed(1)} s)`);
  }

  private onCheckMessage(msg: ServerMessage) {
    switch (msg.type) {
      case 'test':
        this.addTest(msg.test);
        break;
      case 'output':
        this.appendOutput(msg.text, msg.stream);
        break;
      case 'limit':
        this.appendOutput(`⏹ Stopped: ${msg.message}`, 'error');
        break;
      case 'traffic':
        this.traffic?.add(msg);
        break;
      case 'compile-error':
        this.compileShown = true;
        this.showCompileError(msg.line, msg.column, msg.message);
        break;
      case 'verdict':
        this.showVerdict(msg.verdict);
        break;
      case 'error': {
        const el = this.results().querySelector<HTMLElement>('[data-verdict]')!;
        el.className = 'verdict verdict-error';
        el.textContent = `Error: ${msg.message}`;
        this.endRequest(null);
        this.setStatus(`Error: ${msg.message}`);
        break;
      }
      default:
        break;
    }
  }

  /** Results of an earlier Check stay readable, but say that the code has changed since. */
  protected codeChanged() {
    const results = this.$('[data-results]');
    const stale = this.$('[data-stale]');
    if (!results || results.hidden || !stale || !stale.hidden || this.current) return;
    stale.hidden = false;
  }

  protected reset() {
    super.reset();
    const results = this.$('[data-results]');
    if (results) results.hidden = true;
  }
}

if (!customElements.get('course-exercise')) customElements.define('course-exercise', CourseExercise);
