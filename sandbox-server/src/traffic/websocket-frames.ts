// Reads WebSocket frames (RFC 6455 section 5.2) out of a byte stream as it passes, for the traffic
// log: each frame's header, its close code and reason, and the first bytes of its payload, unmasked.
// It never holds more than one header and `keepBytes` of one payload, whatever a peer sends, so a
// giant frame or an endless fragmented message costs the trusted side nothing.

export const OPCODES = { 0x0: 'continuation', 0x1: 'text', 0x2: 'binary', 0x8: 'close', 0x9: 'ping', 0xa: 'pong' } as const;
export type OpcodeName = (typeof OPCODES)[keyof typeof OPCODES] | 'reserved';

export interface WebSocketFrame {
  fin: boolean;
  /** RSV1-3 as a number (0 unless an extension such as permessage-deflate is in use). */
  rsv: number;
  opcode: number;
  kind: OpcodeName;
  masked: boolean;
  /** Payload length as the header declares it. */
  length: number;
  /** The first bytes of the payload, unmasked (at most `keepBytes`). */
  payload: Buffer;
  /** For a close frame with a body: its status code and reason. */
  closeCode?: number;
  closeReason?: string;
}

/** What the parser could not read as a frame; it stops there (the rest is not a WebSocket stream). */
export class FramingError extends Error {
  constructor(
    message: string,
    readonly code: 'length_too_large' | 'non_minimal_length',
  ) {
    super(message);
  }
}

/** Longest header: 2 bytes, 8 of extended length, 4 of mask key. */
const MAX_HEADER_BYTES = 14;

export class WebSocketFrameParser {
  private header = Buffer.alloc(0);
  private current?: { frame: Omit<WebSocketFrame, 'payload'>; mask?: Buffer; kept: Buffer[]; keptBytes: number; remaining: number; offset: number };
  /** Set once the stream stopped being a valid frame sequence; nothing more is parsed. */
  error?: FramingError;

  constructor(private readonly keepBytes = 1024) {}

  /** Frames completed by `chunk`, in order. */
  push(chunk: Buffer): WebSocketFrame[] {
    const frames: WebSocketFrame[] = [];
    let rest = chunk;
    while (rest.length > 0 && !this.error) {
      if (!this.current) {
        rest = this.readHeader(rest);
        if (!this.current) break;
      }
      const take = Math.min(rest.length, this.current.remaining);
      this.keep(rest.subarray(0, take));
      this.current.remaining -= take;
      rest = rest.subarray(take);
      if (this.current.remaining === 0) frames.push(this.finish());
    }
    if (this.current?.remaining === 0) frames.push(this.finish()); // an empty payload
    return frames;
  }

  /** Payload bytes of the frame being read that have not arrived yet (0 between frames). */
  get pendingPayloadBytes(): number {
    return this.current?.remaining ?? 0;
  }

  private readHeader(chunk: Buffer): Buffer {
    const need = Math.min(MAX_HEADER_BYTES, chunk.length + this.header.length);
    const buffered = Buffer.concat([this.header, chunk.subarray(0, need - this.header.length)]);
    const size = headerSize(buffered);
    if (size === undefined || buffered.length < size) {
      this.header = buffered;
      return Buffer.alloc(0);
    }
    const used = size - this.header.length;
    this.header = Buffer.alloc(0);
    const b0 = buffered[0];
    const b1 = buffered[1];
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let at = 2;
    if (length === 126) {
      length = buffered.readUInt16BE(2);
      if (length < 126) return this.fail(new FramingError(`a 16-bit length of ${length}, which fits in 7 bits`, 'non_minimal_length'));
      at = 4;
    } else if (length === 127) {
      const big = buffered.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.fail(new FramingError(`a 64-bit length of ${big} bytes`, 'length_too_large'));
      length = Number(big);
      if (length < 65536) return this.fail(new FramingError(`a 64-bit length of ${length}, which fits in 16 bits`, 'non_minimal_length'));
      at = 10;
    }
    const opcode = b0 & 0x0f;
    this.current = {
      frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 & 0x70) >> 4, opcode, kind: OPCODES[opcode as keyof typeof OPCODES] ?? 'reserved', masked, length },
      mask: masked ? Buffer.from(buffered.subarray(at, at + 4)) : undefined,
      kept: [],
      keptBytes: 0,
      remaining: length,
      offset: 0,
    };
    return chunk.subarray(used);
  }

  private fail(error: FramingError): Buffer {
    this.error = error;
    return Buffer.alloc(0);
  }

  private keep(bytes: Buffer): void {
    const current = this.current!;
    const room = Math.max(0, this.keepBytes - current.keptBytes);
    if (room > 0 && bytes.length > 0) {
      const part = Buffer.from(bytes.subarray(0, room));
      if (current.mask) for (let i = 0; i < part.length; i++) part[i] ^= current.mask[(current.offset + i) % 4];
      current.kept.push(part);
      current.keptBytes += part.length;
    }
    current.offset += bytes.length;
  }

  private finish(): WebSocketFrame {
    const { frame, kept } = this.current!;
    this.current = undefined;
    const payload = Buffer.concat(kept);
    const result: WebSocketFrame = { ...frame, payload };
    if (frame.opcode === 0x8 && payload.length >= 2) {
      result.closeCode = payload.readUInt16BE(0);
      result.closeReason = payload.subarray(2).toString('utf8');
    }
    return result;
  }
}

/** The size of the header that starts `bytes`, or undefined until its first two bytes are there. */
function headerSize(bytes: Buffer): number | undefined {
  if (bytes.length < 2) return undefined;
  const len7 = bytes[1] & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  return 2 + extended + (bytes[1] & 0x80 ? 4 : 0);
}
