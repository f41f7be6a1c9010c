// A record of what crossed between learner code and its run's servers, seen from the trusted side:
// the bytes of each chunk (so chunk boundaries show), the head of each HTTP message, on WebSocket
// connections every frame, and in Engine.IO long-polling bodies every packet. What a sequence-diagram view of a run is drawn from. Capped so a flood
// cannot grow it without bound. A grader's client connected to one of the run's reference servers is
// recorded once, by the grader's side (see graderConnecting).
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PollingPacket } from './engine-io-payload.ts';
import type { WebSocketFrame } from './websocket-frames.ts';

export type TrafficDirection = 'to-learner' | 'from-learner';

export interface TrafficEvent {
  /** Milliseconds since the run started. */
  t: number;
  /** Which trusted endpoint saw it: "echo", "chat", "udp-echo", "grader:<label>". */
  endpoint: string;
  connection: number;
  /**
   * On a grader client's open: the reference server it connected to (its endpoint name), when it
   * talks to that server rather than to the learner's program. Its directions are then the grader's:
   * from-learner is what it received, to-learner what it sent.
   */
  peer?: string;
  /**
   * handshake: the head of an HTTP upgrade request or of its answer; http: the head of any other HTTP
   * request or response; frame: one WebSocket frame; packet: one Engine.IO packet of a long-polling body.
   */
  event: 'open' | 'data' | 'end' | 'close' | 'handshake' | 'http' | 'frame' | 'packet';
  direction?: TrafficDirection;
  /** The chunk, the HTTP head, the frame's payload (unmasked) or the packet (their first bytes). */
  bytes?: Buffer;
  /** For a frame: its header (the payload is in `bytes`). */
  frame?: Omit<WebSocketFrame, 'payload'>;
  /** For a packet: where it was and its length (its first bytes are in `bytes`). */
  packet?: Omit<PollingPacket, 'payload'> & {
    /** The Engine.IO session of its request (unset on the request that opens one, and its answer). */
    session?: string;
  };
}

/** When one grading test ran (milliseconds since the run started), so the view can show its part. */
export interface TrafficMark {
  test: string;
  start: number;
  /** Unset while the test runs. */
  end?: number;
}

/**
 * Events past this many are not recorded (and `truncated` is set): events without bytes (opens,
 * closes) cost nothing against the byte cap, so a program opening connections in a loop is held by this.
 */
const MAX_EVENTS = 20_000;

/** A grader's socket on its way to one of the run's reference servers, and where it connects. */
interface ConnectingGrader {
  socket: net.Socket;
  address: string;
  port: number;
}

/** The addresses node gives an accepted socket (a relayed Duplex has none). */
type MaybeAddressed = Duplex & Partial<Pick<net.Socket, 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'>>;

export class TrafficLog {
  readonly events: TrafficEvent[] = [];
  /** One per grading test, in order. */
  readonly marks: TrafficMark[] = [];
  private readonly start = Date.now();
  private nextConnection = 1;
  private recordedBytes = 0;
  /** Grader sockets whose server-side copy is not accepted yet (see graderConnecting). */
  private readonly connectingGraders = new Set<ConnectingGrader>();
  /** Connections a server accepted from a grader's client: recorded on the grader's side only. */
  private readonly unrecorded = new Set<number>();
  truncated = false;

  constructor(private readonly capBytes = 256 * 1024) {}

  /** Milliseconds since the run started. */
  now(): number {
    return Date.now() - this.start;
  }

  /** Marks the start of a grading test; the returned function marks its end. */
  markTest(test: string): () => void {
    const mark: TrafficMark = { test, start: this.now() };
    this.marks.push(mark);
    return () => {
      mark.end = this.now();
    };
  }

  /** A connection of a grader's client (`peer`: the reference server it talks to, if not the program) or of the program's. */
  newConnection(endpoint: string, peer?: string): number {
    const connection = this.nextConnection++;
    this.push({ endpoint, connection, event: 'open', ...(peer !== undefined && { peer }) });
    return connection;
  }

  /**
   * Says that a grader's client is connecting to one of this run's reference servers, so that the
   * server's record of the same connection (acceptedConnection) is left out: the grader's record,
   * opened with `peer`, is the one conversation. Call right after net.connect(), before the event
   * loop turns: the server may accept the socket before it emits 'connect'.
   */
  graderConnecting(socket: net.Socket): void {
    // Emitted just before the connect call, which binds the socket's local port: any server accept
    // after it can be matched (a local port read earlier would be 0, and node would keep it).
    socket.once('connectionAttempt', (address: string, port: number) => {
      const grader = { socket, address, port };
      this.connectingGraders.add(grader);
      socket.once('close', () => this.connectingGraders.delete(grader));
    });
  }

  /**
   * A connection a reference server (`endpoint`) accepted. One from a grader's client (see
   * graderConnecting) gets a number whose events are not recorded.
   */
  acceptedConnection(endpoint: string, socket: Duplex): number {
    const grader = this.connectingGraders.size > 0 ? this.graderBehind(socket) : undefined;
    if (!grader) return this.newConnection(endpoint);
    this.connectingGraders.delete(grader);
    const connection = this.nextConnection++;
    this.unrecorded.add(connection);
    return connection;
  }

  /** The connecting grader whose socket is the other end of `accepted` (same addresses and ports, mirrored). */
  private graderBehind(accepted: MaybeAddressed): ConnectingGrader | undefined {
    if (accepted.remotePort === undefined) return undefined;
    for (const grader of this.connectingGraders) {
      const { socket } = grader;
      const mirrored =
        socket.localPort === accepted.remotePort &&
        sameHost(socket.localAddress, accepted.remoteAddress) &&
        grader.port === accepted.localPort &&
        sameHost(grader.address, accepted.localAddress);
      if (mirrored) return grader;
    }
    return undefined;
  }

  data(endpoint: string, connection: number, direction: TrafficDirection, bytes: Buffer): void {
    if (this.unrecorded.has(connection) || !this.charge(bytes.length)) return;
    this.push({ endpoint, connection, event: 'data', direction, bytes: Buffer.from(bytes) });
  }

  /** The head of an HTTP upgrade request or of its answer. */
  handshake(endpoint: string, connection: number, direction: TrafficDirection, head: Buffer): void {
    this.head('handshake', endpoint, connection, direction, head);
  }

  /** The head of an HTTP request or response that is no upgrade (e.g. Engine.IO long-polling). */
  httpHead(endpoint: string, connection: number, direction: TrafficDirection, head: Buffer): void {
    this.head('http', endpoint, connection, direction, head);
  }

  private head(event: 'handshake' | 'http', endpoint: string, connection: number, direction: TrafficDirection, head: Buffer): void {
    if (this.unrecorded.has(connection) || !this.charge(head.length)) return;
    this.push({ endpoint, connection, event, direction, bytes: Buffer.from(head) });
  }

  packet(endpoint: string, connection: number, direction: TrafficDirection, packet: PollingPacket, session?: string): void {
    if (this.unrecorded.has(connection) || !this.charge(packet.payload.length)) return;
    const { payload, ...where } = packet;
    this.push({ endpoint, connection, event: 'packet', direction, packet: { ...where, ...(session !== undefined && { session }) }, bytes: payload });
  }

  frame(endpoint: string, connection: number, direction: TrafficDirection, frame: WebSocketFrame): void {
    if (this.unrecorded.has(connection) || !this.charge(frame.payload.length)) return;
    const { payload, ...header } = frame;
    this.push({ endpoint, connection, event: 'frame', direction, frame: header, bytes: payload });
  }

  /** Counts `bytes` against the cap; false (and `truncated`) once it is reached. */
  private charge(bytes: number): boolean {
    if (this.recordedBytes + bytes > this.capBytes) {
      this.truncated = true;
      return false;
    }
    this.recordedBytes += bytes;
    return true;
  }

  closed(endpoint: string, connection: number, event: 'end' | 'close'): void {
    if (this.unrecorded.has(connection)) return;
    this.push({ endpoint, connection, event });
  }

  private push(e: Omit<TrafficEvent, 't'>): void {
    if (this.events.length >= MAX_EVENTS) {
      this.truncated = true;
      return;
    }
    this.events.push({ t: this.now(), ...e });
  }
}

/** An IPv4 address as a dual-stack socket gives it ("::ffff:127.0.0.1") is the same host as plain. */
function sameHost(a: string | undefined, b: string | undefined): boolean {
  const plain = (address: string | undefined) => address?.replace(/^::ffff:/, '');
  return a !== undefined && plain(a) === plain(b);
}
