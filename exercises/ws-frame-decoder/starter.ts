// Decodes a WebSocket byte stream into messages and control frames.

export type DecodedEvent =
  | { type: 'text'; data: string }
  | { type: 'binary'; data: Buffer }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string };

export class FrameDecoder {
  /** Takes the next chunk; returns the messages and control frames it completed, in order. */
  push(chunk: Buffer): DecodedEvent[] {
    // TODO: add the chunk to the bytes kept from earlier chunks, then, while a whole frame is there:
    //       read its header (FIN, RSV, opcode, MASK, the 7/16/64-bit length, the mask key),
    //       check the rules, unmask the payload, and turn the frame into an event (or a fragment).
    return [];
  }
}
