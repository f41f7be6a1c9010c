// A TCP client for grading tests: it records everything it receives, reads by byte count or by
// line with a deadline, and can send one message in several TCP segments or several messages in
// one, which is how tests catch code that treats one 'data' event as one message.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { GradingFailure } from './context.ts';
import { Waiters } from './waiters.ts';
import { describeBytes, describeLines } from './describe-bytes.ts';

export const DEFAULT_WAIT_MS = 2000;
/** Pause between pieces of a split write, so they leave as separate TCP segments. */
const PIECE_GAP_MS = 10;

export interface ExpectLineOptions {
  within?: number;
  /** How the test describes what it waits for, e.g. "the join notice for bob". */
  what?: string;
}

export class TestClient {
  /** Every byte received so far, including bytes already read. */
  private all = Buffer.alloc(0);
  private unread = Buffer.alloc(0);
  /** Every complete line received so far, for failure messages. */
  readonly lines: string[] = [];
  private closed = false;
  private readonly waiters = new Waiters();
  private readonly connection: number;

  constructor(
    readonly socket: net.Socket,
    readonly label: string,
    private readonly traffic?: TrafficLog,
    /** The reference server it is connected to, when not to the learner's program (for the traffic log). */
    peer?: string,
  ) {
    socket.setNoDelay(true);
    this.connection = traffic?.newConnection(`grader:${label}`, peer) ?? 0;
    socket.on('data', (chunk: Buffer) => {
      this.traffic?.data(`grader:${label}`, this.connection, 'from-learner', chunk);
      this.all = Buffer.concat([this.all, chunk]);
      this.unread = Buffer.concat([this.unread, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.traffic?.closed(`grader:${label}`, this.connection, 'close');
      this.wake();
    });
  }

  static async connect(port: number, label: string, traffic?: TrafficLog, host = '127.0.0.1'): Promise<TestClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TestClient(socket, label, traffic);
  }

  get received(): Buffer {
    return this.all;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async write(data: string | Buffer): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    this.traffic?.data(`grader:${this.label}`, this.connection, 'to-learner', bytes);
    await new Promise<void>((resolve, reject) =>
      this.socket.write(bytes, (err) => {
        if (!err) return resolve();
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        reject(new GradingFailure(`${this.label} could not send ${describeBytes(bytes, 48)}: the connection was already closed by your program (${code})`));
      }),
    );
  }

  /** Sends `data` as `pieces` separate writes with a pause between them (or split at `at`). */
  async writeInPieces(data: string | Buffer, pieces: number | number[] = 3): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const cuts = Array.isArray(pieces)
      ? pieces
      : Array.from({ length: pieces - 1 }, (_, i) => Math.round(((i + 1) * bytes.length) / pieces));
    let start = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut > start) {
        await this.write(bytes.subarray(start, cut));
        await sleep(PIECE_GAP_MS);
      }
      start = Math.max(start, cut);
    }
  }

  /** Reads exactly `n` bytes, waiting at most `within` ms. */
  async readBytes(n: number, within = DEFAULT_WAIT_MS): Promise<Buffer> {
    await this.until(() => this.unread.length >= n || this.closed, within);
    if (this.unread.length < n) {
      const why = this.closed ? 'the connection closed' : `${within / 1000} s passed`;
      throw new GradingFailure(`expected ${n} bytes back, but ${why} after ${this.unread.length}: ${describeBytes(this.unread)}`);
    }
    const out = this.unread.subarray(0, n);
    this.unread = this.unread.subarray(n);
    return out;
  }

  /** Reads the next complete line (without "\n"), or undefined if none comes in time. */
  async readLine(within = DEFAULT_WAIT_MS): Promise<string | undefined> {
    await this.until(() => this.unread.includes(10) || this.closed, within);
    const nl = this.unread.indexOf(10);
    if (nl === -1) return undefined;
    let line = this.unread.subarray(0, nl).toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    this.unread = this.unread.subarray(nl + 1);
    this.lines.push(line);
    return line;
  }

  /** Reads lines until one matches; fails with the lines that did arrive. */
  async expectLine(match: string | RegExp, options: ExpectLineOptions = {}): Promise<string> {
    const within = options.within ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + within;
    const seenFrom = this.lines.length;
    const test = (line: string) => (typeof match === 'string' ? line === match : match.test(line));
    for (;;) {
      const line = await this.readLine(Math.max(0, deadline - Date.now()));
      if (line === undefined) break;
      if (test(line)) return line;
    }
    const what = options.what ?? (typeof match === 'string' ? JSON.stringify(match) : `a line matching ${match}`);
    const seen = this.lines.slice(seenFrom);
    const partial = this.unread.length ? `; unfinished line (no "\\n" yet): ${describeBytes(this.unread)}` : '';
    const why = this.closed ? 'the connection closed first' : `nothing matching within ${within / 1000} s`;
    throw new GradingFailure(`${this.label} expected ${what}, but ${why}. ${this.label} received ${describeLines(seen)}${partial}`);
  }

  /** Fails if any line matching `match` arrives within `ms`. */
  async expectNoLine(match: RegExp, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const line = await this.readLine(Math.max(0, deadline - Date.now()));
      if (line === undefined) return;
      if (match.test(line)) throw new GradingFailure(`${this.label} should not have received ${what}, but got ${JSON.stringify(line)}`);
    }
  }

  /** Waits until the peer closes the connection. */
  async expectClosed(within = DEFAULT_WAIT_MS, what = 'the connection to be closed'): Promise<void> {
    await this.until(() => this.closed, within);
    if (!this.closed) throw new GradingFailure(`${this.label} expected ${what} within ${within / 1000} s, but it stayed open`);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until(ready: () => boolean, within: number): Promise<void> {
    return this.waiters.until(ready, within);
  }

  private wake(): void {
    this.waiters.wake();
  }
}
