// Close names, for messages that say what was probably meant: a misspelt exercise id, link or test name.

/** " (did you mean "x"?)" for the closest candidate, when one is close; "" otherwise. */
export function suggest(value: string, candidates: string[]): string {
  const [best] = closest(value, candidates, 1);
  return best !== undefined && distance(value, best) <= Math.max(2, Math.floor(value.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** The `n` candidates nearest to `value` (edit distance), nearest first; ties keep the candidates' order. */
export function closest(value: string, candidates: string[], n: number): string[] {
  return candidates
    .map((c, i) => ({ c, i, d: distance(value, c) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, n)
    .map((x) => x.c);
}

/** Levenshtein distance: insertions, deletions and substitutions of one character each count 1. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length];
}
