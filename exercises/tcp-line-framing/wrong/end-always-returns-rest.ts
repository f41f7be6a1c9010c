// Mistake: end() returns [rest] even when the rest is empty, inventing an empty last line.
import { StringDecoder } from 'node:string_decoder';

export class LineFramer {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  push(chunk: Buffer): string[] {
    const lines = (this.rest + this.decoder.write(chunk)).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  end(): string[] {
    const last = this.rest + this.decoder.end();
    this.rest = '';
    return [last];
  }
}
