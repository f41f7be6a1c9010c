// Mistake: treats each chunk as complete lines: nothing is kept between calls.
export class LineFramer {
  push(chunk: Buffer): string[] {
    return chunk
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/\r$/, ''));
  }

  end(): string[] {
    return [];
  }
}
