// Turns chunks of a TCP byte stream back into lines.
export class LineFramer {
  /** Takes the next chunk; returns the lines it completed (without "\n" or a final "\r"). */
  push(chunk: Buffer): string[] {
    // TODO: add the chunk to what is left from earlier chunks, return every complete line,
    //       and keep the unfinished rest for the next call.
    return [];
  }

  /** The stream has ended: the unfinished rest as a last line, if there is one. */
  end(): string[] {
    // TODO
    return [];
  }
}
