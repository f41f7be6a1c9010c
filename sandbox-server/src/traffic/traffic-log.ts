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

export class TrafficLog {
  readonly events: TrafficEvent[] = [];
  private readonly start = Date.now();
  private nextConnection = 1;
  private recordedBytes = 0;
  truncated = false;

  constructor(private readonly capBytes = 256 * 1024) {}

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
    this.events.push({ t: Date.now() - this.start, ...e });
  }
}
