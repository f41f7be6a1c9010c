// WebSocket frames as the ws library itself writes them, for graders that feed frames to a learner's
// code (a frame decoder, a hand-written server): what a real peer sends, not a test's idea of it.
// It lives in the kit because grading files are bundled with packages left external and run from a
// temp dir, where `import 'ws'` would not resolve; the kit is loaded from the repository.
import * as wsModule from 'ws';

// ws exports its frame writer, but @types/ws does not declare it.
type SenderOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean };
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: SenderOptions): Buffer[] } };

export const WS_OPCODES = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface WsFrameOptions {
  opcode: number;
  /** false: a fragment that is not the last of its message. Default true. */
  fin?: boolean;
  /** true: a client's frame, masked with a random key chosen by ws. Default false (a server's). */
  mask?: boolean;
}

/** One frame, header and payload, exactly as ws's Sender writes it. The payload is not modified. */
export function wsFrame(payload: Buffer | string, options: WsFrameOptions): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  // readOnly: ws masks a copy instead of masking the caller's buffer in place.
  return Buffer.concat(Sender.frame(data, { fin: options.fin ?? true, opcode: options.opcode, mask: options.mask ?? false, readOnly: true, rsv1: false }));
}

/** A close frame's body: the status code (2 bytes, big-endian), then the reason in UTF-8. */
export function closePayload(code: number, reason = ''): Buffer {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return body;
}
