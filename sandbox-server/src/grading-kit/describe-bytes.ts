// Shows bytes to a learner: text as a quoted string (with \n visible), binary as hex, long data cut.
export function describeBytes(data: Buffer | string, max = 200): string {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  if (buf.length === 0) return 'nothing';
  const shown = buf.subarray(0, max);
  const text = shown.toString('utf8');
  const printable = !text.includes('\uFFFD') && !/[\x00-\x08\x0e-\x1f\x7f]/.test(text);
  const body = printable ? JSON.stringify(text) : `<${shown.toString('hex').replace(/(..)/g, '$1 ').trim()}>`;
  const more = buf.length > max ? ` … (${buf.length} bytes in all)` : '';
  return `${body}${more}`;
}

export function describeLines(lines: string[], max = 12): string {
  if (lines.length === 0) return 'no lines';
  const shown = lines.slice(-max).map((l) => JSON.stringify(l));
  return (lines.length > max ? `… ${lines.length - max} earlier, then ` : '') + shown.join(', ');
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Where two byte sequences first differ, explained (undefined when equal). */
export function firstDifference(expected: Buffer, got: Buffer): string | undefined {
  const n = Math.min(expected.length, got.length);
  let i = 0;
  while (i < n && expected[i] === got[i]) i++;
  if (i === n && expected.length === got.length) return undefined;
  if (i === n) {
    return got.length < expected.length
      ? `${got.length} of ${expected.length} bytes came back; the rest is missing`
      : `${plural(got.length - expected.length, 'extra byte')} after the expected ${expected.length}: ${describeBytes(got.subarray(n), 48)}`;
  }
  const hex = (b: Buffer) => b.subarray(i, i + 8).toString('hex').replace(/(..)/g, '$1 ').trim();
  const replaced = got.subarray(i, i + 3).equals(Buffer.from([0xef, 0xbf, 0xbd]));
  const why = replaced ? ' (ef bf bd is the UTF-8 replacement character: the bytes were decoded as text somewhere)' : '';
  return `they differ from byte ${i}: expected ${hex(expected)}…, got ${hex(got)}…${why}`;
}
