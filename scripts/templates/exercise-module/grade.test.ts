// Grading tests of a module exercise. They use vitest's API (describe, it) and the grading kit
// (sandbox-server/src/grading-kit/README.md). The learner's file runs in its own process; the
// tests call its exports through learnerModule() (arguments and results are copied: Buffers,
// strings, numbers, arrays, plain objects; class instances stay in the learner's process and
// come back as handles to call methods on).
import { describe, it } from 'vitest';
import { describeBytes, GradingFailure, learnerModule } from '../../../sandbox-server/src/grading-kit/index.ts';

/** The learner's encode(text), checked byte for byte. */
async function expectEncoded(text: string, expected: Buffer): Promise<void> {
  const got = await (await learnerModule()).call('encode', text);
  if (!Buffer.isBuffer(got) || !got.equals(expected)) {
    throw new GradingFailure(`encode(${JSON.stringify(text)}) should return ${describeBytes(expected)}, but it returned ${Buffer.isBuffer(got) ? describeBytes(got) : JSON.stringify(got)}`);
  }
}

/** Pushes `chunk` into a decoder in the learner's process and compares the messages it returns. */
async function expectMessages(decoder: { call(method: string, ...args: unknown[]): Promise<unknown> }, chunk: Buffer, expected: string[]): Promise<void> {
  const got = await decoder.call('push', chunk);
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    throw new GradingFailure(`push(${describeBytes(chunk)}) should return ${JSON.stringify(expected)}, but it returned ${JSON.stringify(got)}`);
  }
}

const framed = (text: string) => {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]);
};

describe('length-prefixed messages', () => {
  it('encode() puts the length in bytes before the text', async () => {
    await expectEncoded('hi', Buffer.from([0, 2, 0x68, 0x69]));
    await expectEncoded('', Buffer.from([0, 0]));
  });

  it('encode() counts bytes, not characters: "héllo" is 6 bytes', async () => {
    await expectEncoded('héllo', framed('héllo'));
  });

  it('a Decoder returns a message that arrives whole', async () => {
    // construct() runs `new Decoder()` in the learner's process and returns a handle to it.
    const decoder = await (await learnerModule()).construct('Decoder');
    await expectMessages(decoder, framed('hello'), ['hello']);
  });

  it('a Decoder keeps a message that arrives in pieces until it is complete', async () => {
    const decoder = await (await learnerModule()).construct('Decoder');
    const bytes = framed('in pieces');
    await expectMessages(decoder, bytes.subarray(0, 1), []);
    await expectMessages(decoder, bytes.subarray(1, 5), []);
    await expectMessages(decoder, bytes.subarray(5), ['in pieces']);
  });

  it('a Decoder returns every message a chunk completes', async () => {
    const decoder = await (await learnerModule()).construct('Decoder');
    await expectMessages(decoder, Buffer.concat([framed('one'), framed('two'), framed('thr')]), ['one', 'two', 'thr']);
  });
});
