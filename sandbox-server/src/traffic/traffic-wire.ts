// Turns a run's traffic log into what leaves the server (shapes/traffic.ts): each event with its
// exact byte length, a bounded preview of its payload (text when UTF-8, hex otherwise), a WebSocket
// frame's header, on Socket.IO connections the Engine.IO and Socket.IO packets decoded (of WebSocket
// messages and of long-polling bodies), and on a
// grader client's connection to a reference server that server as its `peer`. Read in
// batches (`next()` gives what was recorded since the last call), so the same reader both streams a
// run while it goes and, from a fresh reader, gives the whole of it at the end.
import { isUtf8 } from 'node:buffer';
import { TRAFFIC_MAX_EVENTS, TRAFFIC_PREVIEW_BYTES, type Traffic, type TrafficEndpoint, type TrafficPreview, type TrafficWireEvent } from '../shapes/traffic.ts';
import { isEngineIoRequest, SocketIoMessageDecoder } from './socket-io-packets.ts';
import type { TrafficEvent, TrafficLog, TrafficMark } from './traffic-log.ts';

/** A reference server of the run, as the view names it; endpoints not listed are the grader's clients ("grader:<label>"). */
export type ServerEndpoint = Omit<TrafficEndpoint, 'role'>;

interface ConnectionState {
  /** The reference server a grader's client talks to (from its open). */
  peer?: string;
  socketIo?: Record<'to-learner' | 'from-learner', SocketIoMessageDecoder>;
}

const GRADER_PREFIX = 'grader:';

export class TrafficReader {
  private read = 0;
  private sent = 0;
  private omitted = 0;
  /** The end each mark had when it was last sent (null: sent while running). */
  private readonly marksSent = new Map<TrafficMark, number | null>();
  private readonly connections = new Map<string, ConnectionState>();
  /**
   * The decoders of long-polling packets, one per Engine.IO session and direction: a binary packet's
   * attachments may come in a later request than the packet (the client sends what it has, then
   * the rest in its next POST), on another TCP connection.
   */
  private readonly pollingDecoders = new Map<string, SocketIoMessageDecoder>();
  private readonly endpoints = new Map<string, TrafficEndpoint>();
  private readonly servers: Map<string, ServerEndpoint>;

  constructor(
    private readonly log: TrafficLog,
    servers: ServerEndpoint[] = [],
    private readonly maxEvents = TRAFFIC_MAX_EVENTS,
  ) {
    this.servers = new Map(servers.map((s) => [s.name, s]));
  }

  /** What was recorded since the last call: new events, marks new or ended since; endpoints and counts as they are now. */
  next(maxBatch = Infinity): Traffic {
    const events: TrafficWireEvent[] = [];
    while (this.read < this.log.events.length && events.length < maxBatch) {
      const seq = this.read++;
      const event = this.log.events[seq];
      if (this.isArtifact(event)) continue;
      if (this.sent >= this.maxEvents) {
        this.omitted += 1;
        continue;
      }
      const wire = this.convert(event, seq);
      this.sent += 1;
      this.noteEndpoint(wire);
      events.push(wire);
    }
    const marks = this.log.marks.filter((mark) => !this.marksSent.has(mark) || this.marksSent.get(mark) !== (mark.end ?? null));
    for (const mark of marks) this.marksSent.set(mark, mark.end ?? null);
    const truncated = this.log.truncated || this.omitted > 0;
    return {
      endpoints: [...this.endpoints.values()],
      events,
      marks: marks.map((m) => ({ ...m })),
      truncated,
      omittedEvents: this.omitted,
      ...(truncated && { note: this.note() }),
    };
  }

  /** Whether events were recorded that next() has not given yet. */
  get pending(): boolean {
    return this.read < this.log.events.length;
  }

  private note(): string {
    const parts: string[] = [];
    if (this.log.truncated) parts.push('the run exchanged more than the traffic log records (256 KiB of payload or 20,000 events), so later traffic is missing');
    if (this.omitted > 0) parts.push(`${this.omitted} later events are not shown (at most ${this.maxEvents} are sent)`);
    return `Truncated: ${parts.join('; ')}.`;
  }

  /** Each datagram exchange is numbered like a connection in the log, with an open; no connection was made. */
  private isArtifact(event: TrafficEvent): boolean {
    return this.isDatagramEndpoint(event.endpoint) && event.event !== 'data';
  }

  private isDatagramEndpoint(endpoint: string): boolean {
    return this.servers.get(endpoint)?.transport === 'udp';
  }

  private convert(event: TrafficEvent, seq: number): TrafficWireEvent {
    const datagrams = this.isDatagramEndpoint(event.endpoint);
    const wire: TrafficWireEvent = {
      seq,
      t: event.t,
      endpoint: event.endpoint,
      connection: event.connection,
      kind: datagrams ? 'datagram' : event.event,
      ...(event.direction && { direction: event.direction }),
    };
    if (event.bytes) {
      wire.bytes = event.frame ? event.frame.length : event.bytes.length;
      wire.preview = preview(event.bytes);
    }
    const state = this.connection(event);
    if (event.peer !== undefined) state.peer = event.peer;
    if (state.peer !== undefined) wire.peer = state.peer;
    if (event.event === 'handshake' && event.bytes && isEngineIoRequest(event.bytes.toString('latin1'))) {
      state.socketIo = { 'to-learner': new SocketIoMessageDecoder(), 'from-learner': new SocketIoMessageDecoder() };
    }
    if (event.frame) {
      const { opcode, kind, fin, masked, rsv, closeCode, closeReason } = event.frame;
      wire.websocket = { opcode, kind, fin, masked, rsv, ...(closeCode !== undefined && { closeCode }), ...(closeReason && { closeReason }) };
      // A whole text or binary message (socket.io never fragments its messages).
      if (state.socketIo && event.direction && fin && (opcode === 0x1 || opcode === 0x2)) {
        wire.socketIo = state.socketIo[event.direction].decode({ binary: opcode === 0x2, payload: event.bytes ?? Buffer.alloc(0), length: event.frame.length });
      }
    }
    if (event.packet && event.direction) {
      const { index, binary, length, session } = event.packet;
      wire.bytes = length;
      wire.polling = { index, binary };
      wire.socketIo = this.pollingDecoder(event, session).decode({ binary, payload: event.bytes ?? Buffer.alloc(0), length });
    }
    return wire;
  }

  /** A packet of a request that names no session (the one opening it, and its answer) has its connection's decoder. */
  private pollingDecoder(event: TrafficEvent, session: string | undefined): SocketIoMessageDecoder {
    const key = [event.endpoint, session === undefined ? `connection ${event.connection}` : `session ${session}`, event.direction].join('\n');
    let decoder = this.pollingDecoders.get(key);
    if (!decoder) this.pollingDecoders.set(key, (decoder = new SocketIoMessageDecoder()));
    return decoder;
  }

  private connection(event: TrafficEvent): ConnectionState {
    const key = `${event.endpoint}\n${event.connection}`;
    let state = this.connections.get(key);
    if (!state) this.connections.set(key, (state = {}));
    return state;
  }

  private noteEndpoint(event: TrafficWireEvent): void {
    this.noteName(event.endpoint);
    if (event.peer !== undefined) this.noteName(event.peer);
    // A grader's client shows what it speaks once it does.
    const known = this.endpoints.get(event.endpoint)!;
    if (known.role !== 'grader') return;
    if (event.socketIo) known.transport = 'socket.io';
    else if (event.kind === 'handshake' && known.transport === 'tcp') known.transport = 'ws';
  }

  private noteName(name: string): void {
    if (this.endpoints.has(name)) return;
    const server = this.servers.get(name);
    this.endpoints.set(name, server ? { ...server, role: 'server' } : { name, role: name.startsWith(GRADER_PREFIX) ? 'grader' : 'server', transport: 'tcp' });
  }
}

/** The whole traffic of a log (for a result sent at once). */
export function serializeTraffic(log: TrafficLog, servers: ServerEndpoint[] = []): Traffic {
  return new TrafficReader(log, servers).next();
}

/** The first TRAFFIC_PREVIEW_BYTES of a payload: as text when they are UTF-8 (cut at a character's start), else as hex. */
export function preview(bytes: Buffer): TrafficPreview {
  const head = bytes.subarray(0, TRAFFIC_PREVIEW_BYTES);
  // A cut can fall inside a character: up to 3 bytes of it may be left over at the end.
  for (let drop = 0; drop <= Math.min(3, head.length); drop++) {
    const part = head.subarray(0, head.length - drop);
    if (drop > 0 && head.length === bytes.length) break;
    if (isUtf8(part)) return { text: part.toString('utf8'), bytes: part.length };
  }
  return { hex: head.toString('hex'), bytes: head.length };
}
