// Mistake: trim()s every line to get rid of "\r", which also removes spaces the sender meant.
import { StringDecoder } from 'node:string_decoder';

export class LineFramer {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  push(chunk: Buffer): string[] {
    const lines = (this.rest + this.decoder.write(chunk)).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((line) => line.trim());
  }

  end(): string[] {
    const last = (this.rest + this.decoder.end()).trim();
    this.rest = '';
    return last ? [last] : [];
  }
}
