/**
 * Where everything of a traffic sequence diagram goes: one lane (lifeline) per endpoint — the
 * grader's clients on the left, the learner's program, the reference servers on the right — and one
 * row per event, top to bottom in the order they happened, each an arrow between two lanes (or a
 * line across both for a close): the program's and the endpoint's, or for a grader's client that
 * talks to a reference server (its events' `peer`), the grader's and that server's. A grading test's events lie in a band that starts with a row naming
 * the test. A collapsed connection is one row; past `maxRows` rows the rest are counted, not drawn.
 * Pure (no DOM), so it is unit-tested; traffic-view.ts draws it.
 */
import { connectionKey, type Traffic, type TrafficEndpoint, type TrafficWireEvent } from './traffic-model.ts';
import { PROGRAM } from './traffic-labels.ts';

/** Lanes are this far apart, or less (down to minLaneGap) to fit `fitWidth`. */
export const LAYOUT = { laneGap: 190, minLaneGap: 130, timeColumn: 72, headerHeight: 54, rowHeight: 30, margin: 12 } as const;

export interface Lane {
  /** The endpoint's name, or PROGRAM. */
  id: string;
  endpoint?: TrafficEndpoint;
  x: number;
}

export type Row =
  | { type: 'event'; y: number; event: TrafficWireEvent; from: Lane; to: Lane; /** a close or FIN: a line across, no arrowhead */ across: boolean }
  | { type: 'collapsed'; y: number; key: string; count: number; bytes: number; from: Lane; to: Lane }
  | { type: 'mark'; y: number; mark: number; test: string };

type WithoutY<T> = T extends unknown ? Omit<T, 'y'> : never;

export interface Band {
  /** Index in traffic.marks. */
  mark: number;
  test: string;
  top: number;
  bottom: number;
}

export interface Layout {
  lanes: Lane[];
  rows: Row[];
  bands: Band[];
  laneGap: number;
  width: number;
  /** Rows lie below headerHeight, where the lanes' titles are. */
  height: number;
  /** Rows left out past maxRows. */
  hiddenRows: number;
  /** Each connection with its number of events (for the collapse controls), in order of appearance. */
  connections: { key: string; endpoint: string; connection: number; count: number }[];
}

export interface LayoutOptions {
  /** Connections drawn as one row. */
  collapsed?: ReadonlySet<string>;
  /** Show the TCP chunks of connections that carry WebSocket frames (the frames alone by default). */
  showChunksUnderFrames?: boolean;
  maxRows?: number;
  /** The width to fit the lanes in, if they can be brought closer (to LAYOUT.minLaneGap). */
  fitWidth?: number;
}

export function layoutTraffic(traffic: Traffic, options: LayoutOptions = {}): Layout {
  const { collapsed = new Set<string>(), showChunksUnderFrames = false, maxRows = Infinity, fitWidth = Infinity } = options;
  const lanes = placeLanes(traffic, fitWidth);
  const laneGap = lanes.length > 1 ? lanes[1].x - lanes[0].x : LAYOUT.laneGap;
  const lane = new Map(lanes.map((l) => [l.id, l]));
  const program = lane.get(PROGRAM)!;

  const withFrames = new Set(traffic.events.filter((e) => e.kind === 'frame').map(connectionKey));
  const connections = new Map<string, { key: string; endpoint: string; connection: number; count: number }>();
  for (const e of traffic.events) {
    const key = connectionKey(e);
    const c = connections.get(key) ?? { key, endpoint: e.endpoint, connection: e.connection, count: 0 };
    c.count += 1;
    connections.set(key, c);
  }

  const rows: Row[] = [];
  let hiddenRows = 0;
  let y = LAYOUT.headerHeight + LAYOUT.rowHeight / 2;
  const add = (row: WithoutY<Row>): boolean => {
    if (rows.length >= maxRows) {
      hiddenRows += 1;
      return false;
    }
    rows.push({ ...row, y } as Row);
    y += LAYOUT.rowHeight;
    return true;
  };

  // Marks in order of start; each begins before the first event at or after its start.
  const marks = traffic.marks.map((m, i) => ({ ...m, index: i })).sort((a, b) => a.start - b.start);
  let nextMark = 0;
  const bandRows = new Map<number, { first: number; last: number }>();
  const collapsedShown = new Set<string>();
  const inMark = (t: number) => marks.filter((m) => t >= m.start && (m.end === undefined || t <= m.end));

  const startMarksUpTo = (t: number) => {
    while (nextMark < marks.length && marks[nextMark].start <= t) {
      const m = marks[nextMark++];
      if (add({ type: 'mark', mark: m.index, test: m.test })) bandRows.set(m.index, { first: rows.length - 1, last: rows.length - 1 });
    }
  };

  for (const e of traffic.events) {
    startMarksUpTo(e.t);
    const key = connectionKey(e);
    if (e.kind === 'data' && withFrames.has(key) && !showChunksUnderFrames) continue;
    const other = lane.get(e.endpoint)!;
    const counterpart = e.peer !== undefined ? lane.get(e.peer)! : program;
    let added: boolean;
    if (collapsed.has(key)) {
      if (collapsedShown.has(key)) continue;
      collapsedShown.add(key);
      const events = traffic.events.filter((x) => connectionKey(x) === key);
      const bytes = events.reduce((sum, x) => sum + (x.kind === 'frame' || x.kind === 'datagram' || (x.kind === 'data' && !withFrames.has(key)) ? (x.bytes ?? 0) : 0), 0);
      const [from, to] = other.endpoint?.role === 'grader' ? [other, counterpart] : [program, other];
      added = add({ type: 'collapsed', key, count: events.length, bytes, from, to });
    } else {
      added = add({ type: 'event', event: e, ...ends(e, counterpart, other), across: e.kind === 'close' || e.kind === 'end' });
    }
    if (!added) continue;
    for (const m of inMark(e.t)) {
      const band = bandRows.get(m.index);
      if (band) band.last = rows.length - 1;
    }
  }
  startMarksUpTo(Infinity);

  const bands: Band[] = [...bandRows].map(([mark, { first, last }]) => ({
    mark,
    test: traffic.marks[mark].test,
    top: rows[first].y - LAYOUT.rowHeight / 2,
    bottom: rows[last].y + LAYOUT.rowHeight / 2,
  }));
  const width = LAYOUT.timeColumn + lanes.length * laneGap + LAYOUT.margin;
  return { lanes, rows, bands, laneGap, width, height: y - LAYOUT.rowHeight / 2 + LAYOUT.margin, hiddenRows, connections: [...connections.values()] };
}

/** Grader clients (left), the program, servers (right), each in order of its first event (a server also of the first a grader's client sent it). */
function placeLanes(traffic: Traffic, fitWidth: number): Lane[] {
  const seen = new Set(traffic.events.flatMap((e) => (e.peer !== undefined ? [e.endpoint, e.peer] : [e.endpoint])));
  const order = [...seen];
  const info = new Map(traffic.endpoints.map((e) => [e.name, e]));
  const endpointOf = (name: string): TrafficEndpoint => info.get(name) ?? { name, role: name.startsWith('grader:') ? 'grader' : 'server' };
  const graders = order.filter((n) => endpointOf(n).role === 'grader');
  const servers = order.filter((n) => endpointOf(n).role !== 'grader');
  const ids = [...graders, PROGRAM, ...servers];
  const fitting = Math.floor((fitWidth - LAYOUT.timeColumn - LAYOUT.margin) / ids.length);
  const gap = Math.max(LAYOUT.minLaneGap, Math.min(LAYOUT.laneGap, fitting));
  const x0 = LAYOUT.timeColumn + gap / 2;
  return ids.map((id, i) => ({ id, x: x0 + i * gap, ...(id !== PROGRAM && { endpoint: endpointOf(id) }) }));
}

/**
 * From which lane to which an event goes; a connect goes from whoever connects. `counterpart`: the
 * program's lane, or the server's that a grader's client talks to (whose directions are the grader's).
 */
function ends(e: TrafficWireEvent, counterpart: Lane, other: Lane): { from: Lane; to: Lane } {
  const graderSide = other.endpoint?.role === 'grader';
  if (e.direction === 'from-learner') return { from: counterpart, to: other };
  if (e.direction === 'to-learner') return { from: other, to: counterpart };
  return graderSide ? { from: other, to: counterpart } : { from: counterpart, to: other };
}
