// The traffic as it leaves the server: exact byte lengths and bounded previews (text when UTF-8,
// hex otherwise, never cut inside a character), TCP chunks kept apart, UDP exchanges as datagrams,
// WebSocket frame headers, test marks, batches that give each event once, and the caps said plainly.
import { describe, expect, it } from 'vitest';
import { TRAFFIC_PREVIEW_BYTES, trafficSchema } from '../src/shapes/traffic.ts';
import { TrafficLog } from '../src/traffic/traffic-log.ts';
import { preview, serializeTraffic, TrafficReader } from '../src/traffic/traffic-wire.ts';
import { TrafficStream } from '../src/traffic/traffic-stream.ts';
import type { Traffic } from '../src/shapes/traffic.ts';

const SERVERS = [
  { name: 'echo', transport: 'tcp' as const, title: 'TCP echo' },
  { name: 'udp-echo', transport: 'udp' as const, title: 'UDP echo' },
];

describe('preview', () => {
  it('gives UTF-8 as text and anything else as hex, with the bytes it holds', () => {
    expect(preview(Buffer.from('héllo\n'))).toEqual({ text: 'héllo\n', bytes: 7 });
    expect(preview(Buffer.from([0xff, 0x00, 0x41]))).toEqual({ hex: 'ff0041', bytes: 3 });
  });

  it('cuts a long payload at TRAFFIC_PREVIEW_BYTES, never inside a character', () => {
    const long = Buffer.from('a' + 'é'.repeat(300)); // 'é' is 2 bytes: byte 256 falls inside one
    const p = preview(long);
    expect(p.bytes).toBe(TRAFFIC_PREVIEW_BYTES - 1);
    expect(p.text).toBe('a' + 'é'.repeat(127));
  });

  it('does not take a whole payload with a broken character at its end for text', () => {
    expect(preview(Buffer.from([0x41, 0xc3]))).toEqual({ hex: '41c3', bytes: 2 });
  });
});

describe('TrafficReader', () => {
  it('keeps each TCP chunk apart, with direction, time order and the endpoints that took part', () => {
    const log = new TrafficLog();
    const c = log.newConnection('echo');
    log.data('echo', c, 'from-learner', Buffer.from('Hello\nWor'));
    log.data('echo', c, 'from-learner', Buffer.from('ld\n'));
    log.data('echo', c, 'to-learner', Buffer.from('Hello\nWorld\n'));
    log.closed('echo', c, 'end');
    log.closed('echo', c, 'close');
    const traffic = serializeTraffic(log, SERVERS);
    expect(trafficSchema.parse(traffic)).toEqual(traffic);
    expect(traffic.endpoints).toEqual([{ name: 'echo', role: 'server', transport: 'tcp', title: 'TCP echo' }]);
    expect(traffic.events.map((e) => [e.seq, e.kind, e.direction, e.bytes, e.preview?.text])).toEqual([
      [0, 'open', undefined, undefined, undefined],
      [1, 'data', 'from-learner', 9, 'Hello\nWor'],
      [2, 'data', 'from-learner', 3, 'ld\n'],
      [3, 'data', 'to-learner', 12, 'Hello\nWorld\n'],
      [4, 'end', undefined, undefined, undefined],
      [5, 'close', undefined, undefined, undefined],
    ]);
    const times = traffic.events.map((e) => e.t);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(traffic.truncated).toBe(false);
    expect(traffic.note).toBeUndefined();
  });

  it('shows a UDP server exchange as datagrams, without a connection being made', () => {
    const log = new TrafficLog();
    const id = log.newConnection('udp-echo');
    log.data('udp-echo', id, 'from-learner', Buffer.from('ping'));
    log.data('udp-echo', id, 'to-learner', Buffer.from('ping'));
    const traffic = serializeTraffic(log, SERVERS);
    expect(traffic.events.map((e) => [e.kind, e.direction])).toEqual([
      ['datagram', 'from-learner'],
      ['datagram', 'to-learner'],
    ]);
    expect(traffic.endpoints[0]).toMatchObject({ name: 'udp-echo', transport: 'udp' });
  });

  it("gives a frame's header and its declared length, and a grader's WebSocket client as ws", () => {
    const log = new TrafficLog();
    const c = log.newConnection('grader:alice');
    log.handshake('grader:alice', c, 'to-learner', Buffer.from('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'));
    log.frame('grader:alice', c, 'to-learner', { fin: true, rsv: 0, opcode: 1, kind: 'text', masked: true, length: 5000, payload: Buffer.from('abc') });
    log.frame('grader:alice', c, 'from-learner', { fin: true, rsv: 0, opcode: 8, kind: 'close', masked: false, length: 5, payload: Buffer.from([3, 232, 98, 121, 101]), closeCode: 1000, closeReason: 'bye' });
    const traffic = serializeTraffic(log);
    expect(traffic.endpoints).toEqual([{ name: 'grader:alice', role: 'grader', transport: 'ws' }]);
    const [, handshake, text, close] = traffic.events;
    expect(handshake).toMatchObject({ kind: 'handshake', preview: { text: expect.stringMatching(/^GET \/ HTTP\/1\.1/) } });
    expect(text).toMatchObject({ kind: 'frame', bytes: 5000, preview: { text: 'abc', bytes: 3 }, websocket: { kind: 'text', fin: true, masked: true, opcode: 1 } });
    expect(close.websocket).toEqual({ opcode: 8, kind: 'close', fin: true, masked: false, rsv: 0, closeCode: 1000, closeReason: 'bye' });
    expect(text.socketIo).toBeUndefined();
  });

  it('gives each event once across batches, and each test mark when it starts and again when it ends', () => {
    const log = new TrafficLog();
    const reader = new TrafficReader(log, SERVERS);
    const end = log.markTest('echo > sends back');
    const c = log.newConnection('echo');
    const first = reader.next();
    expect(first.events.map((e) => e.seq)).toEqual([0]);
    expect(first.marks).toEqual([{ test: 'echo > sends back', start: expect.any(Number) }]);
    log.data('echo', c, 'from-learner', Buffer.from('x'));
    end();
    const second = reader.next();
    expect(second.events.map((e) => e.seq)).toEqual([1]);
    expect(second.marks).toEqual([{ test: 'echo > sends back', start: first.marks[0].start, end: expect.any(Number) }]);
    expect(reader.next()).toMatchObject({ events: [], marks: [] });
  });

  it('stops at its event cap and says how many events it left out', () => {
    const log = new TrafficLog();
    for (let i = 0; i < 10; i++) log.newConnection('echo');
    const traffic = new TrafficReader(log, SERVERS, 4).next();
    expect(traffic.events).toHaveLength(4);
    expect(traffic).toMatchObject({ truncated: true, omittedEvents: 6, note: expect.stringContaining('6 later events are not shown') });
  });

  it("says so when the log itself stopped recording at its byte cap", () => {
    const log = new TrafficLog(10);
    const c = log.newConnection('echo');
    log.data('echo', c, 'from-learner', Buffer.alloc(8));
    log.data('echo', c, 'from-learner', Buffer.alloc(8));
    const traffic = serializeTraffic(log, SERVERS);
    expect(traffic.events).toHaveLength(2);
    expect(traffic).toMatchObject({ truncated: true, omittedEvents: 0, note: expect.stringMatching(/^Truncated: the run exchanged more than the traffic log records/) });
  });
});

describe('TrafficStream', () => {
  it('sends what is left when it finishes, in bounded batches, every event once', () => {
    const log = new TrafficLog();
    const c = log.newConnection('echo');
    for (let i = 0; i < 1000; i++) log.data('echo', c, 'from-learner', Buffer.from([i % 256]));
    const batches: Traffic[] = [];
    const stream = new TrafficStream(log, SERVERS, (b) => batches.push(b), 60_000);
    stream.finish();
    expect(batches.length).toBeGreaterThan(1);
    expect(Math.max(...batches.map((b) => b.events.length))).toBeLessThanOrEqual(400);
    expect(batches.flatMap((b) => b.events.map((e) => e.seq))).toEqual([...Array(1001).keys()]);
  });
});
