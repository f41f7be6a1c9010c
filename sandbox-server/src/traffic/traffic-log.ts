// A record of the bytes that crossed between learner code and its run's servers, seen from the
// trusted side: what a sequence-diagram view of a run is drawn from. Capped so a flood cannot
// grow it without bound.
export type TrafficDirection = 'to-learner' | 'from-learner';

export interface TrafficEvent {
  /** Milliseconds since the run started. */
  t: number;
  /** Which trusted endpoint saw it: "echo", "chat", "udp-echo", "grader". */
  endpoint: string;
  connection: number;
  event: 'open' | 'data' | 'end' | 'close';
  direction?: TrafficDirection;
  bytes?: Buffer;
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
    if (this.recordedBytes + bytes.length > this.capBytes) {
      this.truncated = true;
      return;
    }
    this.recordedBytes += bytes.length;
    this.push({ endpoint, connection, event: 'data', direction, bytes: Buffer.from(bytes) });
  }

  closed(endpoint: string, connection: number, event: 'end' | 'close'): void {
    this.push({ endpoint, connection, event });
  }

  private push(e: Omit<TrafficEvent, 't'>): void {
    this.events.push({ t: Date.now() - this.start, ...e });
  }
}
