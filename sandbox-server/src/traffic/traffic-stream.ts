// Streams a run's traffic while it goes: every interval, what was recorded since the last batch,
// in batches of a bounded size, so a program that floods its connections cannot flood the editor's
// socket (the log's caps and TRAFFIC_MAX_EVENTS bound the whole; this bounds each message).
import type { Traffic } from '../shapes/traffic.ts';
import type { TrafficLog } from './traffic-log.ts';
import { TrafficReader, type ServerEndpoint } from './traffic-wire.ts';

const INTERVAL_MS = 250;
/** The most events in one streamed batch. */
export const TRAFFIC_BATCH_EVENTS = 400;

export class TrafficStream {
  private readonly reader: TrafficReader;
  private readonly timer: NodeJS.Timeout;
  private lastTruncated = false;

  constructor(
    log: TrafficLog,
    servers: ServerEndpoint[],
    private readonly send: (batch: Traffic) => void,
    intervalMs = INTERVAL_MS,
  ) {
    this.reader = new TrafficReader(log, servers);
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Sends what is left and stops. */
  finish(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  private flush(final = false): void {
    do {
      const batch = this.reader.next(TRAFFIC_BATCH_EVENTS);
      // Nothing new: say nothing, except a last word when the truncation is news.
      const news = batch.events.length > 0 || batch.marks.length > 0 || batch.truncated !== this.lastTruncated;
      if (news) this.send(batch);
      this.lastTruncated = batch.truncated;
    } while (final && this.reader.pending);
  }
}
