// Turns a TCP byte stream into lines. Bytes are kept until a newline arrives, so a line split
// across chunks, or a multi-byte UTF-8 character split across chunks, comes out whole.
export class LineTooLongError extends Error {}

export class LineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes = 4096) {}

  /** Feed one chunk; returns the lines it completed (without "\n" or a trailing "\r"). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      this.checkLength(piece.length);
      this.pending.push(piece);
      lines.push(this.takeLine());
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.checkLength(rest.length);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
    return lines;
  }

  /** The unterminated rest, when the stream ends. */
  end(): string | undefined {
    if (this.pendingBytes === 0) return undefined;
    return this.takeLine();
  }

  private checkLength(more: number): void {
    if (this.pendingBytes + more > this.maxLineBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      throw new LineTooLongError(`line longer than ${this.maxLineBytes} bytes`);
    }
  }

  private takeLine(): string {
    const line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }
}
