// The traffic view's pure parts: batches merged into one run's traffic, lanes and rows of the
// sequence diagram (who is left of whom, which way each arrow goes, test bands, collapsing, the row
// cap, WebSocket chunks hidden under their frames), and the words on arrows and in the payload panel.
import { describe, expect, it } from 'vitest';
import { layoutTraffic, type Row } from '../../site/src/client/traffic-layout.ts';
import { emptyTraffic, mergeTraffic, type Traffic, type TrafficWireEvent } from '../../site/src/client/traffic-model.ts';
import { endpointTitle, eventFields, eventLabel, hexDump, previewBytes, PROGRAM, snippet } from '../../site/src/client/traffic-labels.ts';
import { LAYOUT } from '../../site/src/client/traffic-layout.ts';

let seq = 0;
function ev(fields: Partial<TrafficWireEvent> & Pick<TrafficWireEvent, 'endpoint' | 'kind'>): TrafficWireEvent {
  const s = seq++;
  return { seq: s, t: s, connection: 1, ...fields };
}
const text = (s: string) => ({ bytes: new TextEncoder().encode(s).length, preview: { text: s, bytes: new TextEncoder().encode(s).length } });

function traffic(events: TrafficWireEvent[], extra: Partial<Traffic> = {}): Traffic {
  return {
    endpoints: [
      { name: 'echo', role: 'server', transport: 'tcp', title: 'TCP echo' },
      { name: 'grader:alice', role: 'grader', transport: 'tcp' },
    ],
    events,
    marks: [],
    truncated: false,
    omittedEvents: 0,
    ...extra,
  };
}

const arrows = (rows: Row[]) => rows.filter((r): r is Extract<Row, { type: 'event' }> => r.type === 'event').map((r) => [r.event.kind, r.from.id, r.to.id]);

describe('layoutTraffic', () => {
  it('puts the grader clients left of the program and the servers right, and points every arrow the way it went', () => {
    seq = 0;
    const layout = layoutTraffic(
      traffic([
        ev({ endpoint: 'echo', kind: 'open' }),
        ev({ endpoint: 'echo', kind: 'data', direction: 'from-learner', ...text('Hello\nWor') }),
        ev({ endpoint: 'echo', kind: 'data', direction: 'from-learner', ...text('ld\n') }),
        ev({ endpoint: 'echo', kind: 'data', direction: 'to-learner', ...text('Hello\nWorld\n') }),
        ev({ endpoint: 'grader:alice', kind: 'open' }),
        ev({ endpoint: 'grader:alice', kind: 'data', direction: 'from-learner', ...text('hi') }),
        ev({ endpoint: 'echo', kind: 'close' }),
      ]),
    );
    expect(layout.lanes.map((l) => l.id)).toEqual(['grader:alice', PROGRAM, 'echo']);
    const x = Object.fromEntries(layout.lanes.map((l) => [l.id, l.x]));
    expect(x['grader:alice']).toBeLessThan(x[PROGRAM]);
    expect(x[PROGRAM]).toBeLessThan(x.echo);
    expect(arrows(layout.rows)).toEqual([
      ['open', PROGRAM, 'echo'],
      ['data', PROGRAM, 'echo'],
      ['data', PROGRAM, 'echo'],
      ['data', 'echo', PROGRAM],
      ['open', 'grader:alice', PROGRAM],
      ['data', PROGRAM, 'grader:alice'],
      ['close', PROGRAM, 'echo'],
    ]);
    // One row per event, top to bottom in order; the close is drawn across, without a head.
    const ys = layout.rows.map((r) => r.y);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    expect(new Set(ys).size).toBe(ys.length);
    expect(layout.rows.filter((r) => r.type === 'event' && r.across).map((r) => r.type === 'event' && r.event.kind)).toEqual(['close']);
    expect(layout.height).toBeGreaterThan(ys[ys.length - 1]);
  });

  it('starts each test with a row naming it, and bands the rows of its time', () => {
    seq = 0;
    const events = [ev({ endpoint: 'grader:alice', kind: 'open', t: 5 }), ev({ endpoint: 'grader:alice', kind: 'close', t: 9 }), ev({ endpoint: 'grader:alice', kind: 'open', t: 20 })];
    const layout = layoutTraffic(
      traffic(events, {
        marks: [
          { test: 'echo > first', start: 4, end: 10 },
          { test: 'echo > second', start: 15, end: 30 },
        ],
      }),
    );
    expect(layout.rows.map((r) => (r.type === 'mark' ? `mark:${r.test}` : r.type === 'event' ? r.event.kind : r.type))).toEqual(['mark:echo > first', 'open', 'close', 'mark:echo > second', 'open']);
    expect(layout.bands.map((b) => b.test)).toEqual(['echo > first', 'echo > second']);
    const [first, second] = layout.bands;
    expect(first.top).toBeLessThan(layout.rows[0].y);
    expect(first.bottom).toBeGreaterThan(layout.rows[2].y);
    expect(first.bottom).toBeLessThanOrEqual(second.top);
  });

  it('draws a collapsed connection as one row with its count, and counts the rows past the cap', () => {
    seq = 0;
    const events = [ev({ endpoint: 'echo', kind: 'open' }), ...Array.from({ length: 5 }, () => ev({ endpoint: 'echo', kind: 'data', direction: 'from-learner', ...text('ab') }))];
    const collapsed = layoutTraffic(traffic(events), { collapsed: new Set(['echo#1']) });
    expect(collapsed.rows).toEqual([expect.objectContaining({ type: 'collapsed', key: 'echo#1', count: 6, bytes: 10 })]);
    expect(collapsed.connections).toEqual([{ key: 'echo#1', endpoint: 'echo', connection: 1, count: 6 }]);
    const capped = layoutTraffic(traffic(events), { maxRows: 4 });
    expect(capped.rows).toHaveLength(4);
    expect(capped.hiddenRows).toBe(2);
  });

  it("draws a grader client's conversation with a reference server between their two lanes, the program's lane not involved", () => {
    seq = 0;
    const chat = (fields: Omit<Parameters<typeof ev>[0], 'endpoint'>) => ev({ endpoint: 'chat', connection: 1, ...fields });
    const grader = (fields: Omit<Parameters<typeof ev>[0], 'endpoint'>) => ev({ endpoint: 'grader:bob', connection: 2, peer: 'chat', ...fields });
    const events = [
      grader({ kind: 'open' }),
      grader({ kind: 'data', direction: 'to-learner', ...text('bob\n') }),
      grader({ kind: 'data', direction: 'from-learner', ...text('Welcome, bob!\n') }),
      chat({ kind: 'open' }),
      chat({ kind: 'data', direction: 'from-learner', ...text('ann\n') }),
      chat({ kind: 'data', direction: 'to-learner', ...text('Welcome, ann!\n') }),
      grader({ kind: 'close' }),
    ];
    const t = traffic(events, { endpoints: [{ name: 'grader:bob', role: 'grader', transport: 'tcp' }, { name: 'chat', role: 'server', transport: 'tcp', title: 'TCP chat' }] });
    const layout = layoutTraffic(t);
    // The server has its lane from the grader's first event, right of the program as servers are.
    expect(layout.lanes.map((l) => l.id)).toEqual(['grader:bob', PROGRAM, 'chat']);
    expect(arrows(layout.rows)).toEqual([
      ['open', 'grader:bob', 'chat'],
      ['data', 'grader:bob', 'chat'],
      ['data', 'chat', 'grader:bob'],
      ['open', PROGRAM, 'chat'],
      ['data', PROGRAM, 'chat'],
      ['data', 'chat', PROGRAM],
      ['close', 'grader:bob', 'chat'],
    ]);
    const folded = layoutTraffic(t, { collapsed: new Set(['grader:bob#2']) });
    expect(folded.rows.find((r) => r.type === 'collapsed')).toMatchObject({ key: 'grader:bob#2', count: 4, from: { id: 'grader:bob' }, to: { id: 'chat' } });
    expect(eventFields(events[1])).toContainEqual(['connection', 'grader:bob #2, to chat (not to your program)']);
  });

  it("shows a WebSocket connection's frames and hides the TCP chunks under them unless asked", () => {
    seq = 0;
    const events = [
      ev({ endpoint: 'echo', kind: 'open' }),
      ev({ endpoint: 'echo', kind: 'data', direction: 'from-learner', ...text('x') }),
      ev({ endpoint: 'echo', kind: 'frame', direction: 'from-learner', ...text('hi'), websocket: { opcode: 1, kind: 'text', fin: true, masked: true, rsv: 0 } }),
    ];
    expect(arrows(layoutTraffic(traffic(events)).rows).map((a) => a[0])).toEqual(['open', 'frame']);
    expect(arrows(layoutTraffic(traffic(events), { showChunksUnderFrames: true }).rows).map((a) => a[0])).toEqual(['open', 'data', 'frame']);
  });
});

describe('layoutTraffic widths', () => {
  it('brings many lanes closer to fit the panel, never closer than the minimum', () => {
    seq = 0;
    const events = Array.from({ length: 8 }, (_, i) => ev({ endpoint: `grader:c${i}`, kind: 'open' }));
    const wide = layoutTraffic(traffic(events));
    const fitted = layoutTraffic(traffic(events), { fitWidth: 1400 });
    const narrow = layoutTraffic(traffic(events), { fitWidth: 400 });
    expect(wide.laneGap).toBe(LAYOUT.laneGap);
    expect(fitted.laneGap).toBeLessThan(LAYOUT.laneGap);
    expect(fitted.width).toBeLessThanOrEqual(1400);
    expect(narrow.laneGap).toBe(LAYOUT.minLaneGap);
    expect(narrow.lanes.map((l) => l.id)).toEqual([...events.map((e) => e.endpoint), PROGRAM]);
  });
});

describe('mergeTraffic', () => {
  it('appends new events once, replaces a mark when it ends, keeps the latest truncation', () => {
    seq = 0;
    const a = ev({ endpoint: 'echo', kind: 'open' });
    const b = ev({ endpoint: 'echo', kind: 'close' });
    let t = mergeTraffic(emptyTraffic(), traffic([a], { marks: [{ test: 'x', start: 0 }] }));
    t = mergeTraffic(t, traffic([a, b], { marks: [{ test: 'x', start: 0, end: 4 }], truncated: true, omittedEvents: 3, note: 'Truncated: …' }));
    expect(t.events.map((e) => e.seq)).toEqual([0, 1]);
    expect(t.marks).toEqual([{ test: 'x', start: 0, end: 4 }]);
    expect(t).toMatchObject({ truncated: true, omittedEvents: 3, note: 'Truncated: …' });
  });
});

describe('labels', () => {
  it('names chunks, datagrams, frames and Socket.IO packets as a learner reads them', () => {
    expect(eventLabel(ev({ endpoint: 'echo', kind: 'data', ...text('Hello\nWor') }))).toBe('chunk 9 B "Hello\\nWor"');
    expect(eventLabel(ev({ endpoint: 'udp-echo', kind: 'datagram', bytes: 2, preview: { hex: 'ff00', bytes: 2 } }))).toBe('datagram 2 B ff00 (hex)');
    const close = ev({ endpoint: 'grader:a', kind: 'frame', bytes: 5, websocket: { opcode: 8, kind: 'close', fin: true, masked: false, rsv: 0, closeCode: 1000, closeReason: 'bye' } });
    expect(eventLabel(close)).toBe('close frame 1000 "bye"');
    expect(eventFields(close)).toContainEqual(['WebSocket frame', 'opcode 8 (close), FIN set, not masked']);
    const emit = ev({
      endpoint: 'socketIo',
      kind: 'frame',
      ...text('420["greet","hi"]'),
      websocket: { opcode: 1, kind: 'text', fin: true, masked: true, rsv: 0 },
      socketIo: { engineIo: 'message', socketIo: { type: 'EVENT', namespace: '/', event: 'greet', args: '["hi"]', ackId: 0 } },
    });
    expect(eventLabel(emit)).toBe('emit "greet" #0 ["hi"]');
    expect(eventFields(emit)).toEqual(expect.arrayContaining([['event', 'greet'], ['arguments', '["hi"]'], ['ack id', '0']]));
    const handshake = ev({ endpoint: 'grader:a', kind: 'handshake', ...text('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n') });
    expect(eventLabel(handshake)).toBe('HTTP 101 Switching Protocols');
  });

  it('titles lanes by what they are', () => {
    expect(endpointTitle({ name: 'grader:alice', role: 'grader', transport: 'ws' })).toEqual({ title: 'alice', subtitle: 'test client, WebSocket' });
    expect(endpointTitle({ name: 'udp-echo', role: 'server', transport: 'udp', title: 'UDP echo' })).toEqual({ title: 'udp-echo', subtitle: 'UDP echo' });
  });

  it('makes line ends and control characters visible, cuts with …, and dumps bytes as hex with ASCII', () => {
    expect(snippet('a\r\n\tb\u0001', 40)).toBe('a\\r\\n\\tb·');
    expect(snippet('abcdefgh', 5)).toBe('abcd…');
    const bytes = previewBytes(ev({ endpoint: 'echo', kind: 'data', ...text('Hé\n') }));
    expect([...bytes]).toEqual([0x48, 0xc3, 0xa9, 0x0a]);
    expect(hexDump(bytes)).toBe(`0000  48 c3 a9 0a${' '.repeat(36)}  H...`);
    expect(hexDump(new Uint8Array(17)).split('\n')).toHaveLength(2);
  });
});
