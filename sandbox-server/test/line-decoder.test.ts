import { describe, expect, it } from 'vitest';
import { LineDecoder, LineTooLongError } from '../src/reference-servers/line-decoder.ts';

const feed = (decoder: LineDecoder, chunks: (string | Buffer)[]) => chunks.flatMap((c) => decoder.push(typeof c === 'string' ? Buffer.from(c) : c));

describe('LineDecoder', () => {
  it('joins a line split across chunks', () => {
    expect(feed(new LineDecoder(), ['hel', 'lo wo', 'rld\n'])).toEqual(['hello world']);
  });

  it('splits several lines in one chunk and keeps the rest', () => {
    const d = new LineDecoder();
    expect(feed(d, ['a\nb\n\nc'])).toEqual(['a', 'b', '']);
    expect(d.end()).toBe('c');
  });

  it('drops a trailing carriage return', () => {
    expect(feed(new LineDecoder(), ['one\r\ntwo\r', '\n'])).toEqual(['one', 'two']);
  });

  it('keeps multi-byte UTF-8 whole when split at every byte', () => {
    const bytes = Buffer.from('ü✓🚀\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(feed(new LineDecoder(), [bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['ü✓🚀']);
    }
  });

  it('refuses a line over the cap, then recovers', () => {
    const d = new LineDecoder(8);
    d.push(Buffer.from('12345'));
    expect(() => d.push(Buffer.from('6789'))).toThrow(LineTooLongError);
    expect(d.push(Buffer.from('ok\n'))).toEqual(['ok']);
  });

  it('returns nothing at end when no rest is pending', () => {
    expect(new LineDecoder().end()).toBeUndefined();
  });
});
