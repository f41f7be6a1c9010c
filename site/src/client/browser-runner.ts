/**
 * One run of browser code: a fresh sandboxed frame (browser-frame.ts) holding the learner's page,
 * its console shown through `onOutput`, and an end — Stop, the time limit, too much output, or a
 * frame that never starts — after which the frame is removed, and everything it ran with it.
 * Only messages whose source is this run's frame are read, and only as text (readFrameMessage).
 */
import { FRAME_CHANNEL, readFrameMessage, type FrameStream } from './browser-console';
import { frameDocument } from './browser-frame';

export type BrowserRunEndReason = 'stopped' | 'time-limit' | 'output-limit' | 'no-start';

export interface BrowserRunOptions {
  /** Where the frame goes (its contents are replaced). */
  host: HTMLElement;
  code: string;
  /** Names the frame for assistive technology, e.g. "echo-page.js". */
  title: string;
  timeLimitMs: number;
  /** Console lines shown before the run is stopped. */
  maxLines: number;
  onOutput(text: string, stream: FrameStream): void;
  onEnd(reason: BrowserRunEndReason, message: string): void;
}

/** How long a new frame may take to load its bootstrap before the run is given up. */
const START_TIMEOUT_MS = 10_000;

export class BrowserRun {
  /** Not crypto.randomUUID: it exists only in secure contexts, and the site may be served over plain http. */
  private readonly runId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  private frame: HTMLIFrameElement | null;
  private readonly started = performance.now();
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  private codeSent = false;
  private lines = 0;

  constructor(private readonly options: BrowserRunOptions) {
    const frame = document.createElement('iframe');
    // allow-scripts and nothing else: no allow-same-origin, so the frame's origin is opaque
    frame.setAttribute('sandbox', 'allow-scripts');
    frame.referrerPolicy = 'no-referrer';
    frame.title = `Page of ${options.title} (an isolated frame: no access to this site)`;
    frame.dataset.browserFrame = '';
    frame.className = 'sm-browser-frame';
    frame.srcdoc = frameDocument({ host: location.host, parentOrigin: location.origin, runId: this.runId }, options.title);
    this.frame = frame;
    window.addEventListener('message', this.onMessage);
    options.host.replaceChildren(frame);
    options.host.hidden = false;
    const seconds = Math.round(options.timeLimitMs / 1000);
    this.timers.push(setTimeout(() => this.end('time-limit', `time limit of ${seconds} s reached`), options.timeLimitMs));
    this.timers.push(setTimeout(() => !this.codeSent && this.end('no-start', 'the page did not start'), START_TIMEOUT_MS));
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  stop(): void {
    this.end('stopped', 'stopped on request');
  }

  private readonly onMessage = (event: MessageEvent): void => {
    const frameWindow = this.frame?.contentWindow;
    if (!frameWindow || event.source !== frameWindow) return;
    const message = readFrameMessage(event.data, this.runId);
    if (!message) return;
    if (message.kind === 'ready') {
      if (this.codeSent) return;
      this.codeSent = true;
      // the frame's origin is opaque, so no target origin can name it; the code is no secret
      frameWindow.postMessage({ channel: FRAME_CHANNEL, runId: this.runId, type: 'run', code: this.options.code }, '*');
      return;
    }
    if (++this.lines > this.options.maxLines) return this.end('output-limit', `more than ${this.options.maxLines} lines of output`);
    this.options.onOutput(`${message.text}\n`, message.stream);
  };

  private end(reason: BrowserRunEndReason, message: string): void {
    if (!this.frame) return;
    this.timers.forEach(clearTimeout);
    window.removeEventListener('message', this.onMessage);
    this.frame.remove(); // ends the page: its sockets close, its timers stop
    this.frame = null;
    this.options.host.hidden = true;
    this.options.onEnd(reason, message);
  }
}
