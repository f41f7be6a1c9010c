/**
 * <course-chat-terminal>: a terminal (xterm.js) joined to the course's shared TCP chat through the
 * bridge at /live/chat-terminal (sandbox-server/src/chat-terminal-bridge.ts): each line typed is
 * one message to it, each message back is a line from the chat. xterm.js loads when the widget
 * comes near the viewport; the connection opens on Connect. Lines from the chat are written as text
 * (terminalSafe: no control character reaches the terminal), and also into a polite log for screen
 * readers. Tab leaves the terminal, as everywhere else on the page.
 */
import type { Terminal } from '@xterm/xterm';
import type { ChatTerminalMessage } from '../../../../sandbox-server/src/shapes/chat-terminal.ts';
import { describeClose, injectCss, isDark, liveUrl, onJsonMessage, onThemeChange, whenNearView } from './live-socket';
import { LineBuffer, terminalSafe } from './terminal-text';

const PROMPT = '\x1b[2m>\x1b[22m ';
/** Lines kept in the screen-reader log (the terminal itself keeps its scrollback). */
const MAX_LOG_LINES = 100;

function terminalTheme() {
  return isDark()
    ? { background: '#17181c', foreground: '#e8e8ea', cursor: '#e8e8ea', selectionBackground: '#4a5a80' }
    : { background: '#f6f7f9', foreground: '#1c1d21', cursor: '#1c1d21', selectionBackground: '#b9c7ea' };
}

class CourseChatTerminal extends HTMLElement {
  private term?: Terminal;
  private ws?: WebSocket;
  private readonly input = new LineBuffer();
  /** Terminal writes in order; the input line's redraw reads the cursor after what came before it. */
  private writes: Promise<void> = Promise.resolve();
  /** The buffer row where the line being typed starts. */
  private inputRow = 0;
  private loading?: Promise<void>;

  connectedCallback() {
    this.button('connect').addEventListener('click', () => void this.connect());
    this.button('disconnect').addEventListener('click', () => this.ws?.close(1000, 'left the page demo'));
    whenNearView(this, () => this.load().catch(() => {})); // a failure is said in the status line
  }

  disconnectedCallback() {
    this.ws?.close(1000, 'page closed');
  }

  private button(action: string): HTMLButtonElement {
    return this.querySelector<HTMLButtonElement>(`[data-action="${action}"]`)!;
  }

  private status(text: string) {
    this.querySelector('[data-status]')!.textContent = text;
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      this.dataset.terminal = 'loading';
      const [{ Terminal }, { FitAddon }, css] = await Promise.all([
        import('@xterm/xterm'),
        import('@xterm/addon-fit'),
        import('@xterm/xterm/css/xterm.css?inline').then((m) => m.default as string),
      ]);
      injectCss('xterm', css);
      const host = this.querySelector<HTMLElement>('[data-terminal]')!;
      host.textContent = '';
      const term = new Terminal({ rows: 14, scrollback: 1000, fontSize: 14, cursorBlink: true, theme: terminalTheme(), allowProposedApi: false });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(host);
      fit.fit();
      new ResizeObserver(() => fit.fit()).observe(host);
      onThemeChange(() => (term.options.theme = terminalTheme()));
      // Tab moves focus out, as in the rest of the page: the terminal never traps the keyboard.
      term.attachCustomKeyEventHandler((e) => e.key !== 'Tab');
      term.textarea?.setAttribute('aria-label', 'Chat terminal: type a line, Enter sends it');
      term.onData((data) => this.typed(data));
      this.term = term;
      this.write('Press Connect to join the shared chat.\r\n');
      this.dataset.terminal = 'ready';
    })().catch((err: Error) => {
      this.loading = undefined; // the next Connect tries again
      delete this.dataset.terminal;
      this.status(`The terminal could not load (${err.message}). Reload the page to try again.`);
      throw err;
    });
    return this.loading;
  }

  private async connect() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    try {
      await this.load();
    } catch {
      return; // said in the status line
    }
    const ws = new WebSocket(liveUrl('chat-terminal'));
    this.ws = ws;
    this.button('connect').hidden = true;
    this.status('Connecting to the shared chat…');
    ws.addEventListener('open', () => {
      this.dataset.connected = '';
      this.button('disconnect').hidden = false;
      this.status('Connected to the shared chat. Type a name, then your messages; Enter sends a line.');
      this.startInput();
      this.term!.focus();
    });
    onJsonMessage<ChatTerminalMessage>(ws, (message) => {
      if (message.type === 'line') this.showLine(message.text);
      else if (message.type === 'refused') this.showLine(`(not sent: ${message.message})`, '\x1b[3m');
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      delete this.dataset.connected;
      this.button('connect').hidden = false;
      this.button('connect').textContent = 'Reconnect';
      this.button('disconnect').hidden = true;
      const text = describeClose(event.code, event.reason);
      this.showLine(`(${text})`, '\x1b[3m');
      this.status(`${text} Press Reconnect to join again.`);
      this.input.take();
    });
  }

  /** What the keyboard (or a paste) sent to the terminal. */
  private typed(data: string) {
    if (!('connected' in this.dataset)) {
      this.status('Not connected: press Connect to join the shared chat.');
      return;
    }
    if (data.startsWith('\x1b')) return; // arrows, function keys: this is a line editor
    // A paste arrives as one string, its line breaks as \r.
    const pieces = data.split(/\r\n|\r|\n/);
    pieces.forEach((piece, i) => {
      for (const ch of piece) {
        if (ch === '\x7f' || ch === '\b') this.backspace();
        else {
          const added = this.input.add(ch);
          if (added) this.write(added);
        }
      }
      if (i < pieces.length - 1) this.submit();
    });
  }

  private backspace() {
    if (this.input.backspace() !== undefined) this.redrawInput();
  }

  private submit() {
    const line = this.input.take();
    this.write('\r\n');
    this.ws?.send(line);
    this.startInput();
  }

  /** Starts a new input line (the prompt) below what is on the screen. */
  private startInput() {
    this.write(PROMPT, () => this.markInputRow());
    this.write(this.input.text);
  }

  /** Remembers the row of the prompt (the input after it may wrap onto more rows). */
  private markInputRow() {
    const buffer = this.term!.buffer.active;
    this.inputRow = buffer.baseY + buffer.cursorY;
  }

  /** A line from the chat: written above the line being typed, which is drawn again below it. */
  private showLine(text: string, style = '') {
    this.log(text);
    if (!this.term) return;
    const safe = terminalSafe(text);
    const line = `${style ? `${style}${safe}\x1b[0m` : safe}\r\n`;
    if (!('connected' in this.dataset)) return this.write(line);
    this.redrawInput(line);
  }

  /** Erases the input line (all its rows), writes `before` in its place, then the prompt and the input again. */
  private redrawInput(before = '') {
    this.writes = this.writes.then(
      () =>
        new Promise<void>((resolve) => {
          const buffer = this.term!.buffer.active;
          const up = Math.max(0, buffer.baseY + buffer.cursorY - this.inputRow);
          this.term!.write(`\r${up ? `\x1b[${up}A` : ''}\x1b[J${before}${PROMPT}`, () => {
            this.markInputRow();
            resolve();
          });
        }),
    );
    this.write(this.input.text);
  }

  private write(data: string, done?: () => void) {
    this.writes = this.writes.then(
      () =>
        new Promise<void>((resolve) =>
          this.term!.write(data, () => {
            done?.();
            resolve();
          }),
        ),
    );
  }

  /** The screen-reader copy of the conversation (text nodes only). */
  private log(text: string) {
    const log = this.querySelector('[data-log]');
    if (!log) return;
    const item = document.createElement('p');
    item.textContent = text;
    log.append(item);
    while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild?.remove();
  }
}

if (!customElements.get('course-chat-terminal')) customElements.define('course-chat-terminal', CourseChatTerminal);
