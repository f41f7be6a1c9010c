// Watches one WebSocket connection's bytes in both directions and records, besides the chunks, its
// opening handshake (the HTTP heads) and each frame. Fed by whoever holds the socket: the grader's
// WebSocket client, or a WebSocket reference server.
import type { Duplex } from 'node:stream';
import type { TrafficDirection, TrafficLog } from './traffic-log.ts';
import { WebSocketFrameParser, type WebSocketFrame } from './websocket-frames.ts';

/** An HTTP head longer than this is not a handshake worth recording (ws itself refuses far less). */
const MAX_HEAD_BYTES = 8 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

class Direction {
  /** The HTTP head so far, until it is complete (then undefined: frames follow). */
  head: Buffer | undefined = Buffer.alloc(0);
  readonly frames = new WebSocketFrameParser();
  /** False once the stream is not WebSocket (a refused upgrade, a head too long). */
  framing = true;
}

/** Longest a server's writes wait for the request they answer to be recorded (see `hold`). */
const HOLD_MS = 20;
const HOLD_BYTES = 64 * 1024;

export class WebSocketTap {
  private readonly directions = { 'to-learner': new Direction(), 'from-learner': new Direction() };
  /**
   * A server's writes to the learner while the learner's request is not recorded yet. Node's HTTP
   * server reads a request itself (its parser consumes the socket's handle) and hands the bytes to
   * 'data' listeners only after the upgrade, when the server may have answered already; an answer
   * cannot come before its request, so it is recorded after it.
   */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private holdTimer?: NodeJS.Timeout;

  /** Without a traffic log it records nothing but still follows the frames (for `onFrame`). */
  constructor(
    private readonly traffic: TrafficLog | undefined,
    private readonly endpoint: string,
    private readonly connection: number,
    /** Called with each frame too (after it is recorded), e.g. to follow fragmented messages. */
    private readonly onFrame?: (direction: TrafficDirection, frame: WebSocketFrame) => void,
    /**
     * The direction whose bytes after the handshake's head, in the same chunk, are read again (node's
     * http client hands them to ws, which puts them back on the socket): they count when they come back.
     */
    private readonly replaysAfterHead?: TrafficDirection,
  ) {}

  /** `bytes` crossed in `direction`; the chunk itself is recorded too. */
  push(direction: TrafficDirection, bytes: Buffer): void {
    if (direction === 'to-learner' && (this.held.length > 0 || this.answersUnseenRequest(bytes))) return this.hold(bytes);
    this.record(direction, bytes);
    const request = this.directions['from-learner'];
    if (direction === 'from-learner' && this.held.length > 0 && (!request.framing || request.head === undefined)) this.release();
  }

  /** An HTTP response to the learner before any byte of theirs was seen: a server's answer to a request still in node's parser. */
  private answersUnseenRequest(bytes: Buffer): boolean {
    const request = this.directions['from-learner'];
    const response = this.directions['to-learner'];
    return request.framing && request.head?.length === 0 && response.head?.length === 0 && bytes.subarray(0, 5).toString('latin1') === 'HTTP/';
  }

  private hold(bytes: Buffer): void {
    this.held.push(Buffer.from(bytes));
    this.heldBytes += bytes.length;
    if (this.heldBytes > HOLD_BYTES) return this.release();
    this.holdTimer ??= setTimeout(() => this.release(), HOLD_MS).unref();
  }

  private release(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const bytes of held) this.record('to-learner', bytes);
  }

  private record(direction: TrafficDirection, bytes: Buffer): void {
    const side = this.directions[direction];
    if (!side.framing || !side.head) this.traffic?.data(this.endpoint, this.connection, direction, bytes);
    if (!side.framing) return;
    let rest = bytes;
    if (side.head) {
      const all = Buffer.concat([side.head, bytes]);
      const end = all.indexOf(HEAD_END);
      if (end === -1) {
        this.traffic?.data(this.endpoint, this.connection, direction, bytes);
        if (all.length > MAX_HEAD_BYTES) side.framing = false;
        else side.head = all;
        return;
      }
      const text = all.subarray(0, end + HEAD_END.length);
      const head = text.toString('latin1');
      // Only a 101 answer turns the connection into frames (both ways); a request says nothing yet.
      const refused = /^HTTP\/1\.[01] /.test(head) && !/^HTTP\/1\.[01] 101 /.test(head);
      const replayed = direction === this.replaysAfterHead && !refused ? all.length - text.length : 0;
      this.traffic?.data(this.endpoint, this.connection, direction, bytes.subarray(0, bytes.length - replayed));
      this.traffic?.handshake(this.endpoint, this.connection, direction, text);
      side.head = undefined;
      if (refused) {
        this.directions['to-learner'].framing = false;
        this.directions['from-learner'].framing = false;
        return;
      }
      rest = replayed > 0 ? Buffer.alloc(0) : all.subarray(text.length);
    }
    for (const frame of side.frames.push(rest)) {
      this.traffic?.frame(this.endpoint, this.connection, direction, frame);
      this.onFrame?.(direction, frame);
    }
  }

  /**
   * Follows `socket`, whose peer is the learner: what it reads came from the learner, what is
   * written to it goes to the learner. Records the connection's close too.
   */
  attach(socket: Duplex): void {
    socket.on('data', (chunk: Buffer) => this.push('from-learner', chunk));
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk) || typeof chunk === 'string') this.push('to-learner', Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as typeof socket.write;
    socket.once('close', () => {
      this.release();
      this.traffic?.closed(this.endpoint, this.connection, 'close');
    });
  }
}
