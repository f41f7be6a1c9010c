// Engine.IO long-polling in the traffic log: the tap reads the HTTP messages of a connection (each
// head, a polling body as its packets) besides its chunks, the same however the bytes are cut; the
// wire decodes each packet as a WebSocket message's (a binary packet's attachments follow it across
// requests of its session); what is not HTTP stays bytes; and a real socket.io-client with its default
// transports, against the course's Socket.IO server, shows its CONNECT, an emit and its ack over
// polling, then the upgrade and frames.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { io as connectClient } from 'socket.io-client';
import { trafficSchema, type TrafficWireEvent } from '../src/shapes/traffic.ts';
import { SocketIoReferenceServer } from '../src/reference-servers/socket-io.ts';
import { TrafficLog, type TrafficDirection } from '../src/traffic/traffic-log.ts';
import { serializeTraffic } from '../src/traffic/traffic-wire.ts';
import { WebSocketTap } from '../src/traffic/websocket-tap.ts';

const SERVERS = [{ name: 'sio', transport: 'socket.io' as const }];

/** What crossed, as the tap is fed it: a direction and its bytes, in order. */
type Script = [TrafficDirection, string][];

const post = (sid: string, body: string) =>
  `POST /socket.io/?EIO=4&transport=polling&t=1&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const get = (sid?: string) => `GET /socket.io/?EIO=4&transport=polling&t=2${sid ? `&sid=${sid}` : ''} HTTP/1.1\r\nHost: x\r\n\r\n`;
const ok = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok';
const payload = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** Feeds `script` to a tap on a new connection of `log`, each direction's bytes cut by `cut`. */
function feed(log: TrafficLog, script: Script, cut: (bytes: Buffer) => Buffer[]): void {
  const tap = new WebSocketTap(log, 'sio', log.newConnection('sio'), undefined, 'from-learner');
  for (const [direction, text] of script) for (const piece of cut(Buffer.from(text))) tap.push(direction, piece);
}

const CUTS: Record<string, (bytes: Buffer) => Buffer[]> = {
  whole: (b) => [b],
  'byte at a time': (b) => [...b].map((x) => Buffer.from([x])),
  'in 7-byte pieces': (b) => Array.from({ length: Math.ceil(b.length / 7) }, (_, i) => b.subarray(i * 7, i * 7 + 7)),
};

/** The events besides chunks and opens, as [kind, direction, what they say]. */
function decoded(events: TrafficWireEvent[]): [string, string | undefined, unknown][] {
  return events
    .filter((e) => e.kind !== 'data' && e.kind !== 'open')
    .map((e) => [e.kind, e.direction, e.kind === 'packet' ? { polling: e.polling, socketIo: e.socketIo } : (e.preview?.text ?? '').split('\r\n')[0]]);
}

/** The chunks' bytes, per direction, joined. */
const chunkText = (events: TrafficWireEvent[], direction: TrafficDirection) =>
  events
    .filter((e) => e.kind === 'data' && e.direction === direction)
    .map((e) => e.preview?.text ?? '')
    .join('');

describe('the tap on an Engine.IO long-polling connection', () => {
  // A keep-alive connection: an emit with an ack and a binary emit in one POST, its attachment in the next.
  const KEEP_ALIVE: Script = [
    ['from-learner', post('s1', '420["echo","hi"]\x1e451-1["bin",{"_placeholder":true,"num":0}]')],
    ['to-learner', ok],
    ['from-learner', post('s1', 'bAQID')],
    ['to-learner', ok],
    ['from-learner', get('s1')],
    ['to-learner', payload('430["hi"]\x1e2')],
  ];
  const EXPECTED = [
    ['http', 'from-learner', 'POST /socket.io/?EIO=4&transport=polling&t=1&sid=s1 HTTP/1.1'],
    ['packet', 'from-learner', { polling: { index: 1, binary: false }, socketIo: { engineIo: 'message', socketIo: { type: 'EVENT', namespace: '/', event: 'echo', args: '["hi"]', ackId: 0 } } }],
    ['packet', 'from-learner', { polling: { index: 2, binary: false }, socketIo: { engineIo: 'message', socketIo: { type: 'BINARY_EVENT', namespace: '/', event: 'bin', args: '[{"_placeholder":true,"num":0}]', ackId: 1, attachments: 1 } } }],
    ['http', 'to-learner', 'HTTP/1.1 200 OK'],
    ['http', 'from-learner', 'POST /socket.io/?EIO=4&transport=polling&t=1&sid=s1 HTTP/1.1'],
    ['packet', 'from-learner', { polling: { index: 1, binary: true }, socketIo: { engineIo: 'message', attachment: { index: 1, of: 1 } } }],
    ['http', 'to-learner', 'HTTP/1.1 200 OK'],
    ['http', 'from-learner', 'GET /socket.io/?EIO=4&transport=polling&t=2&sid=s1 HTTP/1.1'],
    ['http', 'to-learner', 'HTTP/1.1 200 OK'],
    ['packet', 'to-learner', { polling: { index: 1, binary: false }, socketIo: { engineIo: 'message', socketIo: { type: 'ACK', namespace: '/', args: '["hi"]', ackId: 0 } } }],
    ['packet', 'to-learner', { polling: { index: 2, binary: false }, socketIo: { engineIo: 'ping' } }],
    ['close', undefined, ''],
  ];

  it.each(Object.keys(CUTS))('records each head and each packet of the bodies, %s, and every chunk as it came', (cut) => {
    const log = new TrafficLog();
    feed(log, KEEP_ALIVE, CUTS[cut]);
    log.closed('sio', 1, 'close');
    const traffic = serializeTraffic(log, SERVERS);
    expect(trafficSchema.parse(traffic)).toEqual(traffic);
    expect(decoded(traffic.events)).toEqual(EXPECTED);
    // The chunks are kept as they crossed: as many as were pushed, and together all the bytes.
    const pushed = KEEP_ALIVE.reduce((n, [, text]) => n + CUTS[cut](Buffer.from(text)).length, 0);
    expect(traffic.events.filter((e) => e.kind === 'data')).toHaveLength(pushed);
    for (const direction of ['from-learner', 'to-learner'] as const) {
      expect(chunkText(traffic.events, direction)).toBe(KEEP_ALIVE.filter(([d]) => d === direction).map(([, t]) => t).join(''));
    }
    // A packet's length is its own in the body; a head's, the head's.
    const packets = traffic.events.filter((e) => e.kind === 'packet');
    expect(packets.map((e) => e.bytes)).toEqual([16, 42, 5, 9, 1]);
  });

  it('reads requests and answers that share a chunk, and a chunked answer, with the open packet of a new session', () => {
    const log = new TrafficLog();
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n0{"s\r\n12\r\nid":"s2","x":1}\x1e40\r\n0\r\n\r\n';
    feed(log, [
      ['from-learner', get() + post('s2', '40')],
      ['to-learner', chunked + ok],
    ], CUTS.whole);
    const traffic = serializeTraffic(log, SERVERS);
    expect(decoded(traffic.events)).toEqual([
      ['http', 'from-learner', 'GET /socket.io/?EIO=4&transport=polling&t=2 HTTP/1.1'],
      ['http', 'from-learner', 'POST /socket.io/?EIO=4&transport=polling&t=1&sid=s2 HTTP/1.1'],
      ['packet', 'from-learner', { polling: { index: 1, binary: false }, socketIo: { engineIo: 'message', socketIo: { type: 'CONNECT', namespace: '/' } } }],
      ['http', 'to-learner', 'HTTP/1.1 200 OK'],
      ['packet', 'to-learner', { polling: { index: 1, binary: false }, socketIo: { engineIo: 'open', engineIoData: '{"sid":"s2","x":1}' } }],
      ['packet', 'to-learner', { polling: { index: 2, binary: false }, socketIo: { engineIo: 'message', socketIo: { type: 'CONNECT', namespace: '/' } } }],
      ['http', 'to-learner', 'HTTP/1.1 200 OK'],
    ]);
  });

  it("follows a binary packet's attachment into its session's next POST on another connection", () => {
    const log = new TrafficLog();
    feed(log, [['from-learner', post('s3', '451-["bin",{"_placeholder":true,"num":0}]')], ['to-learner', ok]], CUTS.whole);
    feed(log, [['from-learner', post('s3', 'bAQID')], ['to-learner', ok]], CUTS.whole);
    // Another session's binary data is not taken for that attachment.
    feed(log, [['from-learner', post('other', 'bAQID')]], CUTS.whole);
    const infos = serializeTraffic(log, SERVERS).events.filter((e) => e.kind === 'packet').map((e) => [e.connection, e.socketIo]);
    expect(infos).toEqual([
      [1, { engineIo: 'message', socketIo: { type: 'BINARY_EVENT', namespace: '/', event: 'bin', args: '[{"_placeholder":true,"num":0}]', attachments: 1 } }],
      [2, { engineIo: 'message', attachment: { index: 1, of: 1 } }],
      [3, { engineIo: 'message', error: 'binary data that no binary packet announced' }],
    ]);
  });

  it.each(Object.keys(CUTS))('records a malformed request as its bytes and nothing else (%s)', (cut) => {
    const log = new TrafficLog();
    const malformed = 'POST /socket.io/?EIO=4&transport=polling&sid=s1 HTTP/1.1\r\nContent-Length: 2x\r\n\r\n40' + post('s1', '41');
    feed(log, [['from-learner', malformed]], CUTS[cut]);
    const events = serializeTraffic(log, SERVERS).events;
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(['open', 'data']));
    expect(chunkText(events, 'from-learner')).toBe(malformed);
  });

  it('records a head that never ends as bytes only, holding none of it, and goes on recording chunks', () => {
    const log = new TrafficLog(10 * 1024 * 1024);
    const tap = new WebSocketTap(log, 'sio', log.newConnection('sio'), undefined, 'from-learner');
    tap.push('from-learner', Buffer.from('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n'));
    const line = Buffer.from(`X-Padding: ${'a'.repeat(1000)}\r\n`);
    for (let i = 0; i < 200; i++) expect(() => tap.push('from-learner', line)).not.toThrow();
    tap.push('to-learner', Buffer.from(payload('0{}')));
    const kinds = log.events.map((e) => e.event);
    expect(kinds.filter((k) => k === 'data')).toHaveLength(202);
    // The answer is read (its side is fine), but it answers no polling request the tap knows of.
    expect(kinds.filter((k) => k !== 'data')).toEqual(['open', 'http']);
  });

  it('reads no body of an answer to an upgrade request, which refuses it, and nothing more on that connection', () => {
    const log = new TrafficLog();
    feed(log, [
      ['from-learner', 'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
      ['to-learner', 'HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 200 OK\r\n\r\n'],
    ], CUTS.whole);
    expect(decoded(serializeTraffic(log, SERVERS).events).map(([kind, , line]) => `${kind} ${line}`)).toEqual([
      'handshake GET /socket.io/?EIO=4&transport=websocket HTTP/1.1',
      'handshake HTTP/1.1 400 Bad Request',
    ]);
  });
});

describe('a real socket.io-client with its default transports, against the course server', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('shows the open, the CONNECT, an emit and its ack over polling, then the upgrade, and frames after it', async () => {
    const log = new TrafficLog();
    const server = new SocketIoReferenceServer(log);
    const port = await server.listen(0);
    closers.push(() => server.close());
    // The WebSocket's connection waits until the emit over polling was answered: otherwise the
    // upgrade races with it, and the emit could go either way.
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    class HeldAgent extends http.Agent {
      override createConnection(options: net.NetConnectOpts, callback?: (err: Error | null, socket: net.Socket) => void): undefined {
        void answered.then(() => callback!(null, net.connect(options)));
        return undefined;
      }
    }
    const socket = connectClient(`http://127.0.0.1:${port}`, { auth: { name: 'Ada' }, reconnection: false, transportOptions: { websocket: { agent: new HeldAgent() } } });
    closers.push(async () => void socket.disconnect());
    expect(await socket.emitWithAck('echo', 'over polling')).toBe('over polling');
    const upgraded = new Promise((resolve) => socket.io.engine.once('upgrade', resolve));
    release();
    await upgraded;
    expect(await socket.emitWithAck('echo', 'over websocket')).toBe('over websocket');

    const events = serializeTraffic(log, [{ name: 'socketIo', transport: 'socket.io' }]).events;
    const said = events
      // A noop ends the pending GET when the probe comes, if a GET is pending then.
      .filter((e) => (e.kind === 'packet' || e.kind === 'frame') && e.socketIo && e.socketIo.engineIo !== 'noop')
      .map((e) => `${e.kind} ${e.direction} ${e.socketIo!.socketIo ? `${e.socketIo!.socketIo.type} ${e.socketIo!.socketIo.event ?? ''}${e.socketIo!.socketIo.args ?? ''}` : e.socketIo!.engineIo}`.trim());
    expect(said).toEqual([
      'packet to-learner open',
      'packet from-learner CONNECT {"name":"Ada"}',
      expect.stringMatching(/^packet to-learner CONNECT \{"sid":/),
      expect.stringMatching(/^packet to-learner EVENT welcome\[/),
      'packet from-learner EVENT echo["over polling"]',
      'packet to-learner ACK ["over polling"]',
      // The probe over the WebSocket, the upgrade, then Socket.IO over frames.
      'frame from-learner ping',
      'frame to-learner pong',
      'frame from-learner upgrade',
      'frame from-learner EVENT echo["over websocket"]',
      'frame to-learner ACK ["over websocket"]',
    ]);
    // Each polling packet comes after its HTTP head on its connection; the upgrade's request is a handshake.
    const upgrade = events.findIndex((e) => e.kind === 'handshake' && e.direction === 'from-learner');
    expect(events[upgrade].preview?.text).toMatch(/^GET \/socket\.io\/\?EIO=4&transport=websocket&sid=/);
    expect(events.findIndex((e) => e.kind === 'frame')).toBeGreaterThan(upgrade);
  });
});
