import { describe, it } from 'vitest';
import { describeBytes as describeRawBytes, GradingFailure, learnerModule, type RemoteObject } from '../../sandbox-server/src/grading-kit/index.ts';

/** A framer in the learner's process, with the chunks pushed into it so far (for messages). */
class Framer {
  private readonly pushed: Buffer[] = [];

  private constructor(
    private readonly remote: RemoteObject,
    readonly name: string,
  ) {}

  static async create(name = 'the framer'): Promise<Framer> {
    const module = await learnerModule();
    return new Framer(await module.construct('LineFramer'), name);
  }

  /** Pushes `chunk` and fails unless exactly `expected` comes back. */
  async push(chunk: Buffer | string, expected: string[]): Promise<void> {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.pushed.push(bytes);
    const got = await this.call('push', bytes);
    this.compare(`push(${describeBytes(bytes, 40)})`, expected, got);
  }

  /** Calls end() and fails unless exactly `expected` comes back. */
  async end(expected: string[]): Promise<void> {
    const got = await this.call('end');
    this.compare('end()', expected, got);
  }

  private async call(method: 'push' | 'end', ...args: Buffer[]): Promise<unknown> {
    try {
      return await this.remote.call(method, ...args);
    } catch (err) {
      const message = (err as Error).message;
      const first = message.split('\n')[0];
      const why = /is not a function/.test(message) ? ` Does LineFramer have a method ${method}()?` : '';
      throw new GradingFailure(`${this.history()}, ${method}() threw ${first}.${why}`);
    }
  }

  private compare(call: string, expected: string[], got: unknown): void {
    if (!Array.isArray(got) || !got.every((x) => typeof x === 'string')) {
      throw new GradingFailure(`${this.history()}, ${call} should return an array of strings (${show(expected)}), but it returned ${show(got)}.`);
    }
    if (sameLines(got, expected)) return;
    throw new GradingFailure(`${this.history()}, ${call} should return ${show(expected)}, but it returned ${show(got)}.${this.explain(call, expected, got)}`);
  }

  /** The likely reason for a wrong answer, when one stands out. */
  private explain(call: string, expected: string[], got: string[]): string {
    const ending = call === 'end()';
    const replacements = (lines: string[]) => lines.join('\n').split('\uFFFD').length - 1;
    if (replacements(got) > replacements(expected)) {
      // Every chunk of this framer is whole UTF-8 on its own: the broken character came from elsewhere.
      if (this.pushed.every((b) => !b.toString('utf8').includes('\uFFFD'))) {
        return ` Every chunk pushed into ${this.name} holds whole characters, so the "\uFFFD" came from bytes pushed into another framer: give each framer its own decoder (a field like this.decoder), not one that all framers share.`;
      }
      return ' "\uFFFD" is the replacement character: a character whose bytes were split between two chunks was decoded one chunk at a time. Use a StringDecoder, or keep the bytes until the line is complete.';
    }
    if (ending && replacements(got) < replacements(expected)) {
      const checkAfter = got.length === 0 ? ' Decide whether anything is left over after that, not before: these bytes may be all the rest.' : '';
      return ` The stream ended inside a character: its first bytes are still waiting (in your decoder, or in the bytes you kept). end() turns them into one "\uFFFD": call decoder.end(), or decode the rest with toString().${checkAfter}`;
    }
    const i = expected.findIndex((line, n) => got[n] !== line);
    const wrongLine = got.length === expected.length && i !== -1 ? got[i] : undefined;
    if (wrongLine !== undefined && /[\u0080-\u00ff]/.test(wrongLine) && Buffer.concat(this.pushed).toString('latin1').includes(wrongLine)) {
      return ` ${show(wrongLine)} has one character for each byte of ${show(expected[i])}: decode the bytes as UTF-8 (a StringDecoder, or toString('utf8')), not as latin1 or 'binary'.`;
    }
    if (wrongLine !== undefined && `\uFEFF${wrongLine}` === expected[i]) {
      return ' The line starts with U+FEFF (a byte order mark, the bytes ef bb bf), and it must stay: nothing but the line ending is removed. trim() removes it, and so does a TextDecoder unless it is made with { ignoreBOM: true }; a StringDecoder and toString() keep it.';
    }
    if (!ending && got.length === 0) {
      return ` No line was split off, though the bytes pushed so far complete ${expected.length === 1 ? 'a line' : `${expected.length} lines`}: a line ends at every "\\n", with or without a "\\r" before it.`;
    }
    if (!ending && replacements(got) < replacements(expected)) {
      return ' Bytes that are not UTF-8 become "\uFFFD" (as a StringDecoder and toString(\'utf8\') make them); fewer came back, so some were dropped or decoded another way.';
    }
    if (got.length > expected.length && sameLines(got, expected.flatMap((l) => l.split('\r')))) {
      return ' A "\\r" without a "\\n" right after it does not end a line: it is part of the line ("a\\rb\\n" is the one line "a\\rb").';
    }
    if (ending && got.length === expected.length && got.every((l, i) => l === expected[i].replace(/\r$/, '')) && expected.some((l) => l.endsWith('\r'))) {
      return ' end() returns the rest as it is: a final "\\r" with no "\\n" after it is not a line ending, so it stays.';
    }
    if (got.some((l) => l.includes('\n'))) return ' A returned line still contains "\\n": split at every newline.';
    if (got.some((l) => l.endsWith('\r'))) return ' Remove the "\\r" of a "\\r\\n" line ending.';
    if (expected.some((l) => l.includes('\r')) && got.length === expected.length && got.every((l, i) => l === expected[i].replaceAll('\r', ''))) {
      return ' Remove only the one "\\r" just before the "\\n": any other "\\r" is part of the line.';
    }
    if (got.length === expected.length && got.every((l, i) => l === expected[i].trim())) return ' Keep spaces: only "\\n", and one "\\r" just before it, are removed.';
    if (i !== -1 && got[i]?.endsWith(expected[i])) {
      const extra = got[i].slice(0, got[i].length - expected[i].length);
      if (!Buffer.concat(this.pushed).toString('utf8').includes(extra)) {
        return ` ${JSON.stringify(extra)} was never pushed into ${this.name}: it came from another framer. Keep the rest in the instance (a field like this.rest), not in a variable all framers share.`;
      }
    }
    if (ending) {
      return expected.length === 0
        ? ' Nothing is left over, so there is no last line: return []. An empty string would be a line the sender never sent.'
        : ' The bytes after the last "\\n" are the last line: return them from end().';
    }
    if (expected.length === 0) {
      return ' This chunk does not complete a line, so push() returns []: keep its bytes until the "\\n" arrives. One chunk is not one message: TCP is a byte stream.';
    }
    if (got.length === 0) return ` This chunk completes ${expected.length === 1 ? 'a line' : `${expected.length} lines`}: return ${expected.length === 1 ? 'it' : 'them'}.`;
    if (got.length < expected.length && got.every((l, i) => l === expected[i])) return ' One chunk can complete several lines: return every one of them, in order, not only the first.';
    if (expected.includes('') && !got.includes('')) return ' Keep empty lines: "a\\n\\nb\\n" is three lines, the second one empty.';
    // The text after the last "\n" pushed, with or without a final "\r" (a framer may strip it).
    const unfinished = Buffer.concat(this.pushed).toString('utf8').split('\n').at(-1) ?? '';
    const extraIsRest = (extra: string) => unfinished.endsWith(extra) || unfinished.replace(/\r$/, '').endsWith(extra);
    if (got.length === expected.length + 1 && sameLines(got.slice(0, -1), expected) && extraIsRest(got.at(-1) ?? '')) {
      return ' The piece after the last "\\n" is not a line yet: keep it for the next chunk instead of returning it.';
    }
    if (got.length !== expected.length) {
      const lines = expected.length === 1 ? 'one line' : `${expected.length} lines`;
      return ` This chunk completes ${lines} (a line ends with "\\n"), so push() returns ${lines}, not ${got.length}.`;
    }
    if (wrongLine !== undefined && expected[i].endsWith(wrongLine) && this.pushed.length > 1) {
      return ' The start of this line came in earlier chunks: keep the unfinished rest between calls, in the framer.';
    }
    return '';
  }

  private history(): string {
    if (this.pushed.length === 0) return `with nothing pushed into ${this.name}`;
    const last = 4;
    const from = Math.max(0, this.pushed.length - last);
    const shown = this.pushed.slice(from).map((b, i) => `${from + i + 1}) ${describeBytes(b, 32)}`);
    const earlier = from > 0 ? `${from} earlier chunk${from === 1 ? '' : 's'}, then ` : '';
    return `after pushing the chunks ${earlier}${shown.join(' ')} into ${this.name}`;
  }
}

function sameLines(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

/** A value as the learner should read it: strings quoted with \n and \r visible, long ones cut. */
function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Buffer.isBuffer(value)) return `a Buffer ${describeBytes(value, 60)}`;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (typeof value === 'string') {
    const quoted = value.length > 80 ? `${JSON.stringify(value.slice(0, 60))}… (${value.length} characters)` : JSON.stringify(value);
    return quoted.replaceAll('\uFEFF', '\\uFEFF'); // invisible otherwise
  }
  return JSON.stringify(value) ?? String(value);
}

/** describeBytes, with an invisible U+FEFF (byte order mark) written out. */
function describeBytes(bytes: Buffer, max: number): string {
  return describeRawBytes(bytes, max).replaceAll('\uFEFF', '\\uFEFF');
}

/** Every way to cut `bytes` in two. */
function cuts(bytes: Buffer): Array<[Buffer, Buffer]> {
  return Array.from({ length: bytes.length - 1 }, (_, i) => [bytes.subarray(0, i + 1), bytes.subarray(i + 1)]);
}

describe('LineFramer', () => {
  it('returns a line that arrives whole in one chunk', async () => {
    const framer = await Framer.create();
    await framer.push('hello\n', ['hello']);
    await framer.push('second line\n', ['second line']);
  });

  it('keeps a partial line until the chunk with its "\\n" arrives', async () => {
    const framer = await Framer.create();
    await framer.push('hel', []);
    await framer.push('lo wor', []);
    await framer.push('ld\n', ['hello world']);
  });

  it('returns every line a chunk completes, in order, and keeps the rest', async () => {
    const framer = await Framer.create();
    await framer.push('one\ntwo\nthree\n', ['one', 'two', 'three']);
    await framer.push('four\nfi', ['four']);
    await framer.push('ve\nsix\nsev', ['five', 'six']);
    await framer.push('en\n', ['seven']);
  });

  it('keeps empty lines', async () => {
    const framer = await Framer.create();
    await framer.push('a\n\nb\n', ['a', '', 'b']);
    await framer.push('\n\n', ['', '']);
  });

  it('treats a chunk that is only "\\n" as the end of the line before it', async () => {
    const framer = await Framer.create();
    await framer.push('\n', ['']);
    await framer.push('abc', []);
    await framer.push('\n', ['abc']);
  });

  it('removes the "\\r" of "\\r\\n", even when "\\r" and "\\n" come in different chunks, and nothing else', async () => {
    const framer = await Framer.create();
    await framer.push('one\r\ntwo\r\n', ['one', 'two']);
    await framer.push('three\r', []);
    await framer.push('\n', ['three']);
    await framer.push('  spaces are kept  \r\n', ['  spaces are kept  ']);
    await framer.push('a\rb\n', ['a\rb']);
    await framer.push('x\r\r\n', ['x\r']);
    await framer.push('\r\n', ['']);
  });

  it('decodes bytes that are not UTF-8 as "\\uFFFD"', async () => {
    const framer = await Framer.create();
    await framer.push(Buffer.from([0x61, 0xff, 0x62, 0x0a]), ['a\uFFFDb']);
  });

  it('keeps a U+FEFF (byte order mark) at the start of the stream', async () => {
    const framer = await Framer.create();
    await framer.push(Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69, 0x0a]), ['\uFEFFhi']);
  });

  for (const [char, name] of [['é', 'é (2 bytes)'], ['✓', '✓ (3 bytes)'], ['🚀', '🚀 (4 bytes)']]) {
    it(`decodes ${name} cut between two chunks at every byte`, async () => {
      const line = `a${char}b`;
      for (const [first, second] of cuts(Buffer.from(`${line}\n`))) {
        const framer = await Framer.create();
        await framer.push(first, []);
        await framer.push(second, [line]);
      }
    });
  }

  it('decodes "é ✓ 🚀" pushed one byte at a time', async () => {
    const line = 'é ✓ 🚀';
    const bytes = Buffer.from(`${line}\n`);
    const framer = await Framer.create();
    for (let i = 0; i < bytes.length - 1; i++) await framer.push(bytes.subarray(i, i + 1), []);
    await framer.push(bytes.subarray(bytes.length - 1), [line]);
  });

  it('puts a 64 KiB line back together from 64 chunks', async () => {
    // 5-byte units ("7✓x") and 1 KiB chunks: some chunk boundaries fall inside a ✓.
    let line = '';
    for (let i = 0; line.length < 64 * 1024; i++) line += `${i % 10}✓x`;
    const bytes = Buffer.from(`${line}\n`);
    const size = Math.ceil(bytes.length / 64);
    const framer = await Framer.create();
    for (let start = 0; start < bytes.length; start += size) {
      const chunk = bytes.subarray(start, start + size);
      await framer.push(chunk, start + size >= bytes.length ? [line] : []);
    }
  });

  it('end() returns the unfinished rest as a last line', async () => {
    const framer = await Framer.create();
    await framer.push('complete\nlast line, no newl', ['complete']);
    await framer.push('ine', []);
    await framer.end(['last line, no newline']);
  });

  it('end() returns the rest exactly as it is, even a final "\\r"', async () => {
    const framer = await Framer.create();
    await framer.push('line\r\nlast\r', ['line']);
    await framer.end(['last\r']);
  });

  it('end() turns the first bytes of a character the stream ended inside into "\\uFFFD"', async () => {
    const framer = await Framer.create();
    await framer.push('x', []);
    await framer.push(Buffer.from([0xe2, 0x9c]), []); // ✓ is e2 9c 93: the stream ends before its last byte
    await framer.end(['x\uFFFD']);
  });

  it('end() turns the first bytes of a character into "\\uFFFD" even when nothing came before them', async () => {
    const framer = await Framer.create();
    await framer.push(Buffer.from([0xe2, 0x9c]), []); // all the stream holds: the first two bytes of ✓
    await framer.end(['\uFFFD']);
  });

  it('end() returns [] when nothing is left over', async () => {
    const fresh = await Framer.create('a new framer');
    await fresh.end([]);
    const framer = await Framer.create();
    await framer.push('done\n', ['done']);
    await framer.end([]);
  });

  it('keeps each framer separate from the others', async () => {
    const a = await Framer.create('framer A');
    const b = await Framer.create('framer B');
    await a.push('from A, ', []);
    await b.push('from B\n', ['from B']);
    await a.push('still A\n', ['from A, still A']);
  });

  it('keeps a character cut between chunks in its own framer', async () => {
    const a = await Framer.create('framer A');
    const b = await Framer.create('framer B');
    await a.push(Buffer.from([0xc3]), []); // the first byte of é (c3 a9)
    await b.push('from B\n', ['from B']);
    await a.push(Buffer.from([0xa9, 0x0a]), ['é']);
  });
});
