/** The text's length in bytes (2 bytes, big-endian), then the text in UTF-8. */
export function encode(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(2);
  header.writeUInt16BE(body.length);
  return Buffer.concat([header, body]);
}

/** Turns chunks of a stream of encode()d messages back into messages. */
export class Decoder {
  // Bytes received but not yet part of a complete message (one per decoder: one per stream).
  private pending = Buffer.alloc(0);

  /** Takes the next chunk; returns the messages it completed. */
  push(chunk: Buffer): string[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const messages: string[] = [];
    while (this.pending.length >= 2) {
      const size = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + size) break;
      messages.push(this.pending.subarray(2, 2 + size).toString('utf8'));
      this.pending = this.pending.subarray(2 + size);
    }
    return messages;
  }
}
