/** The text's length in bytes (2 bytes, big-endian), then the text in UTF-8. */
export function encode(text: string): Buffer {
  // TODO
  return Buffer.alloc(0);
}

/** Turns chunks of a stream of encode()d messages back into messages. */
export class Decoder {
  /** Takes the next chunk; returns the messages it completed. */
  push(chunk: Buffer): string[] {
    // TODO: keep what has arrived, return every complete message, keep the rest for later.
    return [];
  }
}
