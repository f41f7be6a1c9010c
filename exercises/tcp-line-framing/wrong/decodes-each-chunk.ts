// Mistake: keeps the rest, but decodes every chunk on its own with toString(), which breaks characters split across chunks.
export class LineFramer {
  private rest = '';

  push(chunk: Buffer): string[] {
    const lines = (this.rest + chunk.toString('utf8')).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last ? [last] : [];
  }
}
