import { CodePanel } from './panel';
import { keys } from './storage';
import { BrowserRun } from './browser-runner';

/** Console lines one run may show before it is stopped (the panel itself keeps at most 2,000 nodes). */
const MAX_LINES = 1000;

/**
 * <course-browser-playground>: browser JavaScript a learner edits and runs in an isolated frame
 * (see components/BrowserPlayground.astro). Shares the code panel's editor, Reset, persistence and
 * output with the Node playground; only Run differs: the code runs here, in the page, not on the server.
 */
class CourseBrowserPlayground extends CodePanel {
  protected get label() {
    return this.dataset.title || 'page.js';
  }

  protected get runsOnServer() {
    return false;
  }

  protected get editorLanguage() {
    return 'javascript' as const;
  }

  protected setup() {
    this.storageKey = keys.playground(location.pathname.replace(/\/$/, '') || '/', `browser:${this.dataset.title}:${this.dataset.hash}`);
  }

  run() {
    if (this.current) return;
    const host = this.$('[data-frame-host]');
    if (!host) return;
    this.clearOutput();
    this.setBusy(true);
    this.setStatus('Running in this page…');
    const run = new BrowserRun({
      host,
      code: this.getCode(),
      title: this.label,
      timeLimitMs: Number(this.dataset.timeLimit || 30) * 1000,
      maxLines: MAX_LINES,
      onOutput: (text, stream) => this.appendOutput(text, stream),
      onEnd: (reason, message) => {
        const text = reason === 'stopped' ? `Stopped on request after ${run.seconds.toFixed(1)} s.` : `⏹ Stopped: ${message}.`;
        this.endRequest(text, reason === 'stopped' ? 'meta' : 'error');
      },
    });
    this.current = run;
  }
}

if (!customElements.get('course-browser-playground')) customElements.define('course-browser-playground', CourseBrowserPlayground);
