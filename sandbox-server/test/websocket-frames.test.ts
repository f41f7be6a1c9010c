// The traffic log's WebSocket frame reader: frames made by the ws library and by hand, cut at every
// byte boundary, with the three length forms, masking, close codes, and framing it must refuse.
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { FramingError, WebSocketFrameParser, type WebSocketFrame } from '../src/traffic/websocket-frames.ts';

// ws exports its frame writer, but @types/ws does not declare it.
type FrameOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean; maskKey: Buffer };
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

/** A frame as the ws library writes it (a client's frames are masked). */
function wsFrame(data: Buffer, options: { opcode: number; fin?: boolean; mask?: boolean; closeCode?: number }): Buffer {
  const payload = options.closeCode !== undefined ? Buffer.concat([Buffer.from([options.closeCode >> 8, options.closeCode & 0xff]), data]) : data;
  return Buffer.concat(Sender.frame(payload, { fin: options.fin ?? true, opcode: options.opcode, mask: options.mask ?? false, readOnly: false, rsv1: false, maskKey: Buffer.from([1, 2, 3, 4]) }));
}

const summary = (f: WebSocketFrame) => ({ fin: f.fin, kind: f.kind, masked: f.masked, length: f.length, text: f.payload.toString(), closeCode: f.closeCode, closeReason: f.closeReason });

describe('WebSocketFrameParser', () => {
  it('reads text, binary, ping, pong and close frames, masked and not, from ws itself', () => {
    const stream = Buffer.concat([
      wsFrame(Buffer.from('hello'), { opcode: 1, mask: true }),
      wsFrame(Buffer.from([0, 255]), { opcode: 2 }),
      wsFrame(Buffer.from('p'), { opcode: 9, mask: true }),
      wsFrame(Buffer.from('p'), { opcode: 10 }),
      wsFrame(Buffer.from('bye'), { opcode: 8, mask: true, closeCode: 4000 }),
    ]);
    const frames = new WebSocketFrameParser().push(stream);
    expect(frames.map(summary)).toEqual([
      { fin: true, kind: 'text', masked: true, length: 5, text: 'hello', closeCode: undefined, closeReason: undefined },
      { fin: true, kind: 'binary', masked: false, length: 2, text: Buffer.from([0, 255]).toString(), closeCode: undefined, closeReason: undefined },
      { fin: true, kind: 'ping', masked: true, length: 1, text: 'p', closeCode: undefined, closeReason: undefined },
      { fin: true, kind: 'pong', masked: false, length: 1, text: 'p', closeCode: undefined, closeReason: undefined },
      { fin: true, kind: 'close', masked: true, length: 5, text: Buffer.from([0x0f, 0xa0, 0x62, 0x79, 0x65]).toString(), closeCode: 4000, closeReason: 'bye' },
    ]);
  });

  it.each([
    ['7-bit', 125],
    ['16-bit', 126],
    ['16-bit', 65535],
    ['64-bit', 65536],
  ])('reads a %s length (%i bytes) however the bytes are cut', (_form, size) => {
    const data = Buffer.alloc(size, 'x');
    const stream = Buffer.concat([wsFrame(data, { opcode: 2, mask: true }), wsFrame(Buffer.from('after'), { opcode: 1 })]);
    for (const cut of [1, 2, 3, 5, 9, 13, 14, stream.length - 6]) {
      const parser = new WebSocketFrameParser(16);
      const frames = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut))];
      expect(frames.map((f) => [f.kind, f.length, f.payload.length])).toEqual([
        ['binary', size, 16],
        ['text', 5, 5],
      ]);
      expect(frames[0].payload.toString()).toBe('x'.repeat(16)); // unmasked
    }
  });

  it('reads a stream fed one byte at a time, fragments and a ping between them included', () => {
    const stream = Buffer.concat([
      wsFrame(Buffer.from('frag'), { opcode: 1, fin: false, mask: true }),
      wsFrame(Buffer.alloc(0), { opcode: 9, mask: true }),
      wsFrame(Buffer.from('ment'), { opcode: 0, fin: true, mask: true }),
    ]);
    const parser = new WebSocketFrameParser();
    const frames = [...stream].flatMap((byte) => parser.push(Buffer.from([byte])));
    expect(frames.map((f) => [f.kind, f.fin, f.payload.toString()])).toEqual([
      ['text', false, 'frag'],
      ['ping', true, ''],
      ['continuation', true, 'ment'],
    ]);
  });

  it('keeps only the first bytes of a payload, and says how much of the frame is still to come', () => {
    const parser = new WebSocketFrameParser(4);
    const frame = wsFrame(Buffer.alloc(100_000, 'y'), { opcode: 2 });
    expect(parser.push(frame.subarray(0, 50_000))).toEqual([]);
    expect(parser.pendingPayloadBytes).toBe(100_000 - (50_000 - 10));
    const [done] = parser.push(frame.subarray(50_000));
    expect(done.payload.toString()).toBe('yyyy');
    expect(parser.pendingPayloadBytes).toBe(0);
  });

  it('stops at a 64-bit length beyond what a stream can carry, and at a length not in its shortest form', () => {
    const huge = Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    const tooLong = new WebSocketFrameParser();
    expect(tooLong.push(huge)).toEqual([]);
    expect(tooLong.error).toBeInstanceOf(FramingError);
    expect(tooLong.error?.code).toBe('length_too_large');

    const padded = new WebSocketFrameParser();
    expect(padded.push(Buffer.from([0x81, 126, 0, 5, 104, 101, 108, 108, 111]))).toEqual([]);
    expect(padded.error?.code).toBe('non_minimal_length');
    expect(padded.error?.message).toBe('a 16-bit length of 5, which fits in 7 bits');
  });
});
