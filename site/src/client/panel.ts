/**
 * Shared behaviour of <course-playground> and <course-exercise>: the static code block that turns
 * into a Monaco editor when wanted, Run with streamed output, Reset, persistence, compile errors.
 */
import { loadEditor, whenWanted, type EditorHandle } from './editor-loader';
import { serverConnection, type RequestHandle, type ServerMessage } from './server-connection';
import { store } from './storage';
import { showIsolationNotice } from './isolation-notice';
import type { CourseTraffic } from './traffic-view';
import './traffic-view';
import type { ShareableServer } from '../../../sandbox-server/src/shapes/requests.ts';

const COMPILE_LOC_RE = /main\.ts:(\d+):(\d+)(?::\s*(?:error:\s*)?(.*))?/;

export function parseCompileLocation(message: string): { line: number; column: number; text: string } | null {
  const m = COMPILE_LOC_RE.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]), text: m[3] ?? message } : null;
}

export abstract class CodePanel extends HTMLElement {
  protected editor: EditorHandle | null = null;
  protected original = '';
  protected storageKey = '';
  protected exerciseId: string | undefined;
  /** Shared servers a Run joins instead of its own (e.g. the lessons' chat). */
  protected shared: ShareableServer[] | undefined;
  protected current: RequestHandle | null = null;
  protected mountNow: () => void = () => {};
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingMarker: { line: number; column: number; message: string } | null = null;
  private initialised = false;
  private limitShown = false;

  protected $<T extends HTMLElement = HTMLElement>(sel: string): T | null {
    return this.querySelector<T>(sel);
  }
  protected button(action: string): HTMLButtonElement | null {
    return this.querySelector<HTMLButtonElement>(`button[data-action="${action}"]`);
  }

  /** The sequence diagram of the last Run or Check (<course-traffic data-traffic>), if the panel has one. */
  protected get traffic(): CourseTraffic | null {
    return this.querySelector<CourseTraffic>('course-traffic');
  }

  /** Label used for the editor region and messages, e.g. "echo-client.ts". */
  protected abstract get label(): string;

  connectedCallback() {
    if (this.initialised) return;
    this.initialised = true;
    if (this.runsOnServer) void showIsolationNotice(this);
    const src = this.$('script[data-original]');
    this.original = src ? JSON.parse(src.textContent || '""') : '';
    this.setup();
    const stat = this.$('[data-static]');
    // Expressive Code turns a scrollable <pre> into an unnamed region (role set by its script when the
    // block overflows); name it then, so landmarks stay distinguishable (axe landmark-unique)
    const pre = stat?.querySelector('pre');
    if (pre) {
      const name = () => {
        if (pre.getAttribute('role') === 'region') pre.setAttribute('aria-label', `${this.label}, read-only until the editor loads`);
        else pre.removeAttribute('aria-label');
      };
      name();
      new MutationObserver(name).observe(pre, { attributes: true, attributeFilter: ['role'] });
    }
    if (stat) this.mountNow = whenWanted(stat, () => void this.mount(stat.contains(document.activeElement)));
    this.button('run')?.addEventListener('click', () => this.run());
    this.button('stop')?.addEventListener('click', () => this.current?.stop());
    this.button('reset')?.addEventListener('click', () => this.reset());
    this.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter' && !this.isInsideEditor(e.target)) {
        e.preventDefault();
        this.run();
      }
    });
    if (this.saved() !== null && this.saved() !== this.original) {
      this.setNote('You have edited this code before: your version (kept in this browser) opens in the editor and is what Run uses.');
    }
  }

  /** Element-specific setup: storage key etc. */
  protected abstract setup(): void;

  /** Whether Run sends the code to the server (the isolation notice is about that); browser code runs in the page. */
  protected get runsOnServer(): boolean {
    return true;
  }

  /** The editor's language: TypeScript for Node programs. */
  protected get editorLanguage(): 'typescript' | 'javascript' {
    return 'typescript';
  }

  private isInsideEditor(target: EventTarget | null) {
    return target instanceof Node && !!this.$('[data-editor]')?.contains(target);
  }

  protected saved(): string | null {
    return store.get(this.storageKey);
  }

  /** Markers in the editor (server compile errors and TypeScript diagnostics); for tests and tools. */
  markers() {
    return this.editor?.getMarkers() ?? [];
  }

  getCode(): string {
    return this.editor ? this.editor.getValue() : (this.saved() ?? this.original);
  }

  protected setCode(code: string) {
    if (this.editor) this.editor.setValue(code);
    this.persist(code);
  }

  private persist(code: string) {
    if (code === this.original) store.remove(this.storageKey);
    else store.set(this.storageKey, code);
  }

  /** Mount Monaco in place of the static block. */
  async mount(focus = false): Promise<EditorHandle | null> {
    if (this.editor) return this.editor;
    const stat = this.$('[data-static]');
    const host = this.$('[data-editor]');
    if (!stat || !host) return null;
    this.dataset.editor = 'loading';
    this.setNote('Loading the editor…');
    let mod;
    try {
      mod = await loadEditor();
    } catch (err) {
      console.error(err);
      this.dataset.editor = 'failed';
      this.setNote('The editor could not be loaded; you can still run the code shown.');
      return null;
    }
    if (this.editor) return this.editor;
    const code = this.saved() ?? this.original;
    const lines = code.split('\n').length;
    const height = Math.min(560, Math.max(160, lines * 19 + 24));
    host.style.height = `${height}px`;
    host.hidden = false;
    stat.hidden = true;
    this.editor = mod.mountEditor(host, {
      value: code,
      key: this.storageKey,
      language: this.editorLanguage,
      ariaLabel: `Code editor: ${this.label}. Press Control+Enter to run. Press Control+M, then Tab, to move focus out of the editor.`,
      onChange: (v) => {
        this.codeChanged();
        clearTimeout(this.saveTimer);
        this.saveTimer = setTimeout(() => this.persist(v), 300);
      },
      onRun: () => this.primaryAction(),
    });
    this.dataset.editor = 'ready';
    this.setNote(null);
    if (this.pendingMarker) {
      const { line, column, message } = this.pendingMarker;
      this.editor.setServerMarker(line, column, message);
      this.pendingMarker = null;
    }
    if (focus) this.editor.focus();
    return this.editor;
  }

  /** Called on every edit in the editor. */
  protected codeChanged() {}

  /** What Ctrl/Cmd+Enter does: Run. */
  protected primaryAction() {
    this.run();
  }

  protected reset() {
    this.current?.stop();
    this.setCode(this.original);
    store.remove(this.storageKey);
    this.clearMarker();
    this.setNote(this.editor ? 'Code reset to the original (Ctrl+Z undoes it).' : 'Code reset to the original.');
  }

  // ---- output ------------------------------------------------------------------------------
  protected setNote(text: string | null) {
    const el = this.$('[data-note]');
    if (!el) return;
    el.textContent = text ?? '';
    el.hidden = !text;
  }

  protected setStatus(text: string | null) {
    const el = this.$('[data-status]');
    if (el) el.textContent = text ?? '';
  }

  protected clearOutput() {
    const out = this.$('[data-output]');
    if (out) {
      out.replaceChildren();
      out.hidden = true;
    }
  }

  protected appendOutput(text: string, cls: 'stdout' | 'stderr' | 'meta' | 'error') {
    const out = this.$('[data-output]');
    if (!out) return;
    out.hidden = false;
    let pre = out.querySelector('pre');
    if (!pre) {
      pre = document.createElement('pre');
      pre.tabIndex = 0; // scrollable region must be keyboard reachable
      out.append(pre);
    }
    const span = document.createElement('span');
    span.className = `out-${cls}`;
    span.textContent = cls === 'meta' || cls === 'error' ? (text.endsWith('\n') ? text : text + '\n') : text;
    pre.append(span);
    // cap what a runaway program can put in the page
    while (pre.childNodes.length > 2000) pre.firstChild?.remove();
    pre.scrollTop = pre.scrollHeight;
  }

  protected showCompileError(line: number, column: number, message: string) {
    this.dataset.marker = `${line}:${column}`;
    const text = `main.ts:${line}:${column}: ${message.replace(/^main\.ts:\d+:\d+:\s*/, '')}`;
    const box = this.$('[data-compile-error]');
    if (box) {
      box.hidden = false;
      const pre = box.querySelector('pre');
      if (pre) pre.textContent = text;
      const go = box.querySelector<HTMLButtonElement>('button');
      if (go) go.onclick = () => void this.mount(true).then((ed) => ed?.revealLine(line));
    } else {
      this.appendOutput(`Compile error: ${text}`, 'error');
    }
    if (this.editor) this.editor.setServerMarker(line, column, message);
    else this.pendingMarker = { line, column, message };
  }

  protected clearMarker() {
    delete this.dataset.marker;
    const box = this.$('[data-compile-error]');
    if (box) box.hidden = true;
    this.pendingMarker = null;
    this.editor?.clearServerMarkers();
  }

  protected setBusy(busy: boolean) {
    this.toggleAttribute('data-busy', busy);
    const stop = this.button('stop');
    const stopHadFocus = !!stop && document.activeElement === stop;
    if (stop) stop.hidden = !busy;
    // aria-disabled, not disabled: a disabled button drops keyboard focus to <body>
    for (const a of ['run', 'check']) this.button(a)?.setAttribute('aria-disabled', String(busy));
    if (!busy && stopHadFocus) this.button(this.button('check') ? 'check' : 'run')?.focus();
  }

  // ---- run ---------------------------------------------------------------------------------
  run() {
    if (this.current) return;
    this.clearOutput();
    this.clearMarker();
    this.limitShown = false;
    this.setBusy(true);
    this.setStatus('Running…');
    this.traffic?.reset('run');
    this.current = serverConnection().request(
      { type: 'run', code: this.getCode(), exerciseId: this.exerciseId, ...(this.shared && { shared: this.shared }) },
      {
        onStatus: (s) => this.setStatus(s ?? 'Running…'),
        onFailure: (m) => this.endRequest(m, 'error'),
        onMessage: (msg) => this.onRunMessage(msg),
      },
    );
  }

  protected endRequest(message: string | null, cls: 'meta' | 'error' = 'meta', append = true) {
    this.current = null;
    this.traffic?.finish();
    this.setBusy(false);
    if (message) {
      if (append) this.appendOutput(message, cls);
      this.setStatus(message);
    }
  }

  private onRunMessage(msg: ServerMessage) {
    switch (msg.type) {
      case 'output':
        this.appendOutput(msg.text, msg.stream);
        break;
      case 'limit':
        this.limitShown = true;
        this.appendOutput(`⏹ Stopped: ${msg.message}`, 'error');
        break;
      case 'compile-error':
        this.showCompileError(msg.line, msg.column, msg.message);
        break;
      case 'traffic':
        this.traffic?.add(msg);
        break;
      case 'exit': {
        const r = msg.result;
        const ms = r.durationMs;
        let text: string;
        if (r.limit) text = `Stopped: ${r.limit}.`;
        else if (r.timedOut) text = 'Stopped: time limit reached.';
        else if (r.signal) text = `Ended by signal ${r.signal} after ${ms} ms.`;
        else if (r.exitCode === null) text = `Did not run (see the error above).`;
        else text = `Exited with code ${r.exitCode} in ${ms} ms.`;
        const compileError = !!this.dataset.marker;
        if (compileError) text = `Compile error at main.ts:${this.dataset.marker}; nothing ran.`;
        // the limit line is already in the output and the compile error has its own box: say it once
        this.endRequest(text, r.exitCode === 0 && !r.limit ? 'meta' : 'error', !(r.limit && this.limitShown) && !compileError);
        break;
      }
      case 'error':
        this.endRequest(`Error: ${msg.message}`, 'error');
        break;
      default:
        break;
    }
  }
}
