// A record of what crossed between learner code and its run's servers, seen from the trusted side:
// the bytes of each chunk (so chunk boundaries show), and on WebSocket connections the opening
// handshake and every frame. What a sequence-diagram view of a run is drawn from. Capped so a flood
// cannot grow it without bound.
import type { WebSocketFrame } from './websocket-frames.ts';

export type TrafficDirection = 'to-learner' | 'from-learner';

export interface TrafficEvent {
  /** Milliseconds since the run started. */
  t: number;
  /** Which trusted endpoint saw it: "echo", "chat", "udp-echo", "grader:<label>". */
  endpoint: string;
  connection: number;
  /** handshake: an HTTP upgrade request or response (its head in `bytes`); frame: one WebSocket frame. */
  event: 'open' | 'data' | 'end' | 'close' | 'handshake' | 'frame';
  direction?: TrafficDirection;
  /** The chunk, the handshake's head, or the frame's payload (unmasked, its first bytes). */
  bytes?: Buffer;
  /** For a frame: its header (the payload is in `bytes`). */
  frame?: Omit<WebSocketFrame, 'payload'>;
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

export class TrafficLog {
  readonly events: TrafficEvent[] = [];
  /** One per grading test, in order. */
  readonly marks: TrafficMark[] = [];
  private readonly start = Date.now();
  private nextConnection = 1;
  private recordedBytes = 0;
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

  newConnection(endpoint: string): number {
    const connection = this.nextConnection++;
    this.push({ endpoint, connection, event: 'open' });
    return connection;
  }

  data(endpoint: string, connection: number, direction: TrafficDirection, bytes: Buffer): void {
    if (!this.charge(bytes.length)) return;
    this.push({ endpoint, connection, event: 'data', direction, bytes: Buffer.from(bytes) });
  }

  handshake(endpoint: string, connection: number, direction: TrafficDirection, head: Buffer): void {
    if (!this.charge(head.length)) return;
    this.push({ endpoint, connection, event: 'handshake', direction, bytes: Buffer.from(head) });
  }

  frame(endpoint: string, connection: number, direction: TrafficDirection, frame: WebSocketFrame): void {
    if (!this.charge(frame.payload.length)) return;
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
