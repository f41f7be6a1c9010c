import { describe, expect, it } from 'vitest';
import { describeBytes, firstDifference } from '../src/grading-kit/describe-bytes.ts';

describe('describeBytes', () => {
  it('quotes text with escapes and shows binary as hex', () => {
    expect(describeBytes('hi\n')).toBe('"hi\\n"');
    expect(describeBytes(Buffer.from([0, 255]))).toBe('<00 ff>');
    expect(describeBytes(Buffer.alloc(0))).toBe('nothing');
    expect(describeBytes('x'.repeat(300), 4)).toBe('"xxxx" … (300 bytes in all)');
  });
});

describe('firstDifference', () => {
  it('is undefined for equal bytes', () => {
    expect(firstDifference(Buffer.from('ab'), Buffer.from('ab'))).toBeUndefined();
  });
  it('locates a change and explains replacement characters', () => {
    expect(firstDifference(Buffer.from([1, 0xff]), Buffer.from([1, 0xef, 0xbf, 0xbd]))).toMatch(/byte 1: .*replacement character/);
  });
  it('reports missing and extra bytes', () => {
    expect(firstDifference(Buffer.from('abc'), Buffer.from('a'))).toBe('1 of 3 bytes came back; the rest is missing');
    expect(firstDifference(Buffer.from('a'), Buffer.from('ab'))).toMatch(/1 extra byte after/);
    expect(firstDifference(Buffer.from('a'), Buffer.from('abc'))).toMatch(/2 extra bytes after/);
  });
});
