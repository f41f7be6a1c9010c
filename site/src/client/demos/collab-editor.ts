/**
 * <course-collab-editor>: the lesson's collaborative editor as a working widget on the shared
 * server (/live/collab?doc=<name>, COLLAB-PROTOCOL.md). A text box whose edits go out as ops
 * (collab-session.ts does the protocol), everyone else's cursors drawn over it with their names,
 * and the people present listed. Every name and every character of the document comes from other
 * people: all of it goes into the page as text (textContent, the textarea's value), never as HTML.
 */
import { CollabSession, type CollabServerMessage, type CollabUser } from './collab-session';
import { codePointAt, utf16Index } from './collab-ops';
import { describeClose, liveUrl, onJsonMessage } from './live-socket';

/** Edits and cursor moves go out at most this often: the shared server allows 10 messages a second. */
const FLUSH_MS = 150;
/** Colours for other people's cursors, distinguishable and with dark text readable on each. */
const COLOURS = ['#f4a261', '#8ecae6', '#90be6d', '#f28482', '#cdb4db', '#ffd166', '#84dcc6', '#f7aef8'];

function colourOf(id: string): string {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLOURS[h % COLOURS.length];
}

class CourseCollabEditor extends HTMLElement {
  private ws?: WebSocket;
  private session?: CollabSession;
  private flushTimer?: number;
  private lastFlush = 0;
  /** Incoming messages held while an input method composes a character (a value change would break it). */
  private composing = false;
  private held: CollabServerMessage[] = [];

  private get text() {
    return this.querySelector<HTMLTextAreaElement>('[data-collab-text]')!;
  }
  private field(name: string) {
    return this.querySelector<HTMLInputElement>(`[data-field="${name}"]`)!;
  }
  private button(action: string) {
    return this.querySelector<HTMLButtonElement>(`[data-action="${action}"]`)!;
  }

  connectedCallback() {
    this.field('name').value ||= `learner-${Math.floor(1000 + Math.random() * 9000)}`;
    this.querySelector('form')!.addEventListener('submit', (e) => {
      e.preventDefault();
      this.join();
    });
    this.button('leave').addEventListener('click', () => this.ws?.send(JSON.stringify({ type: 'leave' })));
    const text = this.text;
    text.addEventListener('input', () => {
      this.session?.setLocal(text.value);
      this.schedule();
      this.drawCursors();
    });
    for (const event of ['keyup', 'click', 'select', 'focus']) text.addEventListener(event, () => this.schedule());
    text.addEventListener('scroll', () => this.syncMirror());
    text.addEventListener('compositionstart', () => (this.composing = true));
    text.addEventListener('compositionend', () => {
      this.composing = false;
      this.session?.setLocal(text.value);
      for (const m of this.held.splice(0)) this.receive(m);
    });
    new ResizeObserver(() => this.syncMirror()).observe(text);
  }

  disconnectedCallback() {
    this.ws?.close(1000, 'page closed');
  }

  private status(message: string) {
    this.querySelector('[data-status]')!.textContent = message;
  }

  private join() {
    if (this.session?.joined) return;
    // Connected but not joined (the server refused the name): start again with what the fields say now.
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'joining again');
    const doc = this.field('doc').value.trim() || 'main';
    const name = this.field('name').value;
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(doc)) {
      this.status('A document name is 1 to 40 letters, digits, "-" or "_".');
      this.field('doc').focus();
      return;
    }
    const ws = new WebSocket(liveUrl('collab', { doc }));
    this.ws = ws;
    const session = new CollabSession({
      send: (m) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m)),
      onText: (value, map) => this.showText(value, map),
      onPeople: (change) => this.showPeople(change),
      onError: (code, message) => {
        if (code !== 'bad_name') return this.status(`The server refused a change: ${message}.`);
        this.status(`That name was refused: ${message}. Change it and press Join again.`);
        this.button('join').disabled = false;
        this.field('name').focus();
      },
    });
    this.session = session;
    this.button('join').disabled = true;
    this.status(`Connecting to the shared document "${doc}"…`);
    ws.addEventListener('open', () => session.join(name));
    onJsonMessage<CollabServerMessage>(ws, (message) => {
      if (this.composing) this.held.push(message);
      else this.receive(message);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.session = undefined;
      delete this.dataset.joined;
      this.text.readOnly = true;
      this.button('join').disabled = false;
      this.button('join').textContent = 'Join again';
      this.button('leave').hidden = true;
      this.field('doc').disabled = this.field('name').disabled = false;
      const unsaved = session.settled ? '' : ' Your last changes had not reached the server and are not in the shared text.';
      this.status(`${describeClose(event.code, event.reason)}${unsaved}`);
      this.showPeople({});
    });
  }

  private receive(message: CollabServerMessage) {
    const session = this.session;
    if (!session) return;
    const wasJoined = session.joined;
    session.handle(message);
    if (!wasJoined && session.joined) {
      this.dataset.joined = '';
      this.text.readOnly = false;
      this.button('leave').hidden = false;
      this.field('doc').disabled = this.field('name').disabled = true;
      const others = session.people.size;
      this.status(`Joined "${this.field('doc').value.trim() || 'main'}" as ${this.field('name').value}: ${others === 0 ? 'nobody else is here yet' : `${others} other ${others === 1 ? 'person is' : 'people are'} here`}.`);
    }
    this.schedule();
  }

  /** Sends edits and the cursor, at most every FLUSH_MS. */
  private schedule() {
    if (!this.session?.joined || this.flushTimer !== undefined) return;
    const wait = Math.max(0, this.lastFlush + FLUSH_MS - performance.now());
    this.flushTimer = window.setTimeout(() => {
      this.flushTimer = undefined;
      this.lastFlush = performance.now();
      const text = this.text;
      this.session?.setLocal(text.value);
      this.session?.flush(codePointAt(text.value, text.selectionEnd));
      this.drawCursors();
    }, wait);
  }

  /** The document changed under the learner: show it, keeping their selection where it belongs. */
  private showText(value: string, map: (pos: number) => number) {
    const text = this.text;
    const old = text.value;
    if (value !== old) {
      const start = map(codePointAt(old, text.selectionStart));
      const end = map(codePointAt(old, text.selectionEnd));
      const scroll = text.scrollTop;
      text.value = value;
      text.setSelectionRange(utf16Index(value, start), utf16Index(value, end));
      text.scrollTop = scroll;
    }
    this.drawCursors();
  }

  private showPeople(change: { joined?: CollabUser; left?: { name: string } }) {
    const list = this.querySelector('[data-collab-users]')!;
    const session = this.session;
    const items: HTMLElement[] = [];
    if (session?.joined) {
      const me = document.createElement('li');
      me.dataset.you = '';
      me.textContent = `${this.field('name').value} (you)`;
      items.push(me);
      for (const user of session.people.values()) {
        const li = document.createElement('li');
        li.dataset.userId = user.id;
        const swatch = document.createElement('span');
        swatch.className = 'sm-swatch';
        swatch.style.background = colourOf(user.id);
        swatch.setAttribute('aria-hidden', 'true');
        li.append(swatch, document.createTextNode(user.name));
        items.push(li);
      }
    }
    list.replaceChildren(...items);
    this.querySelector('[data-people-count]')!.textContent = session?.joined ? String(items.length) : '0';
    if (change.joined) this.status(`${change.joined.name} joined the document.`);
    if (change.left) this.status(`${change.left.name} left the document.`);
    this.drawCursors();
  }

  /** Everyone else's cursor over the text box: a copy of its text, invisible, with a marker at each cursor. */
  private drawCursors() {
    const mirror = this.querySelector<HTMLElement>('[data-mirror]')!;
    const session = this.session;
    if (!session?.joined) return mirror.replaceChildren();
    const value = this.text.value;
    const cursors = session.cursors().sort((a, b) => a.pos - b.pos);
    const nodes: Node[] = [];
    let at = 0;
    for (const c of cursors) {
      const index = utf16Index(value, Math.min(c.pos, codePointAt(value, value.length)));
      nodes.push(document.createTextNode(value.slice(at, index)));
      at = index;
      const caret = document.createElement('span');
      caret.className = 'sm-caret';
      caret.dataset.collabCaret = '';
      caret.dataset.userId = c.id;
      caret.style.setProperty('--caret', colourOf(c.id));
      const label = document.createElement('span');
      label.className = 'sm-caret-name';
      label.textContent = c.name;
      caret.append(label);
      nodes.push(caret);
    }
    nodes.push(document.createTextNode(value.slice(at) + '\n'));
    mirror.replaceChildren(...nodes);
    this.syncMirror();
  }

  private syncMirror() {
    const text = this.text;
    const mirror = this.querySelector<HTMLElement>('[data-mirror]')!;
    mirror.style.width = `${text.clientWidth}px`;
    mirror.style.height = `${text.clientHeight}px`;
    mirror.style.top = `${text.offsetTop + text.clientTop}px`;
    mirror.style.left = `${text.offsetLeft + text.clientLeft}px`;
    mirror.scrollTop = text.scrollTop;
  }
}

if (!customElements.get('course-collab-editor')) customElements.define('course-collab-editor', CourseCollabEditor);
