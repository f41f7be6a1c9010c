// Decodes a WebSocket byte stream (RFC 6455, section 5) into messages and control frames: bytes in,
// in chunks cut anywhere, whole messages out, with pings, pongs and closes delivered as they come.

export type DecodedEvent =
  | { type: 'text'; data: string }
  | { type: 'binary'; data: Buffer }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string };

/** The stream broke a rule of the protocol: a real endpoint would close the connection (1002). */
export class ProtocolError extends Error {}

const CONTINUATION = 0x0;
const TEXT = 0x1;
const BINARY = 0x2;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;
const MAX_CONTROL_PAYLOAD = 125;
/** "No status code was present": what a close frame without a body reports (as ws and browsers do). */
const NO_STATUS = 1005;

interface Header {
  fin: boolean;
  opcode: number;
  mask?: Buffer;
  length: number;
  /** Where the payload starts, counted from the first byte of the frame. */
  payloadAt: number;
}

export class FrameDecoder {
  /** Bytes received but not yet part of a complete frame. */
  private buffered: Buffer = Buffer.alloc(0);
  /** The fragments of a message whose last frame (FIN set) has not arrived yet. */
  private message?: { opcode: number; fragments: Buffer[] };

  /** Takes the next chunk; returns the messages and control frames it completed, in order. */
  push(chunk: Buffer): DecodedEvent[] {
    this.buffered = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    const events: DecodedEvent[] = [];
    for (;;) {
      const header = this.readHeader();
      if (!header) break;
      const end = header.payloadAt + header.length;
      if (this.buffered.length < end) break; // the payload is still on its way
      // Copied: the chunk belongs to the caller, and unmasking writes into it.
      const payload = Buffer.from(this.buffered.subarray(header.payloadAt, end));
      this.buffered = this.buffered.subarray(end);
      if (header.mask) for (let i = 0; i < payload.length; i++) payload[i] ^= header.mask[i % 4];
      const event = this.frame(header, payload);
      if (event) events.push(event);
    }
    return events;
  }

  /** The header at the front of the buffer, checked, or undefined until all of it has arrived. */
  private readHeader(): Header | undefined {
    const bytes = this.buffered;
    if (bytes.length < 2) return undefined;
    const fin = (bytes[0] & 0x80) !== 0;
    const opcode = bytes[0] & 0x0f;
    if ((bytes[0] & 0x70) !== 0) throw new ProtocolError('an RSV bit is set, but no extension was agreed on');
    const masked = (bytes[1] & 0x80) !== 0;
    let length = bytes[1] & 0x7f;
    let at = 2;
    if (length === 126) {
      if (bytes.length < 4) return undefined;
      length = bytes.readUInt16BE(2); // unsigned: up to 65535
      at = 4;
    } else if (length === 127) {
      if (bytes.length < 10) return undefined;
      const big = bytes.readBigUInt64BE(2);
      // The RFC requires the top bit to be 0; a length past 2^53 could not be a Buffer anyway.
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError(`a 64-bit payload length of ${big} bytes`);
      length = Number(big);
      at = 10;
    }
    this.check(fin, opcode, length); // before waiting for a payload that breaks the rules
    if (!masked) return { fin, opcode, length, payloadAt: at };
    if (bytes.length < at + 4) return undefined;
    return { fin, opcode, length, mask: bytes.subarray(at, at + 4), payloadAt: at + 4 };
  }

  private check(fin: boolean, opcode: number, length: number): void {
    if (opcode === CLOSE || opcode === PING || opcode === PONG) {
      if (!fin) throw new ProtocolError('a control frame must not be fragmented');
      if (length > MAX_CONTROL_PAYLOAD) throw new ProtocolError(`a control frame of ${length} bytes (at most ${MAX_CONTROL_PAYLOAD})`);
      if (opcode === CLOSE && length === 1) throw new ProtocolError('a close frame with a 1-byte body (a status code takes 2)');
      return;
    }
    if (opcode === CONTINUATION) {
      if (!this.message) throw new ProtocolError('a continuation frame, but no message was started');
      return;
    }
    if (opcode === TEXT || opcode === BINARY) {
      if (this.message) throw new ProtocolError('a new message started before the fragmented one was finished');
      return;
    }
    throw new ProtocolError(`the reserved opcode 0x${opcode.toString(16)}`);
  }

  /** What a complete frame gives: a control frame at once, a data frame once its message is whole. */
  private frame(header: Header, payload: Buffer): DecodedEvent | undefined {
    switch (header.opcode) {
      case PING:
        return { type: 'ping', data: payload };
      case PONG:
        return { type: 'pong', data: payload };
      case CLOSE:
        if (payload.length === 0) return { type: 'close', code: NO_STATUS, reason: '' };
        return { type: 'close', code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
    }
    if (header.opcode !== CONTINUATION) this.message = { opcode: header.opcode, fragments: [] };
    const message = this.message!;
    message.fragments.push(payload);
    if (!header.fin) return undefined;
    this.message = undefined;
    const data = Buffer.concat(message.fragments);
    // Decoded once it is whole: a character may be cut between two fragments.
    return message.opcode === TEXT ? { type: 'text', data: data.toString('utf8') } : { type: 'binary', data };
  }
}
