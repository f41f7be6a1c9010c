/**
 * <course-traffic data-traffic>: the sequence diagram of a Run or a Check, under each Playground and
 * in the Exercise panel, drawn as SVG from the traffic the editor socket streams (traffic-layout.ts
 * places it). Each arrow is a button: Enter, Space or a click opens its payload (decoded fields,
 * text, hex dump) in the panel below. Connections can be collapsed to one row, a long log is drawn
 * 300 rows at a time, and what the server left out is said. Everything from the program goes into
 * the page as textContent, never as markup.
 */
import '../styles/traffic.css';
import { LAYOUT, layoutTraffic, type Layout, type Row } from './traffic-layout.ts';
import { emptyTraffic, mergeTraffic, type Traffic, type TrafficWireEvent } from './traffic-model.ts';
import { endpointTitle, eventFields, eventLabel, eventParties, hexDump, previewBytes, PROGRAM, snippet } from './traffic-labels.ts';

const SVG = 'http://www.w3.org/2000/svg';
const ROWS_PER_PAGE = 300;
/** A connection with more events than this starts collapsed. */
const COLLAPSE_OVER = 60;

let views = 0;

function svg<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function html<K extends keyof HTMLElementTagNameMap>(name: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

export class CourseTraffic extends HTMLElement {
  private traffic: Traffic = emptyTraffic();
  private layout: Layout | null = null;
  private readonly uid = `traffic-${++views}`;
  private collapsed = new Set<string>();
  /** Connections the learner expanded or collapsed themselves (the automatic rule leaves them alone). */
  private chosen = new Set<string>();
  private showChunks = false;
  private maxRows = ROWS_PER_PAGE;
  private selected: number | null = null;
  /** The row that is the diagram's tab stop (data-focus-key). */
  private currentKey: string | null = null;
  private running = false;
  private what = 'run';
  private renderQueued = false;
  private built = false;
  private summaryEl!: HTMLElement;
  private noteEl!: HTMLElement;
  private scrollEl!: HTMLElement;
  private moreEl!: HTMLButtonElement;
  private detailEl!: HTMLElement;
  private connectionsEl!: HTMLDetailsElement;
  private chunksBox!: HTMLInputElement;

  connectedCallback() {
    if (this.built) return;
    this.built = true;
    this.setAttribute('data-traffic', '');
    this.hidden = true;
    const head = html('div', { class: 'sm-traffic-head' });
    const title = html('p', { class: 'sm-traffic-title' });
    title.append(html('strong', {}, 'Traffic'), ' ');
    this.summaryEl = html('span', { 'data-traffic-summary': '' });
    title.append(this.summaryEl);
    const chunks = html('label', { class: 'sm-traffic-option' });
    this.chunksBox = html('input', { type: 'checkbox' });
    this.chunksBox.addEventListener('change', () => {
      this.showChunks = this.chunksBox.checked;
      this.queueRender();
    });
    chunks.append(this.chunksBox, ' TCP chunks under WebSocket frames');
    head.append(title, chunks);
    this.noteEl = html('p', { class: 'sm-traffic-note', 'data-traffic-truncated': '', hidden: '' });
    this.connectionsEl = html('details', { class: 'sm-traffic-connections' });
    this.scrollEl = html('div', { class: 'sm-traffic-scroll' });
    // One tab stop for the whole diagram (a roving tabindex): Up and Down move between the arrows.
    this.scrollEl.addEventListener('focusin', (ev) => this.makeCurrent(ev.target as Element));
    this.scrollEl.addEventListener('keydown', (ev) => this.moveFocus(ev));
    this.moreEl = html('button', { type: 'button', class: 'sm-btn sm-btn-small', hidden: '' });
    this.moreEl.addEventListener('click', () => {
      this.maxRows += ROWS_PER_PAGE;
      this.render();
    });
    this.detailEl = html('div', { class: 'sm-traffic-detail', 'aria-live': 'polite', hidden: '' });
    this.append(head, this.noteEl, this.connectionsEl, this.scrollEl, this.moreEl, this.detailEl);
  }

  /** A new run or check starts: forget the last one's traffic. */
  reset(what: 'run' | 'check') {
    this.connectedCallback();
    this.traffic = emptyTraffic();
    this.collapsed.clear();
    this.chosen.clear();
    this.maxRows = ROWS_PER_PAGE;
    this.selected = null;
    this.currentKey = null;
    this.running = true;
    this.what = what;
    this.detailEl.hidden = true;
    this.hidden = false;
    this.render();
  }

  add(batch: Traffic) {
    this.traffic = mergeTraffic(this.traffic, batch);
    this.queueRender();
  }

  /** The run or check ended (its last traffic has come). */
  finish() {
    this.running = false;
    this.render();
  }

  /** Whether a grading test's part of the diagram is known (its mark came). */
  hasTest(test: string): boolean {
    return this.traffic.marks.some((m) => m.test === test);
  }

  /** Scrolls to a grading test's part of the diagram and focuses its first row. */
  showTest(test: string) {
    const index = this.traffic.marks.findIndex((m) => m.test === test);
    if (index === -1) return;
    let row = this.layout?.rows.find((r) => r.type === 'mark' && r.mark === index);
    while (!row && this.layout && this.layout.hiddenRows > 0) {
      this.maxRows += ROWS_PER_PAGE;
      this.render();
      row = this.layout.rows.find((r) => r.type === 'mark' && r.mark === index);
    }
    const el = this.scrollEl.querySelector<SVGGElement>(`#${this.uid}-mark-${index}`);
    if (!el) return;
    this.scrollEl.querySelectorAll('.sm-traffic-band').forEach((b) => b.classList.toggle('is-current', b.getAttribute('data-mark') === String(index)));
    // The mark's row at the top, and the first arrow of the test in view sideways (the lanes can be wider than the panel).
    const first = el.nextElementSibling?.querySelector('.sm-traffic-arrow');
    first?.scrollIntoView({ block: 'nearest', inline: 'center' });
    el.scrollIntoView({ block: 'start', inline: 'nearest' });
    el.focus({ preventScroll: true });
  }

  private queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private render() {
    this.autoCollapse();
    const t = this.traffic;
    this.layout = layoutTraffic(t, { collapsed: this.collapsed, showChunksUnderFrames: this.showChunks, maxRows: this.maxRows, fitWidth: this.scrollEl.clientWidth || 640 });
    const n = t.events.length;
    const waiting = this.running ? ' (still running…)' : '';
    this.summaryEl.textContent = n
      ? `of this ${this.what}: ${n} event${n === 1 ? '' : 's'} between ${this.layout.lanes.length} endpoints${waiting}. Each arrow is a button: Enter or Space shows its payload; Up and Down move between arrows.`
      : this.running
        ? `of this ${this.what}: waiting for the first connection…`
        : `of this ${this.what}: nothing was exchanged with the run's servers or the tests' clients.`;
    this.noteEl.hidden = !t.truncated;
    this.noteEl.textContent = t.truncated ? (t.note ?? 'Truncated: not all of the traffic was recorded.') : '';
    this.renderConnections();
    this.renderDiagram();
    this.moreEl.hidden = this.layout.hiddenRows === 0;
    this.moreEl.textContent = `Show ${Math.min(ROWS_PER_PAGE, this.layout.hiddenRows)} more rows (${this.layout.hiddenRows} not drawn yet)`;
  }

  /** Collapses busy connections once, unless the learner chose for them. */
  private autoCollapse() {
    const counts = new Map<string, number>();
    for (const e of this.traffic.events) counts.set(`${e.endpoint}#${e.connection}`, (counts.get(`${e.endpoint}#${e.connection}`) ?? 0) + 1);
    for (const [key, count] of counts) if (count > COLLAPSE_OVER && !this.chosen.has(key)) this.collapsed.add(key);
  }

  private toggleConnection(key: string) {
    this.chosen.add(key);
    if (this.collapsed.has(key)) this.collapsed.delete(key);
    else this.collapsed.add(key);
    this.render();
  }

  private renderConnections() {
    const list = this.layout!.connections;
    this.connectionsEl.hidden = list.length === 0;
    const wasOpen = this.connectionsEl.open;
    const summary = html('summary', {}, `Connections (${list.length}): collapse or expand each`);
    const ul = html('ul');
    for (const c of list) {
      const li = html('li');
      const collapsed = this.collapsed.has(c.key);
      const button = html('button', { type: 'button', class: 'sm-btn sm-btn-small', 'aria-pressed': String(collapsed) }, `${collapsed ? 'Expand' : 'Collapse'} ${c.endpoint} #${c.connection}`);
      button.addEventListener('click', () => this.toggleConnection(c.key));
      li.append(button, ` ${c.count} event${c.count === 1 ? '' : 's'}`);
      ul.append(li);
    }
    this.connectionsEl.replaceChildren(summary, ul);
    this.connectionsEl.open = wasOpen;
  }

  private renderDiagram() {
    const layout = this.layout!;
    const focusedKey = (document.activeElement as Element | null)?.closest?.('[data-focus-key]')?.getAttribute('data-focus-key');
    const { width, height } = layout;
    const top = LAYOUT.headerHeight;
    const lanesText = layout.lanes.map((l) => (l.endpoint ? endpointTitle(l.endpoint).title : PROGRAM)).join(', ');
    // The lanes' titles in their own SVG, which stays at the top while the rows scroll under it.
    const header = svg('svg', { width, height: top, viewBox: `0 0 ${width} ${top}`, class: 'sm-traffic-svg', 'aria-hidden': 'true' });
    const body = svg('svg', {
      width,
      height: height - top,
      viewBox: `0 ${top} ${width} ${height - top}`,
      role: 'group',
      'aria-label': `Sequence diagram of the ${this.what}'s traffic, one lane each for ${lanesText}`,
      class: 'sm-traffic-svg',
    });
    const defs = svg('defs');
    // One arrowhead per direction: a marker's colour cannot come from the line that uses it.
    for (const direction of ['from-learner', 'to-learner', 'no-direction']) {
      const marker = svg('marker', { id: `${this.uid}-head-${direction}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
      marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `sm-traffic-head-path ${direction}` }));
      defs.append(marker);
    }
    body.append(defs);
    header.append(svg('rect', { x: 0, y: 0, width, height: top, class: 'sm-traffic-header-bg' }));
    for (const band of layout.bands) {
      body.append(svg('rect', { x: 0, y: band.top, width, height: band.bottom - band.top, class: 'sm-traffic-band', 'data-mark': band.mark }));
    }
    const chars = Math.floor(layout.laneGap / 8); // the titles' bold 12px characters are about 7.5 px wide
    for (const lane of layout.lanes) {
      const title = lane.endpoint ? endpointTitle(lane.endpoint) : { title: PROGRAM, subtitle: 'main.ts' };
      const g = svg('g', { class: `sm-traffic-lane${lane.id === PROGRAM ? ' is-program' : ''}`, 'data-lane': lane.id });
      g.append(svg('text', { x: lane.x, y: 20, 'text-anchor': 'middle', class: 'sm-traffic-lane-title' }, snippet(title.title, chars)));
      g.append(svg('text', { x: lane.x, y: 36, 'text-anchor': 'middle', class: 'sm-traffic-lane-sub' }, snippet(title.subtitle, chars)));
      g.append(svg('line', { x1: lane.x, y1: 42, x2: lane.x, y2: top, class: 'sm-traffic-lifeline' }));
      header.append(g);
      body.append(svg('line', { x1: lane.x, y1: top, x2: lane.x, y2: height - LAYOUT.margin, class: `sm-traffic-lifeline${lane.id === PROGRAM ? ' is-program' : ''}` }));
    }
    for (const row of layout.rows) body.append(this.drawRow(row, width));
    const rows = body.querySelectorAll<SVGGElement>('.sm-traffic-row');
    if (rows.length && ![...rows].some((r) => r.getAttribute('tabindex') === '0')) {
      rows[0].setAttribute('tabindex', '0');
      this.currentKey = rows[0].getAttribute('data-focus-key');
    }
    const head = html('div', { class: 'sm-traffic-sticky' });
    head.append(header);
    this.scrollEl.replaceChildren(head, body);
    if (focusedKey) this.scrollEl.querySelector<SVGElement>(`[data-focus-key="${focusedKey}"]`)?.focus({ preventScroll: true });
  }

  private drawRow(row: Row, width: number): SVGGElement {
    if (row.type === 'mark') {
      const g = svg('g', { class: 'sm-traffic-mark', id: `${this.uid}-mark-${row.mark}`, tabindex: -1, 'data-focus-key': `mark-${row.mark}`, 'data-test': row.test });
      g.append(svg('line', { x1: 0, y1: row.y + 8, x2: width, y2: row.y + 8, class: 'sm-traffic-mark-line' }));
      g.append(svg('text', { x: 6, y: row.y + 3, class: 'sm-traffic-mark-text' }, `Test: ${row.test}`));
      return g;
    }
    const left = Math.min(row.from.x, row.to.x);
    const right = Math.max(row.from.x, row.to.x);
    const max = Math.max(12, Math.floor((right - left) / 6.2));
    // The accessible name starts with the text drawn (axe: label-content-name-mismatch), then says
    // the rest. (No <title>: axe counts its text as drawn.)
    const button = (name: string, key: string) =>
      svg('g', { role: 'button', tabindex: key === this.currentKey ? 0 : -1, 'aria-label': name, 'data-focus-key': key, class: 'sm-traffic-row' });
    let g: SVGGElement;
    if (row.type === 'collapsed') {
      const text = `${row.count} events, ${row.bytes} B (collapsed)`.slice(0, max);
      g = button(`${text}; ${row.key.replace('#', ' #')}: ${row.count} events, ${row.bytes} bytes of payload, collapsed; press to expand`, `c-${row.key}`);
      g.setAttribute('aria-expanded', 'false');
      g.classList.add('is-collapsed');
      g.append(svg('rect', { x: left, y: row.y - 8, width: right - left, height: 16, rx: 4, class: 'sm-traffic-collapsed' }));
      g.append(svg('text', { x: (left + right) / 2, y: row.y + 4, 'text-anchor': 'middle', class: 'sm-traffic-label' }, text));
      this.activate(g, () => this.toggleConnection(row.key));
    } else {
      const e = row.event;
      const fromName = row.from.endpoint ? endpointTitle(row.from.endpoint).title : PROGRAM;
      const toName = row.to.endpoint ? endpointTitle(row.to.endpoint).title : PROGRAM;
      const label = eventLabel(e, max);
      const full = eventLabel(e, 160);
      // The time's trailing space keeps it a word of its own when the texts are read together.
      g = button(`${e.t} ms ${label}, ${eventParties(e, fromName, toName)}${label === full ? '' : `: ${full}`}`, `e-${e.seq}`);
      g.dataset.label = full;
      g.classList.add(`kind-${e.kind}`, e.direction ?? 'no-direction');
      g.dataset.seq = String(e.seq);
      g.dataset.kind = e.kind;
      g.dataset.endpoint = e.endpoint;
      if (this.selected === e.seq) g.classList.add('is-selected');
      g.setAttribute('aria-pressed', String(this.selected === e.seq));
      g.append(svg('rect', { x: 0, y: row.y - LAYOUT.rowHeight / 2, width, height: LAYOUT.rowHeight, class: 'sm-traffic-hit' }));
      g.append(svg('text', { x: 6, y: row.y + 4, class: 'sm-traffic-time' }, `${e.t} ms `));
      const line = svg('line', { x1: row.from.x, y1: row.y + 6, x2: row.to.x, y2: row.y + 6, class: 'sm-traffic-arrow' });
      if (!row.across) line.setAttribute('marker-end', `url(#${this.uid}-head-${e.direction ?? 'no-direction'})`);
      g.append(line);
      g.append(svg('text', { x: (left + right) / 2, y: row.y - 1, 'text-anchor': 'middle', class: 'sm-traffic-label' }, label));
      this.activate(g, () => this.select(e));
    }
    return g;
  }

  /** The row that has focus becomes the diagram's one tab stop. */
  private makeCurrent(target: Element) {
    const row = target.closest?.('.sm-traffic-row');
    if (!row) return;
    this.scrollEl.querySelectorAll('.sm-traffic-row[tabindex="0"]').forEach((r) => r !== row && r.setAttribute('tabindex', '-1'));
    row.setAttribute('tabindex', '0');
    this.currentKey = row.getAttribute('data-focus-key');
  }

  /** Up/Down: the previous/next arrow (from a test's mark too); Home/End: the first/last. */
  private moveFocus(ev: KeyboardEvent) {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(ev.key)) return;
    const from = (ev.target as Element).closest?.('[data-focus-key]');
    if (!from) return;
    const all = [...this.scrollEl.querySelectorAll<SVGGElement>('.sm-traffic-row, .sm-traffic-mark')];
    const rows = all.filter((el) => el.classList.contains('sm-traffic-row'));
    const at = all.indexOf(from as SVGGElement);
    let next: SVGGElement | undefined;
    if (ev.key === 'Home') next = rows[0];
    else if (ev.key === 'End') next = rows[rows.length - 1];
    else if (ev.key === 'ArrowDown') next = all.slice(at + 1).find((el) => rows.includes(el));
    else next = all.slice(0, at).reverse().find((el) => rows.includes(el));
    if (!next) return;
    ev.preventDefault();
    next.focus();
    next.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  private activate(el: SVGElement, action: () => void) {
    el.addEventListener('click', action);
    el.addEventListener('keydown', (ev) => {
      const key = (ev as KeyboardEvent).key;
      if (key === 'Enter' || key === ' ') {
        ev.preventDefault();
        action();
      }
    });
  }

  private select(e: TrafficWireEvent) {
    this.selected = this.selected === e.seq ? null : e.seq;
    this.scrollEl.querySelectorAll<SVGElement>('.sm-traffic-row[data-seq]').forEach((g) => {
      const on = g.dataset.seq === String(this.selected);
      g.classList.toggle('is-selected', on);
      g.setAttribute('aria-pressed', String(on));
    });
    if (this.selected === null) {
      this.detailEl.hidden = true;
      return;
    }
    this.showDetail(e);
  }

  private showDetail(e: TrafficWireEvent) {
    const title = html('p', { class: 'sm-traffic-detail-title' });
    title.append(html('strong', {}, 'Payload: '), eventLabel(e, 80));
    const dl = html('dl', { class: 'sm-traffic-fields' });
    for (const [name, value] of eventFields(e)) dl.append(html('dt', {}, name), html('dd', {}, value));
    const parts: HTMLElement[] = [title, dl];
    if (e.preview) {
      if (e.preview.text !== undefined) {
        parts.push(html('p', { class: 'sm-traffic-subhead' }, 'As text (UTF-8)'));
        parts.push(html('pre', { tabindex: '0', class: 'sm-traffic-text', 'aria-label': 'Payload as text' }, e.preview.text));
      } else {
        parts.push(html('p', { class: 'sm-traffic-subhead' }, 'Not valid UTF-8: shown as bytes only'));
      }
      parts.push(html('p', { class: 'sm-traffic-subhead' }, 'As bytes (hex)'));
      parts.push(html('pre', { tabindex: '0', class: 'sm-traffic-hex', 'aria-label': 'Payload in hex' }, hexDump(previewBytes(e))));
    }
    const close = html('button', { type: 'button', class: 'sm-btn sm-btn-small' }, 'Close the payload');
    close.addEventListener('click', () => {
      const seq = this.selected;
      this.select(e);
      this.scrollEl.querySelector<SVGElement>(`[data-seq="${seq}"]`)?.focus();
    });
    parts.push(close);
    this.detailEl.replaceChildren(...parts);
    this.detailEl.hidden = false;
  }
}

if (!customElements.get('course-traffic')) customElements.define('course-traffic', CourseTraffic);
