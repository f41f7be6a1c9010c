/**
 * <course-dashboard>: the WebSockets section's dashboard as a working widget on the shared
 * dashboard server (/live/dashboard, DASHBOARD-PROTOCOL.md): it subscribes to every metric, draws
 * CPU and memory use and the load average as live charts (uPlot, loaded when the widget comes
 * near the viewport) and lists the latest values as text. Pause unsubscribes, Resume subscribes
 * again (the server answers with a snapshot at once). The numbers are the course server's own,
 * the same for everyone watching; "watching" counts the connections to the dashboard server.
 */
import type uPlot from 'uplot';
import { describeClose, injectCss, isDark, liveUrl, onJsonMessage, onThemeChange, whenNearView } from './live-socket';

const METRICS = ['cpu', 'memory', 'load', 'uptime', 'connections'] as const;
/** Points kept per chart: two minutes at the shared server's one tick a second. */
const MAX_POINTS = 120;

interface Values {
  cpu?: number | null;
  memory?: { totalBytes: number; freeBytes: number; usedBytes: number; usedPercent: number };
  load?: [number, number, number];
  uptime?: number;
  connections?: number;
}
type ServerMessage =
  | { type: 'welcome'; metrics: string[]; intervalMs: number; tick: number }
  | { type: 'tick' | 'snapshot'; tick: number; time: number; values: Values }
  | { type: 'unsubscribed'; metrics: string[]; subscribed: string[] }
  | { type: 'error'; message: string };

const SERIES = {
  usage: [
    { label: 'CPU %', stroke: '#e76f51' },
    { label: 'memory %', stroke: '#2a9d8f' },
  ],
  load: [
    { label: '1 min', stroke: '#5b7cfa' },
    { label: '5 min', stroke: '#d08c00' },
    { label: '15 min', stroke: '#b36ad6' },
  ],
};

const axisColour = () => (isDark() ? '#c9cbd1' : '#3b3e46');
const gridColour = () => (isDark() ? 'rgba(255,255,255,0.12)' : 'rgba(0,0,0,0.1)');

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}

class CourseDashboard extends HTMLElement {
  private ws?: WebSocket;
  private charts: uPlot[] = [];
  private uPlotClass?: typeof uPlot;
  /** [time, cpu, memory] and [time, load1, load5, load15], as uPlot wants its data: one array per series. */
  private usage: [number[], (number | null)[], (number | null)[]] = [[], [], []];
  private load: [number[], number[], number[], number[]] = [[], [], [], []];
  private lastTick = -1;
  private paused = false;
  /** Unsubscribed because the page is hidden (a background tab needs no ticks); subscribed again when shown. */
  private hiddenPause = false;

  connectedCallback() {
    this.button('pause').addEventListener('click', () => this.togglePause());
    this.button('connect').addEventListener('click', () => this.connect());
    document.addEventListener('visibilitychange', () => this.pageVisibility());
    whenNearView(this, () =>
      this.start().catch((err: Error) => this.status(`The charts could not load (${err.message}). Reload the page to try again.`)),
    );
  }

  disconnectedCallback() {
    this.ws?.close(1000, 'page closed');
  }

  private button(action: string) {
    return this.querySelector<HTMLButtonElement>(`[data-action="${action}"]`)!;
  }

  private status(text: string) {
    this.querySelector('[data-status]')!.textContent = text;
  }

  private async start() {
    const [{ default: UPlot }, css] = await Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css?inline').then((m) => m.default as string)]);
    injectCss('uplot', css);
    this.uPlotClass = UPlot;
    this.charts = [this.makeChart('usage', SERIES.usage, { min: 0, max: 100 }), this.makeChart('load', SERIES.load)];
    new ResizeObserver(() => this.resize()).observe(this);
    onThemeChange(() => this.charts.forEach((c) => c.redraw(false, true)));
    this.connect();
  }

  private makeChart(name: 'usage' | 'load', series: Array<{ label: string; stroke: string }>, range?: { min: number; max: number }): uPlot {
    const host = this.querySelector<HTMLElement>(`[data-chart="${name}"]`)!;
    host.textContent = '';
    const axis = { stroke: axisColour, grid: { stroke: gridColour, width: 1 }, ticks: { stroke: gridColour, width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(200, host.clientWidth),
      height: 160,
      legend: { show: false }, // the values are listed as text below the charts
      cursor: { show: false },
      scales: { x: { time: true }, y: range ? { range: [range.min, range.max] } : { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max))] } },
      axes: [axis, { ...axis, size: 44 }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: false, points: { show: false } }))],
    };
    return new this.uPlotClass!(options, (name === 'usage' ? this.usage : this.load) as uPlot.AlignedData, host);
  }

  private resize() {
    for (const chart of this.charts) {
      const width = Math.max(200, chart.root.parentElement!.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: 160 });
    }
  }

  private connect() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const ws = new WebSocket(liveUrl('dashboard'));
    this.ws = ws;
    this.button('connect').hidden = true;
    this.status('Connecting to the shared dashboard server…');
    onJsonMessage<ServerMessage>(ws, (message) => {
      this.receive(message);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.button('pause').disabled = true;
      this.button('connect').hidden = false;
      delete this.dataset.live;
      this.status(`${describeClose(event.code, event.reason)} Press Reconnect to watch again.`);
    });
  }

  private receive(message: ServerMessage) {
    switch (message.type) {
      case 'welcome':
        this.paused = false;
        this.hiddenPause = false;
        this.subscribe();
        this.button('pause').disabled = false;
        this.button('pause').textContent = 'Pause';
        this.dataset.live = '';
        this.status(`Live: the course server's numbers, a new point every ${message.intervalMs / 1000} s.`);
        return;
      case 'snapshot':
      case 'tick':
        return this.addPoint(message.tick, message.time, message.values);
      case 'unsubscribed':
        // From here on the server sends no ticks (nothing is subscribed) until the next subscribe.
        if (message.subscribed.length === 0) this.dataset.paused = '';
        return;
      case 'error':
        this.status(`The dashboard server refused a request: ${message.message}.`);
    }
  }

  private subscribe() {
    delete this.dataset.paused;
    this.ws?.send(JSON.stringify({ type: 'subscribe', metrics: METRICS }));
  }

  private pageVisibility() {
    if (this.paused || !this.ws) return;
    if (document.hidden) {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      this.hiddenPause = true;
      this.ws.send(JSON.stringify({ type: 'unsubscribe', metrics: METRICS }));
    } else if (this.hiddenPause) {
      this.hiddenPause = false;
      // Hidden for long, the server closed the unsubscribed connection: open a new one.
      if (this.ws.readyState === WebSocket.OPEN) this.subscribe();
      else this.connect();
    }
  }

  private togglePause() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.paused = !this.paused;
    if (this.paused) this.ws.send(JSON.stringify({ type: 'unsubscribe', metrics: METRICS }));
    else this.subscribe();
    this.button('pause').textContent = this.paused ? 'Resume' : 'Pause';
    this.button('pause').setAttribute('aria-pressed', String(this.paused));
    this.status(this.paused ? 'Paused: no new points until you resume.' : 'Live again.');
  }

  private addPoint(tick: number, time: number, values: Values) {
    if (tick === this.lastTick) return; // a snapshot of the tick already shown
    this.lastTick = tick;
    const t = time / 1000;
    const [ut, cpu, mem] = this.usage;
    ut.push(t);
    cpu.push(values.cpu ?? null);
    mem.push(values.memory?.usedPercent ?? null);
    const [lt, l1, l5, l15] = this.load;
    const load = values.load ?? [0, 0, 0];
    lt.push(t);
    l1.push(load[0]);
    l5.push(load[1]);
    l15.push(load[2]);
    for (const series of [...this.usage, ...this.load]) if (series.length > MAX_POINTS) series.shift();
    this.charts[0]?.setData(this.usage as uPlot.AlignedData);
    this.charts[1]?.setData(this.load as uPlot.AlignedData);
    this.dataset.points = String(ut.length);
    this.dataset.tick = String(tick);
    this.readout('cpu', values.cpu == null ? 'not measured yet' : `${values.cpu.toFixed(1)} %`);
    this.readout('memory', values.memory ? `${values.memory.usedPercent.toFixed(1)} % (${gib(values.memory.usedBytes)} of ${gib(values.memory.totalBytes)})` : '–');
    this.readout('load', values.load ? values.load.map((n) => n.toFixed(2)).join(' · ') : '–');
    this.readout('uptime', values.uptime === undefined ? '–' : duration(values.uptime));
    this.readout('connections', values.connections === undefined ? '–' : String(values.connections));
  }

  private readout(name: string, text: string) {
    const dd = this.querySelector(`[data-readout="${name}"]`);
    if (dd) dd.textContent = text;
  }
}

if (!customElements.get('course-dashboard')) customElements.define('course-dashboard', CourseDashboard);
