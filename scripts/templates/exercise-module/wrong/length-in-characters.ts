// The mistake: the length counts characters (text.length), not bytes. Right for ASCII, wrong as
// soon as the text has a character that takes more than one byte in UTF-8, like "é".
export function encode(text: string): Buffer {
  const header = Buffer.alloc(2);
  header.writeUInt16BE(text.length);
  return Buffer.concat([header, Buffer.from(text, 'utf8')]);
}

export class Decoder {
  private pending = Buffer.alloc(0);

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
