// A WebSocket client for grading tests, over a connection the kit already has (to the learner's
// server, or to a reference server). It treats the peer as hostile: a cap on each message and on what
// it holds unread, deadlines on every wait, so a giant frame or a fragmented message that never ends
// fails the test with a message that says so, and the trusted server's memory stays flat. It records
// the handshake and every frame in the traffic log, and can send what browsers never send on their
// own: messages in fragments, with control frames between them.
import type net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { WebSocketTap } from '../traffic/websocket-tap.ts';
import { GradingFailure } from './context.ts';
import { Waiters } from './waiters.ts';
import { describeBytes } from './describe-bytes.ts';

export const DEFAULT_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_BUFFERED_BYTES = 4 * 1024 * 1024;
const DEFAULT_WAIT_MS = 2000;
/** Pause between fragments, so they leave as separate frames and segments. */
const FRAGMENT_GAP_MS = 10;
/**
 * With a ping between fragments, the next one waits for its pong instead (proof the server read
 * that far, so the pieces arrive apart however busy the machine is), but not longer than this: a
 * missing pong is the test's to report.
 */
const FRAGMENT_PONG_WAIT_MS = 500;

export interface WebSocketMessage {
  data: Buffer;
  isBinary: boolean;
  /** The data as UTF-8 text (for a text message, its text). */
  text: string;
}

export interface TestWebSocketOptions {
  /** Who this client is in failure messages and the traffic log, e.g. "alice". */
  label: string;
  /** Request path and query, e.g. "/room?name=a". */
  path?: string;
  protocols?: string | string[];
  headers?: Record<string, string>;
  origin?: string;
  /** Largest message accepted; a larger one closes the connection (1009) and fails the next wait. */
  maxMessageBytes?: number;
  /** Most data held in messages not yet read by the test. */
  maxBufferedBytes?: number;
  /** How long the opening handshake may take. */
  handshakeWithin?: number;
  /** false: pings go unanswered, as from a peer that died without closing (to test a heartbeat). */
  answerPings?: boolean;
}

export interface WaitOptions {
  within?: number;
  /** How the test describes what it waits for, e.g. "the join notice for bob". */
  what?: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** ws's error when it failed the connection (a frame it refused: masked, a bad close code…); the close was then not the peer's. */
  error?: string;
}

export class TestWebSocket {
  /** Every message received, in order (read or not). */
  readonly received: WebSocketMessage[] = [];
  private readonly unread: WebSocketMessage[] = [];
  private unreadBytes = 0;
  private closeInfo?: CloseInfo;
  /** The first error ws reported: it explains a 1006 that follows it. */
  private wsError?: string;
  /** Why the connection failed, in the learner's terms, once it did. */
  private failure?: string;
  private readonly waiters = new Waiters();
  /** Fragments of a message the peer started and has not finished. */
  private openFragments = { frames: 0, bytes: 0 };
  private readonly pongs: Buffer[] = [];
  /** Pongs received so far, read or not. */
  private pongsReceived = 0;

  private constructor(
    private readonly socket: net.Socket,
    readonly ws: WebSocket,
    readonly label: string,
    private readonly options: Required<Pick<TestWebSocketOptions, 'maxMessageBytes' | 'maxBufferedBytes'>>,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.failure) return; // stopped listening: whatever else was already buffered is dropped
      const message = { data, isBinary, text: data.toString('utf8') };
      this.received.push(message);
      this.unread.push(message);
      this.unreadBytes += data.length;
      if (this.unreadBytes > this.options.maxBufferedBytes) {
        this.fail(`your server sent more than ${describeSize(this.options.maxBufferedBytes)} that ${label} had not asked for yet`);
        ws.terminate();
      }
      this.wake();
    });
    ws.on('pong', (data: Buffer) => {
      this.pongs.push(data);
      this.pongsReceived++;
      this.wake();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      this.wsError ??= err.message;
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.fail(`your server sent a message larger than ${describeSize(this.options.maxMessageBytes)} (the test's limit)`);
      else this.fail(`the connection failed: ${err.message}`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString('utf8'), ...(this.wsError !== undefined && { error: this.wsError }) };
      this.wake();
    });
  }

  /**
   * Opens a WebSocket over `socket` (already connected to `port`): the opening handshake, then
   * frames. Fails with the server's answer if it does not upgrade.
   */
  static async open(socket: net.Socket, port: number, options: TestWebSocketOptions, traffic?: TrafficLog): Promise<TestWebSocket> {
    const endpoint = `grader:${options.label}`;
    let client: TestWebSocket | undefined;
    const connection = traffic?.newConnection(endpoint) ?? 0;
    const tap = new WebSocketTap(traffic, endpoint, connection, (direction, frame) => {
      if (direction === 'from-learner') client?.followFragments(frame.opcode, frame.fin, frame.length);
    }, 'from-learner');
    tap.attach(socket);
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MESSAGE_BYTES;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${options.path ?? '/'}`, options.protocols, {
      createConnection: () => socket,
      maxPayload: maxMessageBytes,
      handshakeTimeout: options.handshakeWithin ?? DEFAULT_WAIT_MS,
      perMessageDeflate: false,
      autoPong: options.answerPings ?? true,
      headers: options.headers,
      origin: options.origin,
    });
    client = new TestWebSocket(socket, ws, options.label, { maxMessageBytes, maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_BUFFERED_BYTES });
    // Settled by the first of these; once open, errors and closes are the client's to report.
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      const refuse = (why: string) => !opened && reject(new GradingFailure(`${options.label} could not open a WebSocket to your server: ${why}`));
      ws.once('open', () => {
        opened = true;
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        const status = `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
        reject(new GradingFailure(`${options.label} asked to upgrade ${options.path ?? '/'} to a WebSocket, but your server answered HTTP ${status}`));
        res.resume();
        ws.terminate();
      });
      ws.once('error', (err) => refuse(err.message));
      ws.once('close', () => refuse('the connection closed during the handshake'));
    });
    return client;
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  /** The subprotocol the server chose ("" if none). */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** Sends one message: text for a string unless `binary`, binary for a Buffer unless `binary: false`. */
  async send(data: string | Buffer, options: { binary?: boolean } = {}): Promise<void> {
    const binary = options.binary ?? Buffer.isBuffer(data);
    await this.sendFrame(data, { binary, fin: true });
  }

  async sendJson(value: unknown): Promise<void> {
    await this.send(JSON.stringify(value));
  }

  /**
   * Sends one message as several frames (a first frame, then continuations), optionally with a ping
   * between each two: a server must put the fragments back together and answer the ping meanwhile.
   */
  async sendFragments(pieces: Array<string | Buffer>, options: { binary?: boolean; pingBetween?: boolean } = {}): Promise<void> {
    const binary = options.binary ?? Buffer.isBuffer(pieces[0]);
    for (const [i, piece] of pieces.entries()) {
      await this.sendFrame(piece, { binary, fin: i === pieces.length - 1 });
      if (i === pieces.length - 1) continue;
      if (options.pingBetween) {
        const before = this.pongsReceived;
        this.ws.ping(Buffer.from(`between ${i + 1}`));
        await this.until(() => this.pongsReceived > before || this.isClosed, FRAGMENT_PONG_WAIT_MS); // the pong stays for expectPong
      } else {
        await sleep(FRAGMENT_GAP_MS);
      }
    }
  }

  /** Stops reading from the connection, as a slow or stuck client would: what the server sends piles up on its side. */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  ping(data: Buffer = Buffer.alloc(0)): void {
    this.ws.ping(data);
  }

  /** Waits for a pong (the answer to a ping). */
  async expectPong(options: WaitOptions = {}): Promise<Buffer> {
    const within = options.within ?? DEFAULT_WAIT_MS;
    await this.until(() => this.pongs.length > 0 || this.isClosed, within);
    const pong = this.pongs.shift();
    if (pong) return pong;
    throw new GradingFailure(`${this.label} expected ${options.what ?? 'a pong'} from your server, but ${this.whyNothing(within)}`);
  }

  /** The next message, in order; fails if none comes in time. */
  async nextMessage(options: WaitOptions = {}): Promise<WebSocketMessage> {
    const within = options.within ?? DEFAULT_WAIT_MS;
    await this.until(() => this.unread.length > 0 || this.isClosed || !!this.failure, within);
    const message = this.unread.shift();
    if (message) {
      this.unreadBytes -= message.data.length;
      return message;
    }
    throw new GradingFailure(`${this.label} expected ${options.what ?? 'a message'} from your server, but ${this.whyNothing(within)}`);
  }

  /** The next message, parsed as JSON; fails if it is not a text message of valid JSON. */
  async nextJson<T = unknown>(options: WaitOptions = {}): Promise<T> {
    const message = await this.nextMessage(options);
    const what = options.what ?? 'a JSON message';
    if (message.isBinary) throw new GradingFailure(`${this.label} expected ${what}, but got a binary message: ${describeBytes(message.data, 48)}`);
    try {
      return JSON.parse(message.text) as T;
    } catch {
      throw new GradingFailure(`${this.label} expected ${what}, but got text that is not JSON: ${JSON.stringify(message.text.slice(0, 200))}`);
    }
  }

  /** Reads messages until one satisfies `match`; fails with the messages that did come. */
  async expectMessage(match: (message: WebSocketMessage) => boolean, options: WaitOptions = {}): Promise<WebSocketMessage> {
    const within = options.within ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + within;
    const seen: WebSocketMessage[] = [];
    for (;;) {
      const message = await this.nextMessage({ within: Math.max(0, deadline - Date.now()), what: options.what }).catch((err: unknown) => {
        if (seen.length === 0) throw err;
        throw new GradingFailure(`${this.label} expected ${options.what ?? 'a certain message'}, but got only ${describeMessages(seen)}`);
      });
      if (match(message)) return message;
      seen.push(message);
    }
  }

  /** Fails if a message arrives within `ms`. */
  async expectNoMessage(ms: number, what = 'a message'): Promise<void> {
    await this.until(() => this.unread.length > 0, ms);
    const message = this.unread[0];
    if (message) throw new GradingFailure(`${this.label} should not have received ${what}, but got ${describeMessages([message])}`);
  }

  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  /** Waits until the connection is closed; the code and reason the server sent (1005: none, 1006: no close frame). */
  async expectClose(options: WaitOptions = {}): Promise<CloseInfo> {
    const within = options.within ?? DEFAULT_WAIT_MS;
    await this.until(() => this.isClosed, within);
    if (this.closeInfo) return this.closeInfo;
    throw new GradingFailure(`${this.label} expected ${options.what ?? 'the connection to close'} within ${within / 1000} s, but it stayed open`);
  }

  /** Drops the connection without a closing handshake (a crashed client). */
  terminate(): void {
    this.ws.terminate();
  }

  private sendFrame(data: string | Buffer, options: { binary: boolean; fin: boolean }): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) {
        return reject(new GradingFailure(`${this.label} could not send ${describeData(data)}: your server had already closed the connection${this.describeClose()}`));
      }
      this.ws.send(data, { binary: options.binary, fin: options.fin, compress: false }, (err) => {
        if (err) reject(new GradingFailure(`${this.label} could not send ${describeData(data)}: ${err.message}`));
        else resolve();
      });
    });
  }

  private followFragments(opcode: number, fin: boolean, length: number): void {
    if (opcode >= 0x8) return; // control frames may come between fragments
    if (fin) this.openFragments = { frames: 0, bytes: 0 };
    else this.openFragments = { frames: this.openFragments.frames + 1, bytes: this.openFragments.bytes + length };
  }

  private fail(why: string): void {
    this.failure ??= why;
    this.wake();
  }

  private whyNothing(within: number): string {
    if (this.failure) return `${this.failure}.`;
    if (this.closeInfo) return `your server closed the connection first${this.describeClose()}.`;
    const fragments = this.openFragments.frames
      ? ` It started a message in fragments (${this.openFragments.frames} frame(s), ${describeSize(this.openFragments.bytes)}) and did not finish it (no frame with FIN set).`
      : '';
    return `nothing came within ${within / 1000} s.${fragments}`;
  }

  private describeClose(): string {
    if (!this.closeInfo) return '';
    const { code, reason, error } = this.closeInfo;
    if (error !== undefined) return ` (ws ended it: ${error})`;
    if (code === 1006) return ' (without a close frame)';
    if (code === 1005) return ' (a close frame with no status code)';
    return ` (close code ${code}${reason ? `, reason ${JSON.stringify(reason)}` : ''})`;
  }

  private until(ready: () => boolean, within: number): Promise<void> {
    return this.waiters.until(ready, within);
  }

  private wake(): void {
    this.waiters.wake();
  }
}

function describeSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${+(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`;
}

function describeData(data: string | Buffer): string {
  return typeof data === 'string' ? JSON.stringify(data.length > 80 ? `${data.slice(0, 80)}…` : data) : describeBytes(data, 48);
}

function describeMessages(messages: WebSocketMessage[]): string {
  const shown = messages.slice(0, 5).map((m) => (m.isBinary ? `binary ${describeBytes(m.data, 32)}` : `text ${JSON.stringify(m.text.slice(0, 120))}`));
  return `${messages.length} message(s): ${shown.join(', ')}${messages.length > 5 ? ', …' : ''}`;
}
