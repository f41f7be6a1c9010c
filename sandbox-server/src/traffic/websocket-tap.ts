// Watches one connection's bytes in both directions and records, besides each chunk, what they carry
// as far as it can read them: HTTP/1.1 messages (each head; an Engine.IO long-polling body as its
// packets), and once the connection upgrades to WebSocket, its frames. Fed by whoever holds the
// socket: a grader's WebSocket or Socket.IO client, or a WebSocket or Socket.IO reference server.
import type { Duplex } from 'node:stream';
import { EngineIoPayloadReader, engineIoSession, isEngineIoPolling } from './engine-io-payload.ts';
import { HttpMessageReader, type HttpHead, type HttpPart } from './http-messages.ts';
import type { TrafficDirection, TrafficLog } from './traffic-log.ts';
import { WebSocketFrameParser, type WebSocketFrame } from './websocket-frames.ts';

/** Requests sent ahead of their answers (pipelined) past this: the tap stops reading HTTP, as it could no longer pair them. */
const MAX_UNANSWERED_REQUESTS = 64;

/** A request seen whose final answer has not come yet. */
interface Request {
  method: string;
  upgrade: boolean;
  /** For an Engine.IO long-polling GET: its answer's body is read as packets, of this session. */
  polling?: { session?: string };
}

class Direction {
  /** What its bytes are read as: HTTP messages, WebSocket frames (after an upgrade), or not at all any more. */
  reading: 'http' | 'frames' | 'none' = 'http';
  readonly http: HttpMessageReader;
  readonly frames = new WebSocketFrameParser();
  /** The reader of the body in progress, when it is an Engine.IO long-polling payload. */
  payload?: { reader: EngineIoPayloadReader; session?: string };

  constructor(answeredMethod: () => string | undefined) {
    this.http = new HttpMessageReader(answeredMethod);
  }
}

export class WebSocketTap {
  /** Requests in the order they came, each until its final answer. */
  private readonly requests: Request[] = [];
  private readonly directions: Record<TrafficDirection, Direction>;

  /** Without a traffic log it records nothing but still follows the frames (for `onFrame`). */
  constructor(
    private readonly traffic: TrafficLog | undefined,
    private readonly endpoint: string,
    private readonly connection: number,
    /** Called with each frame too (after it is recorded), e.g. to follow fragmented messages. */
    private readonly onFrame?: (direction: TrafficDirection, frame: WebSocketFrame) => void,
    /**
     * The direction whose bytes after an upgrade's head, in the same chunk, are read again (node's
     * HTTP server or client hands them to ws, which puts them back on the socket): they count when they come back.
     */
    private readonly replaysAfterHead?: TrafficDirection,
  ) {
    const answered = () => this.requests[0]?.method;
    this.directions = { 'to-learner': new Direction(answered), 'from-learner': new Direction(answered) };
  }

  /** `bytes` crossed in `direction`: the chunk is recorded, then what it completed (heads, packets, frames). */
  push(direction: TrafficDirection, bytes: Buffer): void {
    const side = this.directions[direction];
    // Recorded after the chunk they came in, which is recorded once it is known how much of it counts.
    const decoded: (() => void)[] = [];
    let replayed = 0;
    try {
      if (side.reading === 'http') {
        side.http.push(bytes, (part) => {
          if (part.type !== 'switch') return this.onHttpPart(direction, part, decoded);
          side.reading = 'frames';
          if (direction === this.replaysAfterHead) replayed = part.rest.length;
          else this.readFrames(direction, part.rest, decoded);
        });
        if (side.http.error) side.reading = 'none';
      } else if (side.reading === 'frames') {
        this.readFrames(direction, bytes, decoded);
      }
    } catch {
      // A fault in the reading must not take down the server whose socket this is ('data' and
      // write() run in its stack): the connection is then recorded as chunks only.
      this.stopReading();
    }
    this.traffic?.data(this.endpoint, this.connection, direction, bytes.subarray(0, bytes.length - replayed));
    for (const record of decoded) record();
  }

  private onHttpPart(direction: TrafficDirection, part: Exclude<HttpPart, { type: 'switch' }>, decoded: (() => void)[]): void {
    const side = this.directions[direction];
    if (part.type === 'head') return this.onHead(direction, part.head, decoded);
    const payload = side.payload;
    if (!payload) return;
    const packets = part.type === 'body' ? payload.reader.push(part.bytes) : payload.reader.end();
    if (part.type === 'end') side.payload = undefined;
    for (const packet of packets) decoded.push(() => this.traffic?.packet(this.endpoint, this.connection, direction, packet, payload.session));
  }

  private onHead(direction: TrafficDirection, head: HttpHead, decoded: (() => void)[]): void {
    const side = this.directions[direction];
    if (head.request) {
      const { method, target } = head.request;
      const polling = isEngineIoPolling(target) && !head.upgrade;
      const session = polling ? engineIoSession(target) : undefined;
      decoded.push(() => this.recordHead(head.upgrade, direction, head.bytes));
      if (polling && method === 'POST') side.payload = { reader: new EngineIoPayloadReader(), session };
      this.requests.push({ method, upgrade: head.upgrade, ...(polling && method === 'GET' && { polling: { session } }) });
      if (this.requests.length > MAX_UNANSWERED_REQUESTS) this.stopReading();
      return;
    }
    const status = head.response!.status;
    const request = this.requests[0];
    const answersUpgrade = head.upgrade || request?.upgrade === true;
    decoded.push(() => this.recordHead(answersUpgrade, direction, head.bytes));
    // An interim answer (100 Continue) leaves the request waiting for its final one.
    if (status < 200 && status !== 101) return;
    this.requests.shift();
    // Only a 101 turns an upgrade request's connection into frames; any other answer refuses it.
    if (request?.upgrade && status !== 101) return this.stopReading();
    const encoded = head.headers.some(([name, value]) => name === 'content-encoding' && value.toLowerCase() !== 'identity');
    if (request?.polling && status === 200 && !encoded) side.payload = { reader: new EngineIoPayloadReader(), session: request.polling.session };
  }

  /** An upgrade's head (or its answer's) is a handshake; any other, an HTTP head. */
  private recordHead(upgrade: boolean, direction: TrafficDirection, head: Buffer): void {
    if (upgrade) this.traffic?.handshake(this.endpoint, this.connection, direction, head);
    else this.traffic?.httpHead(this.endpoint, this.connection, direction, head);
  }

  private readFrames(direction: TrafficDirection, bytes: Buffer, decoded: (() => void)[]): void {
    for (const frame of this.directions[direction].frames.push(bytes)) {
      decoded.push(() => {
        this.traffic?.frame(this.endpoint, this.connection, direction, frame);
        this.onFrame?.(direction, frame);
      });
    }
  }

  /** The connection carries something this tap does not follow: from now on only its chunks are recorded. */
  private stopReading(): void {
    for (const side of Object.values(this.directions)) {
      side.http.stop();
      side.reading = 'none';
      side.payload = undefined;
    }
  }

  /**
   * Follows `socket`, whose peer is the learner: what it reads came from the learner, what is
   * written to it goes to the learner. Records the connection's close too.
   */
  attach(socket: Duplex): void {
    // First of the 'data' listeners: node's HTTP server parses a request (and may answer it) in its
    // own listener, and an answer must not be recorded before its question.
    socket.prependListener('data', (chunk: Buffer) => this.push('from-learner', chunk));
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      const bytes = asBytes(chunk, rest[0]);
      if (bytes && bytes.length > 0) this.push('to-learner', bytes);
      return write(chunk, ...rest);
    }) as typeof socket.write;
    socket.once('close', () => this.traffic?.closed(this.endpoint, this.connection, 'close'));
  }
}

/** What a write() call sends, as bytes (a string in the encoding it names: node writes HTTP heads as latin1). */
function asBytes(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}
