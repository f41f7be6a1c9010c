// Mistake: keeps the unfinished rest in one module-level variable shared by every framer.
import { StringDecoder } from 'node:string_decoder';

const decoder = new StringDecoder('utf8');
let rest = '';

export class LineFramer {
  push(chunk: Buffer): string[] {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  end(): string[] {
    const last = rest + decoder.end();
    rest = '';
    return last ? [last] : [];
  }
}
