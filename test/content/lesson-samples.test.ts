// Every runnable lesson sample (lessons/samples/**/*.ts) runs the way the Run button runs it:
// through the sandbox harness, with fresh reference servers and the learner environment. Each must
// exit 0 by itself and print what lessons/samples/expectations.json says (patterns are matched
// against the whole stdout with the `m` flag, so ^ and $ match at line boundaries).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProgram } from '../../sandbox-server/src/harness/run-harness.ts';

const samplesDir = fileURLToPath(new URL('../../lessons/samples/', import.meta.url));

interface Expectation {
  stdout: string[];
}
const expectations = JSON.parse(readFileSync(path.join(samplesDir, 'expectations.json'), 'utf8')) as Record<
  string,
  Expectation
>;

const sampleFiles = (readdirSync(samplesDir, { recursive: true }) as string[])
  .filter((file) => file.endsWith('.ts'))
  .map((file) => file.split(path.sep).join('/'))
  .sort();

it('every sample has expectations and every expectation has a sample', () => {
  expect(sampleFiles.length).toBeGreaterThan(0);
  expect(Object.keys(expectations).sort()).toEqual(sampleFiles);
  for (const [file, expectation] of Object.entries(expectations)) {
    expect(expectation.stdout.length, `${file} has no stdout patterns`).toBeGreaterThan(0);
    for (const pattern of expectation.stdout) expect(() => new RegExp(pattern, 'm'), `${file}: ${pattern}`).not.toThrow();
  }
});

describe.each(sampleFiles)('%s', (file) => {
  it('runs in the sandbox, exits 0 and prints what the lesson says', async () => {
    const result = await runProgram({ code: readFileSync(path.join(samplesDir, file), 'utf8') });
    const report = `exit ${result.exitCode}${result.signal ? ` (${result.signal})` : ''}${result.limit ? `, ${result.limit}` : ''}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
    expect(result.exitCode, report).toBe(0);
    expect(result.timedOut, report).toBe(false);
    expect(result.durationMs, `${file} should finish in about 3 s\n${report}`).toBeLessThan(4000);
    for (const pattern of expectations[file]?.stdout ?? []) {
      expect(result.stdout, `stdout should match /${pattern}/m\n${report}`).toMatch(new RegExp(pattern, 'm'));
    }
  });
});

// Longer TypeScript blocks written into a lesson must be excerpts of a sample, so that the code a
// lesson shows is code this test compiles and runs. Short snippets (up to 5 lines) may stand alone.
const lessonsDir = path.join(samplesDir, '..');
const lessonFiles = (readdirSync(lessonsDir, { recursive: true }) as string[])
  .filter((file) => file.endsWith('.mdx') && !file.startsWith('samples'))
  .sort();
const sampleSources = sampleFiles.map((file) => readFileSync(path.join(samplesDir, file), 'utf8').split('\n'));

function isExcerpt(block: string[]): boolean {
  return sampleSources.some((lines) =>
    lines.some((first, i) => {
      if (!first.endsWith(block[0]!)) return false;
      const indent = first.slice(0, first.length - block[0]!.length);
      if (indent.trim() !== '') return false;
      return block.every((line, k) => (line === '' ? lines[i + k]?.trim() === '' : lines[i + k] === indent + line));
    }),
  );
}

describe.each(lessonFiles)('lessons/%s', (file) => {
  it('shows longer TypeScript only as excerpts of tested samples', () => {
    const text = readFileSync(path.join(lessonsDir, file), 'utf8');
    for (const match of text.matchAll(/^([ \t]*)```ts\n([\s\S]*?)\n\1```$/gm)) {
      const lines = match[2]!.split('\n').map((line) => line.slice(match[1]!.length));
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
      const block = lines.map((line) => line.slice(indent));
      if (block.length <= 5) continue;
      expect(isExcerpt(block), `${file}: this block is not an excerpt of a sample:\n${block.join('\n')}`).toBe(true);
    }
  });
});
