import { StringDecoder } from 'node:string_decoder';

// Turns chunks of a TCP byte stream back into lines. TCP keeps the bytes in order but not the
// boundaries between writes, so a chunk may end anywhere: inside a line, or even inside a character.
export class LineFramer {
  // One decoder and one rest per framer: each connection has its own stream.
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  /** Takes the next chunk; returns the lines it completed (without "\n" or a final "\r"). */
  push(chunk: Buffer): string[] {
    // The decoder returns only whole characters; the first bytes of a character cut at the end of
    // this chunk wait inside it for the rest, which comes with the next chunk.
    const text = this.rest + this.decoder.write(chunk);
    const pieces = text.split('\n');
    // The last piece has no "\n" after it (yet): it is the start of a line still to come.
    this.rest = pieces.pop() ?? '';
    return pieces.map(withoutCarriageReturn);
  }

  /** The stream has ended: the unfinished rest as a last line, if there is one. */
  end(): string[] {
    const last = this.rest + this.decoder.end();
    this.rest = '';
    return last === '' ? [] : [last];
  }
}

/** "\r\n" line endings: drop the "\r" too, but only that one character. */
function withoutCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
