// Frames for the grader: the kit's wsFrame() (what the ws library itself writes), frames written by
// hand where ws never would (broken frames, reserved opcodes), and byte streams of frames
// that know which event each frame should produce, so a test can cut a stream anywhere and say
// what each push must return.
/** What the decoder should return for a frame (or for the last fragment of a message). */
export type Expected =
  | { type: 'text'; data: string }
  | { type: 'binary' | 'ping' | 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string };

/** A frame header written by hand (for frames ws never writes), followed by `payload` unmasked. */
export function handFrame(firstByte: number, payload: Buffer, length = payload.length): Buffer {
  let header: Buffer;
  if (length < 126) header = Buffer.from([firstByte, length]);
  else if (length < 65536) {
    header = Buffer.from([firstByte, 126, 0, 0]);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.from([firstByte, 127, 0, 0, 0, 0, 0, 0, 0, 0]);
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

/** Bytes of several frames, with the event each frame completes (none for a fragment that is not the last). */
export class FrameStream {
  private readonly parts: Buffer[] = [];
  /** Byte offset at which each event is complete, and the event. */
  readonly events: Array<{ end: number; event: Expected }> = [];
  /** What each frame is, for failure messages. */
  readonly descriptions: string[] = [];
  private length = 0;

  add(frame: Buffer, description: string, event?: Expected): this {
    this.parts.push(frame);
    this.length += frame.length;
    this.descriptions.push(description);
    if (event) this.events.push({ end: this.length, event });
    return this;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** The events a push of bytes [from, to) must return: those whose last byte is in it. */
  between(from: number, to: number): Expected[] {
    return this.events.filter((e) => e.end > from && e.end <= to).map((e) => e.event);
  }

  describe(): string {
    return this.descriptions.join(', ');
  }
}
