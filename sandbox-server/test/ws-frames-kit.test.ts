// The grading kit's wsFrame(): frames as ws writes them, read back by the traffic log's frame parser
// (which has its own tests against hand-made bytes), and the caller's payload left as it was.
import { describe, expect, it } from 'vitest';
import { closePayload, WS_OPCODES, wsFrame } from '../src/grading-kit/index.ts';
import { WebSocketFrameParser } from '../src/traffic/websocket-frames.ts';

const parse = (bytes: Buffer) => new WebSocketFrameParser(1 << 20).push(bytes);

describe('grading kit: wsFrame', () => {
  it('writes text, binary and control frames, masked or not, with the shortest length form', () => {
    for (const [size, headerBytes] of [[5, 2], [126, 4], [65_535, 4], [65_536, 10]] as const) {
      const payload = Buffer.alloc(size, 'x');
      const plain = wsFrame(payload, { opcode: WS_OPCODES.binary });
      expect(plain.length).toBe(headerBytes + size);
      const masked = wsFrame(payload, { opcode: WS_OPCODES.binary, mask: true });
      expect(masked.length).toBe(headerBytes + 4 + size);
      const [frame] = parse(masked);
      expect({ kind: frame.kind, masked: frame.masked, fin: frame.fin, length: frame.length }).toEqual({ kind: 'binary', masked: true, fin: true, length: size });
      expect(frame.payload.equals(payload)).toBe(true);
    }
    const frames = parse(Buffer.concat([
      wsFrame('hel', { opcode: WS_OPCODES.text, fin: false, mask: true }),
      wsFrame('', { opcode: WS_OPCODES.ping }),
      wsFrame('lo', { opcode: WS_OPCODES.continuation, mask: true }),
      wsFrame(closePayload(4001, 'café'), { opcode: WS_OPCODES.close, mask: true }),
    ]));
    expect(frames.map((f) => [f.kind, f.fin, f.masked, f.payload.toString()])).toEqual([
      ['text', false, true, 'hel'],
      ['ping', true, false, ''],
      ['continuation', true, true, 'lo'],
      ['close', true, true, closePayload(4001, 'café').toString()],
    ]);
    expect([frames[3].closeCode, frames[3].closeReason]).toEqual([4001, 'café']);
  });

  it("masks a copy: the caller's payload is unchanged", () => {
    const payload = Buffer.from('keep me as I am');
    wsFrame(payload, { opcode: WS_OPCODES.text, mask: true });
    expect(payload.toString()).toBe('keep me as I am');
  });

  it('uses a fresh mask key for each masked frame', () => {
    const keys = new Set(Array.from({ length: 20 }, () => wsFrame('same', { opcode: WS_OPCODES.text, mask: true }).subarray(2, 6).toString('hex')));
    expect(keys.size).toBeGreaterThan(1);
  });
});
