import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { closePayload, describeBytes, GradingFailure, learnerModule, WS_OPCODES, wsFrame, type RemoteObject } from '../../sandbox-server/src/grading-kit/index.ts';
import { FrameStream, handFrame, type Expected } from './frames.ts';

/** A FrameDecoder in the learner's process, with what was pushed into it so far (for messages). */
class Decoder {
  private pushedBytes = 0;
  private pushes = 0;

  private constructor(
    private readonly remote: RemoteObject,
    readonly name: string,
  ) {}

  static async create(name = 'the decoder'): Promise<Decoder> {
    const module = await learnerModule();
    return new Decoder(await module.construct('FrameDecoder'), name);
  }

  /** Pushes `chunk` and fails unless exactly `expected` comes back. `what` says what the bytes are. */
  async push(chunk: Buffer, expected: Expected[], what: string, hint: string): Promise<void> {
    const before = this.history();
    const got = await this.call(chunk, what, hint);
    const problem = compareEvents(expected, got);
    if (problem) {
      throw new GradingFailure(`${before}, push(${describeChunk(chunk)}) should return ${showEvents(expected)}, but it returned ${show(got)}: ${problem}. The stream was ${what}. ${hint}`);
    }
  }

  /** Pushes `chunk`, which breaks a rule of the protocol, and fails unless push() throws. */
  async expectThrow(chunk: Buffer, violation: string): Promise<void> {
    const before = this.history();
    let result: unknown;
    try {
      result = await this.remote.call('push', chunk);
    } catch (err) {
      if (/is not a function/.test((err as Error).message)) throw new GradingFailure(`FrameDecoder has no method push(). ${firstLine(err)}`);
      const unfinished = didNotFinish(err);
      if (unfinished) throw new GradingFailure(`${before}, push(${describeChunk(chunk)}) should throw an Error, since ${violation}, but it ${unfinished}.`);
      return; // thrown, as required
    }
    throw new GradingFailure(`${before}, push(${describeChunk(chunk)}) should throw an Error, since ${violation}, but it returned ${show(result)}.`);
  }

  private async call(chunk: Buffer, what: string, hint: string): Promise<unknown> {
    const before = this.history();
    this.pushes++;
    this.pushedBytes += chunk.length;
    try {
      return await this.remote.call('push', chunk);
    } catch (err) {
      const why = /is not a function/.test((err as Error).message) ? ' Does FrameDecoder have a method push()?' : '';
      const outcome = didNotFinish(err) ?? `threw ${firstLine(err)}`;
      throw new GradingFailure(`${before}, push(${describeChunk(chunk)}) ${outcome}, but the stream is valid: ${what}.${why} ${hint}`);
    }
  }

  private history(): string {
    if (this.pushes === 0) return `with nothing pushed into ${this.name} yet`;
    return `after ${this.pushes} push(es) of ${this.pushedBytes} byte(s) in all into ${this.name}`;
  }
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err).split('\n')[0];
}

/**
 * How a call that failed without the learner's code throwing went (it ran past its time, or the
 * process ended), in words that follow "push(…)"; undefined when push() did throw.
 */
function didNotFinish(err: unknown): string | undefined {
  const message = firstLine(err);
  if (/did not return within/.test(message)) return `did not return within ${message.split('did not return within ')[1]}`;
  if (message.startsWith('while running ')) return `never returned: ${message.slice('while running '.length).replace(/^[^,]*, /, '')}`;
  return undefined;
}

/** Why `got` is not `expected`, or undefined if it is. Properties beyond the required ones are ignored. */
function compareEvents(expected: Expected[], got: unknown): string | undefined {
  if (!Array.isArray(got)) return 'push() must return an array (empty when the chunk completes nothing)';
  if (got.length !== expected.length) {
    return got.length < expected.length ? `${expected.length - got.length} event(s) missing` : `${got.length - expected.length} event(s) too many`;
  }
  for (const [i, want] of expected.entries()) {
    const event = got[i] as Record<string, unknown> | null;
    const at = `event ${i + 1}`;
    if (!event || typeof event !== 'object') return `${at} is not an object`;
    if (event.type !== want.type) return `${at} has type ${JSON.stringify(event.type)} instead of ${JSON.stringify(want.type)}`;
    if (want.type === 'close') {
      if (event.code !== want.code) return `${at} has code ${show(event.code)} instead of ${want.code}`;
      if (event.reason !== want.reason) return `${at} has reason ${show(event.reason)} instead of ${JSON.stringify(want.reason)}`;
    } else if (want.type === 'text') {
      if (typeof event.data !== 'string') return `${at}'s data should be a string (the text), not ${show(event.data)}`;
      if (event.data !== want.data) return `${at}'s text differs${splitCharacters(event.data, want.data) ? ' ("\uFFFD" where a character of several bytes should be: its bytes were decoded apart from each other)' : ''}`;
    } else {
      if (!Buffer.isBuffer(event.data)) return `${at}'s data should be a Buffer, not ${show(event.data)}`;
      if (!event.data.equals(want.data)) return `${at}'s bytes differ`;
    }
  }
  return undefined;
}

/**
 * Whether `got` is `want` with characters of several bytes turned into U+FFFD, as decoding each
 * fragment on its own does to the characters cut between fragments, and not other garbage (bytes
 * left masked, say): what remains of `got` is `want` less some of its multi-byte characters.
 */
function splitCharacters(got: string, want: string): boolean {
  if (!got.includes('\uFFFD') || want.includes('\uFFFD')) return false;
  const kept = [...got.replaceAll('\uFFFD', '')];
  let matched = 0;
  for (const c of want) {
    if (c === kept[matched]) matched++;
    else if (c.codePointAt(0)! < 0x80) return false; // a 1-byte character is never cut apart
  }
  return matched === kept.length;
}

function showEvent(event: Expected): string {
  if (event.type === 'close') return `{ type: 'close', code: ${event.code}, reason: ${JSON.stringify(event.reason)} }`;
  if (event.type === 'text') return `{ type: 'text', data: ${shortText(event.data)} }`;
  return `{ type: '${event.type}', data: ${describeBuffer(event.data)} }`;
}

function showEvents(events: Expected[]): string {
  return `[${events.map(showEvent).join(', ')}]`;
}

/** A value the learner's code returned, shown as the learner would read it. */
function show(value: unknown, depth = 0): string {
  if (value === undefined) return 'undefined';
  if (Buffer.isBuffer(value)) return describeBuffer(value);
  if (typeof value === 'string') return shortText(value);
  if (depth > 2) return '…';
  if (Array.isArray(value)) return `[${value.slice(0, 6).map((v) => show(v, depth + 1)).join(', ')}${value.length > 6 ? `, … (${value.length} in all)` : ''}]`;
  if (value && typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${show(v, depth + 1)}`).join(', ')} }`;
  return String(value);
}

function shortText(text: string): string {
  return text.length > 60 ? `${JSON.stringify(text.slice(0, 40))}… (${text.length} characters)` : JSON.stringify(text);
}

function describeBuffer(bytes: Buffer): string {
  return bytes.length > 24 ? `<${bytes.length} bytes: ${bytes.subarray(0, 12).toString('hex')}…>` : `<Buffer ${bytes.toString('hex') || '(empty)'}>`;
}

function describeChunk(chunk: Buffer): string {
  return chunk.length > 40 ? `${chunk.length} bytes: ${chunk.subarray(0, 16).toString('hex')}…` : describeBytes(chunk, 40);
}

/** Pushes `stream` into `decoder` (a new one by default) cut at `cuts`, checking what each push returns. */
async function feed(stream: FrameStream, cuts: number[], hint: string, decoder?: Decoder): Promise<void> {
  const bytes = stream.bytes;
  decoder ??= await Decoder.create();
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    if (to <= from) continue;
    const cutNote = cuts.length ? ` (pushed in pieces ending at bytes ${[...cuts, bytes.length].join(', ')} of ${bytes.length})` : '';
    await decoder.push(bytes.subarray(from, to), stream.between(from, to), `${stream.describe()}${cutNote}`, hint);
    from = to;
  }
}

/**
 * The stream cut in two at every byte. One decoder takes it again and again: the stream ends at a
 * frame boundary, so each pass starts where a fresh decoder would (and the calls stay few).
 */
async function feedEveryCut(stream: FrameStream, hint: string): Promise<void> {
  const decoder = await Decoder.create();
  for (let cut = 1; cut < stream.bytes.length; cut++) await feed(stream, [cut], hint, decoder);
}

function oneByteAtATime(stream: FrameStream): number[] {
  return Array.from({ length: stream.bytes.length - 1 }, (_, i) => i + 1);
}

function chunksOf(stream: FrameStream, size: number): number[] {
  return Array.from({ length: Math.ceil(stream.bytes.length / size) - 1 }, (_, i) => (i + 1) * size);
}

/** For tests that make hundreds of calls or move large payloads: room for a loaded machine. */
const HEAVY_TEST_MS = 20_000;

const text = (data: string): Expected => ({ type: 'text', data });
const binary = (data: Buffer): Expected => ({ type: 'binary', data });

const CHUNKS_HINT = 'One chunk is not one frame: keep the bytes of an unfinished frame until the rest arrives, and read every frame a chunk completes.';
const MASK_HINT = 'A set MASK bit (the top bit of the second byte) means 4 key bytes follow the length, and payload byte i is XORed with key byte i % 4.';

describe('FrameDecoder', () => {
  it('decodes an unmasked text frame (the RFC\'s example: 81 05 "Hello")', async () => {
    const stream = new FrameStream().add(Buffer.from('810548656c6c6f', 'hex'), 'the unmasked text frame 81 05 48 65 6c 6c 6f', text('Hello'));
    await feed(stream, [], 'The first byte 81 is FIN + opcode 1 (text); the second, 05, is MASK 0 and a length of 5.');
  });

  it("unmasks a masked frame (the RFC's example, and frames ws masked with random keys)", async () => {
    const rfc = new FrameStream().add(Buffer.from('818537fa213d7f9f4d5158', 'hex'), 'the masked text frame 81 85 37 fa 21 3d 7f 9f 4d 51 58 (key 37 fa 21 3d)', text('Hello'));
    await feed(rfc, [], MASK_HINT);
    for (const message of ['Hello, masked world', 'é ✓ 🚀', 'x'.repeat(125)]) {
      const stream = new FrameStream().add(wsFrame(message, { opcode: WS_OPCODES.text, mask: true }), `a masked text frame from ws (${Buffer.byteLength(message)} bytes)`, text(message));
      await feed(stream, [], MASK_HINT);
    }
  });

  it('reads a length written in more bytes than it needs', async () => {
    const stream = new FrameStream()
      .add(Buffer.from('817e000548656c6c6f', 'hex'), 'text "Hello" with its length 5 in the 16-bit form (81 7e 00 05)', text('Hello'))
      .add(Buffer.from('827f0000000000000003010203', 'hex'), 'binary 01 02 03 with its length 3 in the 64-bit form', binary(Buffer.from([1, 2, 3])));
    await feed(stream, [], 'The 7-bit value 126 or 127 says which form the length is in, whatever its value: read it as it is.');
  });

  it('returns a binary message as the exact bytes', async () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const mask of [false, true]) {
      const stream = new FrameStream().add(wsFrame(every, { opcode: WS_OPCODES.binary, mask }), `a${mask ? ' masked' : 'n unmasked'} binary frame of the bytes 00 to ff`, binary(every));
      await feed(stream, [], 'A binary message comes back as a Buffer with exactly the payload bytes: do not decode it as text.');
    }
  });

  it('returns every frame a chunk completes, in order', async () => {
    const stream = new FrameStream()
      .add(wsFrame('first', { opcode: WS_OPCODES.text, mask: true }), 'text "first"', text('first'))
      .add(wsFrame(Buffer.from([1, 2, 3]), { opcode: WS_OPCODES.binary, mask: true }), 'binary 01 02 03', binary(Buffer.from([1, 2, 3])))
      .add(wsFrame('are you there?', { opcode: WS_OPCODES.ping, mask: true }), 'ping "are you there?"', { type: 'ping', data: Buffer.from('are you there?') })
      .add(wsFrame('yes', { opcode: WS_OPCODES.pong }), 'pong "yes"', { type: 'pong', data: Buffer.from('yes') })
      .add(wsFrame('', { opcode: WS_OPCODES.text }), 'an empty text frame', text(''))
      .add(wsFrame(closePayload(1000, 'done'), { opcode: WS_OPCODES.close, mask: true }), 'close 1000 "done"', { type: 'close', code: 1000, reason: 'done' });
    await feed(stream, [], 'One chunk can hold several frames: read frames until the bytes run out, and return all of them in order.');
  });

  it('keeps a frame cut at any byte until it is complete', { timeout: HEAVY_TEST_MS }, async () => {
    const stream = new FrameStream()
      .add(wsFrame('Hello, in pieces', { opcode: WS_OPCODES.text, mask: true }), 'a masked text frame "Hello, in pieces"', text('Hello, in pieces'))
      .add(wsFrame(Buffer.alloc(130, 7), { opcode: WS_OPCODES.binary }), 'an unmasked binary frame of 130 bytes (16-bit length)', binary(Buffer.alloc(130, 7)))
      .add(wsFrame('', { opcode: WS_OPCODES.ping, mask: true }), 'an empty masked ping', { type: 'ping', data: Buffer.alloc(0) });
    await feedEveryCut(stream, CHUNKS_HINT);
  });

  it('decodes a stream pushed one byte at a time', { timeout: HEAVY_TEST_MS }, async () => {
    const stream = new FrameStream()
      .add(wsFrame('frag', { opcode: WS_OPCODES.text, fin: false, mask: true }), 'text "frag" (FIN 0)')
      .add(wsFrame('beat', { opcode: WS_OPCODES.ping, mask: true }), 'ping "beat"', { type: 'ping', data: Buffer.from('beat') })
      .add(wsFrame('ments', { opcode: WS_OPCODES.continuation, mask: true }), 'continuation "ments" (FIN 1)', text('fragments'))
      .add(wsFrame(closePayload(1001, 'bye'), { opcode: WS_OPCODES.close, mask: true }), 'close 1001 "bye"', { type: 'close', code: 1001, reason: 'bye' });
    await feed(stream, oneByteAtATime(stream), CHUNKS_HINT);
  });

  it('reassembles a text message sent in fragments, even with a character cut between two', { timeout: HEAVY_TEST_MS }, async () => {
    const cafe = Buffer.from('café ✓');
    const stream = new FrameStream()
      .add(wsFrame('Hel', { opcode: WS_OPCODES.text, fin: false, mask: true }), 'text "Hel" (FIN 0)')
      .add(wsFrame('lo, ', { opcode: WS_OPCODES.continuation, fin: false, mask: true }), 'continuation "lo, " (FIN 0)')
      .add(wsFrame('world', { opcode: WS_OPCODES.continuation, mask: true }), 'continuation "world" (FIN 1)', text('Hello, world'))
      .add(wsFrame(cafe.subarray(0, 4), { opcode: WS_OPCODES.text, fin: false }), 'text "caf" + the first byte of é (FIN 0)')
      .add(wsFrame(cafe.subarray(4, 8), { opcode: WS_OPCODES.continuation, fin: false }), 'continuation: the second byte of é, " ", the first byte of ✓ (FIN 0)')
      .add(wsFrame(cafe.subarray(8), { opcode: WS_OPCODES.continuation }), 'continuation: the last two bytes of ✓ (FIN 1)', text('café ✓'));
    await feed(stream, [], 'A frame with FIN 0 starts (or continues) a message; opcode 0 frames continue it; the one with FIN 1 ends it. Join the payloads, then decode the text once it is whole.');
    await feed(stream, oneByteAtATime(stream), 'A fragmented message is complete only at its frame with FIN 1: keep the fragments until then.');
  });

  it('reassembles a binary message of three fragments from ws, pushed in large chunks', { timeout: HEAVY_TEST_MS }, async () => {
    const pieces = [randomBytes(70_000), randomBytes(300), randomBytes(5)];
    const stream = new FrameStream()
      .add(wsFrame(pieces[0], { opcode: WS_OPCODES.binary, fin: false, mask: true }), 'binary, 70000 bytes (FIN 0)')
      .add(wsFrame(pieces[1], { opcode: WS_OPCODES.continuation, fin: false, mask: true }), 'continuation, 300 bytes (FIN 0)')
      .add(wsFrame(pieces[2], { opcode: WS_OPCODES.continuation, mask: true }), 'continuation, 5 bytes (FIN 1)', binary(Buffer.concat(pieces)))
      .add(wsFrame('next', { opcode: WS_OPCODES.text, mask: true }), 'text "next"', text('next'));
    await feed(stream, [], 'The message is the payloads of all its fragments, joined in order.');
    await feed(stream, chunksOf(stream, 32 * 1024), 'The message is the payloads of all its fragments, joined in order.');
  });

  it('delivers control frames that come between fragments at once', async () => {
    const decoder = await Decoder.create();
    const what = 'text "one " (FIN 0), ping "p1", continuation "two " (FIN 0), pong "p2", continuation "three" (FIN 1)';
    const hint = 'Control frames (ping, pong, close) may come between the fragments of a message; return each one from the push that completes it, without waiting for the message, and keep the message open.';
    await decoder.push(wsFrame('one ', { opcode: WS_OPCODES.text, fin: false, mask: true }), [], what, hint);
    await decoder.push(wsFrame('p1', { opcode: WS_OPCODES.ping, mask: true }), [{ type: 'ping', data: Buffer.from('p1') }], what, hint);
    await decoder.push(wsFrame('two ', { opcode: WS_OPCODES.continuation, fin: false, mask: true }), [], what, hint);
    await decoder.push(wsFrame('p2', { opcode: WS_OPCODES.pong, mask: true }), [{ type: 'pong', data: Buffer.from('p2') }], what, hint);
    await decoder.push(wsFrame('three', { opcode: WS_OPCODES.continuation, mask: true }), [text('one two three')], what, hint);
  });

  it("reads a close frame's code and reason", async () => {
    const stream = new FrameStream()
      .add(wsFrame(closePayload(1000, 'normal'), { opcode: WS_OPCODES.close, mask: true }), 'close 1000 "normal"', { type: 'close', code: 1000, reason: 'normal' })
      .add(wsFrame(closePayload(4001, 'café ✓'), { opcode: WS_OPCODES.close }), 'close 4001 "café ✓"', { type: 'close', code: 4001, reason: 'café ✓' })
      .add(wsFrame(closePayload(1011, ''), { opcode: WS_OPCODES.close }), 'close 1011 with no reason', { type: 'close', code: 1011, reason: '' })
      .add(wsFrame('', { opcode: WS_OPCODES.close, mask: true }), 'a close frame with an empty body', { type: 'close', code: 1005, reason: '' });
    await feed(stream, [], "A close frame's body is a 2-byte big-endian code, then the reason in UTF-8; an empty body means no code: report 1005.");
  });

  it('decodes many frames of every kind and size pushed in large chunks', { timeout: HEAVY_TEST_MS }, async () => {
    const stream = new FrameStream();
    for (let i = 0; i < 300; i++) {
      const mask = i % 3 !== 0;
      const size = i % 50 === 7 ? 70_000 : i % 10 === 3 ? 126 + i * 100 : i % 120;
      if (i % 4 === 1) {
        const message = `message ${i} ${'✓'.repeat(size / 3)}`;
        stream.add(wsFrame(message, { opcode: WS_OPCODES.text, mask }), `text ${i}`, text(message));
      } else if (i % 17 === 5) {
        const data = randomBytes(i % 126);
        stream.add(wsFrame(data, { opcode: WS_OPCODES.ping, mask }), `ping ${i}`, { type: 'ping', data });
      } else {
        const data = randomBytes(size);
        stream.add(wsFrame(data, { opcode: WS_OPCODES.binary, mask }), `binary ${i} (${size} bytes)`, binary(data));
      }
    }
    const frames = `300 frames from ws (text, binary, ping; masked and not; 7-, 16- and 64-bit lengths; ${stream.bytes.length} bytes in all)`;
    const summary = new FrameStream().add(stream.bytes, frames);
    for (const e of stream.events) summary.events.push(e);
    await feed(summary, chunksOf(summary, 64 * 1024), CHUNKS_HINT);
  });

  it('keeps each decoder separate from the others', async () => {
    const a = await Decoder.create('decoder A');
    const b = await Decoder.create('decoder B');
    const hint = 'Keep the unfinished bytes and the open message in the instance (fields like this.buffered), not in variables every decoder shares.';
    const fromA = wsFrame('from A', { opcode: WS_OPCODES.text, mask: true });
    await a.push(fromA.subarray(0, 4), [], 'text "from A", cut after 4 bytes', hint);
    await b.push(wsFrame('from B', { opcode: WS_OPCODES.text, mask: true }), [text('from B')], 'text "from B"', hint);
    await a.push(fromA.subarray(4), [text('from A')], 'text "from A", cut after 4 bytes', hint);
    await a.push(wsFrame('open in A', { opcode: WS_OPCODES.text, fin: false }), [], 'text "open in A" (FIN 0)', hint);
    await b.push(wsFrame('whole in B', { opcode: WS_OPCODES.text }), [text('whole in B')], 'text "whole in B" while A has a message open', hint);
    await a.push(wsFrame('!', { opcode: WS_OPCODES.continuation }), [text('open in A!')], 'continuation "!" (FIN 1)', hint);
  });

  it('throws on a 64-bit length with its most significant bit set', async () => {
    const decoder = await Decoder.create();
    // 82 7f, then 2^63 + 5: only the header, since no payload of that size can follow.
    await decoder.expectThrow(Buffer.from('827f8000000000000005', 'hex'), 'the 64-bit length 82 7f 80 00 00 00 00 00 00 05 has its most significant bit set, which the RFC forbids (throw as soon as the 10-byte header is there)');
  });

  it('throws on a control frame longer than 125 bytes', async () => {
    await (await Decoder.create()).expectThrow(wsFrame(Buffer.alloc(126, 1), { opcode: WS_OPCODES.ping, mask: true }), 'a ping of 126 bytes: control frames carry at most 125');
    await (await Decoder.create()).expectThrow(handFrame(0x88, closePayload(1000, 'x'.repeat(200))), 'a close frame of 202 bytes: control frames carry at most 125');
  });

  it('throws on a fragmented control frame', async () => {
    await (await Decoder.create()).expectThrow(wsFrame('half a ping', { opcode: WS_OPCODES.ping, fin: false, mask: true }), 'a ping with FIN 0: control frames must not be fragmented');
  });

  it('throws on a continuation frame with no message started', async () => {
    const decoder = await Decoder.create();
    await decoder.push(wsFrame('complete', { opcode: WS_OPCODES.text, mask: true }), [text('complete')], 'text "complete" (FIN 1)', 'A message with FIN set is complete.');
    await decoder.expectThrow(wsFrame('orphan', { opcode: WS_OPCODES.continuation, mask: true }), 'a continuation frame came after a complete message: there is no message to continue');
  });

  it('throws on a new text or binary frame while a fragmented message is open', async () => {
    for (const opcode of [WS_OPCODES.text, WS_OPCODES.binary]) {
      const decoder = await Decoder.create();
      await decoder.push(wsFrame('started', { opcode: WS_OPCODES.text, fin: false, mask: true }), [], 'text "started" (FIN 0)', 'The message is not finished yet.');
      await decoder.expectThrow(wsFrame('interrupting', { opcode, mask: true }), `a new ${opcode === WS_OPCODES.text ? 'text' : 'binary'} frame came while a fragmented message was open: the next data frame must be a continuation`);
    }
  });

  it('throws on reserved opcodes and RSV bits', async () => {
    for (const opcode of [0x3, 0x7, 0xb, 0xf]) {
      await (await Decoder.create()).expectThrow(handFrame(0x80 | opcode, Buffer.from('?')), `opcode 0x${opcode.toString(16)} is reserved`);
    }
    for (const rsv of [0x40, 0x20, 0x10]) {
      await (await Decoder.create()).expectThrow(handFrame(0x80 | rsv | WS_OPCODES.text, Buffer.from('?')), `an RSV bit (0x${rsv.toString(16)} of the first byte) is set, and no extension was agreed on`);
    }
  });

  it('throws on a close frame with a 1-byte body', async () => {
    await (await Decoder.create()).expectThrow(handFrame(0x88, Buffer.from([0x03])), 'a close body is empty or starts with a 2-byte code, so 1 byte is not a valid close frame');
  });
  // Last: a length read wrong (a signed 16-bit one) can make a decoder loop until its memory runs
  // out, which ends the module for every test after it.
  it('reads 64-bit lengths: 65536 and 200000 bytes, and 4 GiB + 3 declared', { timeout: HEAVY_TEST_MS }, async () => {
    // The 8 bytes are one number: its high half matters too. 00 00 00 01 00 00 00 03 is 4294967299,
    // so the 3 bytes after this header are only the start of its payload.
    const huge = new FrameStream().add(Buffer.from('827f0000000100000003010203', 'hex'), 'a binary frame header declaring 4294967299 bytes (82 7f 00 00 00 01 00 00 00 03), then 3 bytes of its payload');
    await feed(huge, [], 'The 64-bit length is all 8 bytes (readBigUInt64BE), not their low half: 00 00 00 01 00 00 00 03 is 4 GiB + 3, a frame still far from complete. Do not allocate the declared size up front; wait for the bytes.');
    for (const size of [65_536, 200_000]) {
      const data = randomBytes(size);
      const stream = new FrameStream()
        .add(wsFrame(data, { opcode: WS_OPCODES.binary, mask: true }), `a masked binary frame of ${size} bytes`, binary(data))
        .add(wsFrame('after', { opcode: WS_OPCODES.text, mask: true }), 'text "after"', text('after'));
      const cuts = [1, 2, 6, 9, 10, 13, ...chunksOf(stream, 64 * 1024)];
      await feed(stream, cuts, 'A 7-bit length of 127 means: the length is in the next 8 bytes, big-endian and unsigned (readBigUInt64BE), then the 4-byte mask key if MASK is set.');
    }
  });

  it('reads 16-bit lengths: 126, 40000 and 65535 bytes', { timeout: HEAVY_TEST_MS }, async () => {
    for (const size of [126, 40_000, 65_535]) {
      for (const mask of [false, true]) {
        const data = randomBytes(size);
        const stream = new FrameStream()
          .add(wsFrame(data, { opcode: WS_OPCODES.binary, mask }), `a${mask ? ' masked' : 'n unmasked'} binary frame of ${size} bytes`, binary(data))
          .add(wsFrame('after', { opcode: WS_OPCODES.text, mask }), 'text "after"', text('after'));
        // Cut inside the header (at 1, 2, 3, 5 bytes), then in 16 KiB pieces.
        const cuts = [1, 2, 3, 5, ...chunksOf(stream, 16 * 1024)];
        await feed(stream, cuts, 'A 7-bit length of 126 means: the length is in the next 2 bytes, big-endian and unsigned (readUInt16BE), from 126 to 65535. readInt16BE would make 40000 negative.');
      }
    }
  });
});
