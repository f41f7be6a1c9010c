// Lesson samples (lessons/samples/**/*.ts): each has an entry in expectations.json, runs the way
// the Run button runs it (through the server's /api/run: fresh reference servers, the learner
// environment), exits 0 within about 3 s and prints what its patterns say. Longer TypeScript blocks
// written into a lesson must be excerpts of a sample, so the code a lesson shows is tested code.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { shown } from '../content/roots.ts';
import type { Content } from './content.ts';
import type { Problem } from './problems.ts';
import type { RunResult, GradingServer } from './grading-server.ts';

export const EXPECTATIONS_FILE = 'expectations.json';
/** A sample must finish by itself within this time (the lessons promise about 3 s). */
export const SAMPLE_MAX_MS = 4000;
/** TypeScript blocks in a lesson longer than this must be excerpts of a sample. */
export const MAX_FREESTANDING_LINES = 5;

interface Expectation {
  stdout: string[];
  /** Run the sample as a Playground with exercise="<id>" runs: with that exercise's limits and services (a Redis). */
  exercise?: string;
}

type Expectations = { ok: true; entries: Record<string, Expectation> } | { ok: false; problem?: Problem };

function readExpectations(content: Content): Expectations {
  const file = path.join(content.roots.samplesDir, EXPECTATIONS_FILE);
  const where = shown(content.roots, file);
  if (!existsSync(file)) {
    if (content.samples.length === 0) return { ok: true, entries: {} };
    return { ok: false, problem: { check: 'samples', file: where, message: 'missing: every sample needs an entry saying what it must print', fix: `Create it: { "03-tcp-sockets/echo-client.ts": { "stdout": ["^received: "] } } (regular expressions matched with the m flag).` } };
  }
  try {
    return { ok: true, entries: JSON.parse(readFileSync(file, 'utf8')) as Record<string, Expectation> };
  } catch (err) {
    return { ok: false, problem: { check: 'samples', file: where, message: `not valid JSON: ${(err as Error).message}`, fix: 'Fix the JSON syntax.' } };
  }
}

/** expectations.json and the sample files match up; every pattern is a valid regular expression. */
export function checkSampleExpectations(content: Content): Problem[] {
  const expectations = readExpectations(content);
  if (!expectations.ok) return expectations.problem ? [expectations.problem] : [];
  const problems: Problem[] = [];
  const file = shown(content.roots, path.join(content.roots.samplesDir, EXPECTATIONS_FILE));
  for (const sample of content.samples) {
    if (expectations.entries[sample]) continue;
    problems.push({
      check: 'samples',
      file: shown(content.roots, path.join(content.roots.samplesDir, sample)),
      message: `has no entry in ${file}, so nothing checks what it prints`,
      fix: `Add "${sample}": { "stdout": ["<a regular expression for a line it prints>"] } to ${file}.`,
    });
  }
  for (const [sample, expectation] of Object.entries(expectations.entries)) {
    if (!content.samples.includes(sample)) {
      problems.push({ check: 'samples', file, field: sample, message: 'no such sample file', fix: `Remove the entry, or fix its name (samples: ${content.samples.join(', ') || 'none'}).` });
      continue;
    }
    if (expectation?.exercise !== undefined) {
      const ids = content.exercises.map((e) => e.id);
      if (typeof expectation.exercise !== 'string' || !ids.includes(expectation.exercise)) {
        problems.push({
          check: 'samples',
          file,
          field: `${sample}.exercise`,
          message: `${JSON.stringify(expectation.exercise)} is not an exercise, so the sample cannot run with its services`,
          fix: `Name the exercise whose services the sample needs (the one its lesson's <Playground exercise="…"> names), e.g. "exercise": "${ids.find((id) => id.includes('redis')) ?? ids[0] ?? '<exercise id>'}", or remove the field.`,
        });
      }
    }
    if (!Array.isArray(expectation?.stdout) || expectation.stdout.length === 0) {
      problems.push({ check: 'samples', file, field: `${sample}.stdout`, message: 'needs at least one pattern', fix: 'Add a regular expression that a correct run prints, e.g. "^received: hello$".' });
      continue;
    }
    for (const pattern of expectation.stdout) {
      try {
        new RegExp(pattern, 'm');
      } catch (err) {
        problems.push({ check: 'samples', file, field: `${sample}.stdout`, message: `${JSON.stringify(pattern)} is not a regular expression: ${(err as Error).message}`, fix: 'Fix the pattern (in JSON, a backslash is written \\\\).' });
      }
    }
  }
  return problems;
}

/** Every TypeScript block longer than five lines in a lesson is an excerpt of a sample. */
export function checkLessonExcerpts(content: Content): Problem[] {
  const sources = content.samples.map((f) => readFileSync(path.join(content.roots.samplesDir, f), 'utf8').split('\n'));
  const isExcerpt = (block: string[]) =>
    sources.some((lines) =>
      lines.some((first, i) => {
        if (!first.endsWith(block[0])) return false;
        const indent = first.slice(0, first.length - block[0].length);
        if (indent.trim() !== '') return false;
        return block.every((line, k) => (line === '' ? lines[i + k]?.trim() === '' : lines[i + k] === indent + line));
      }),
    );
  const problems: Problem[] = [];
  for (const lesson of content.lessons) {
    for (const match of lesson.body.matchAll(/^([ \t]*)```ts\n([\s\S]*?)\n\1```$/gm)) {
      const lines = match[2].split('\n').map((line) => line.slice(match[1].length));
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
      const block = lines.map((line) => line.slice(indent));
      if (block.length <= MAX_FREESTANDING_LINES || isExcerpt(block)) continue;
      const line = lesson.bodyLine + lesson.body.slice(0, match.index).split('\n').length - 1;
      problems.push({
        check: 'samples',
        file: shown(content.roots, lesson.file),
        line,
        field: '```ts block',
        message: `this ${block.length}-line TypeScript block is not an excerpt of any sample, so no test compiles or runs it:\n${block.slice(0, 3).join('\n')}\n…`,
        fix: `Put the program in lessons/samples/<section>/<name>.ts (with an entry in expectations.json) and show it with <Playground>, or copy the block exactly (same lines, same indentation inside) from a sample, or keep it to ${MAX_FREESTANDING_LINES} lines.`,
      });
    }
  }
  return problems;
}

/** Runs every sample through the server, as the Run button does. */
export async function checkSampleRuns(content: Content, sandbox: GradingServer): Promise<Problem[]> {
  const expectations = readExpectations(content);
  const entries = expectations.ok ? expectations.entries : {};
  const problems: Problem[] = [];
  // One at a time: some samples measure timing (polling vs push), which load would distort.
  for (const sample of content.samples) {
    await (async () => {
      const file = path.join(content.roots.samplesDir, sample);
      let result: RunResult;
      try {
        result = await sandbox.run(readFileSync(file, 'utf8'), entries[sample]?.exercise);
      } catch (err) {
        problems.push({ check: 'samples', file: shown(content.roots, file), message: `the server could not run it: ${(err as Error).message}`, fix: 'Run it in `npm run dev` to see what happens; the server log says more.' });
        return;
      }
      const report = `exit ${result.exitCode}${result.signal ? ` (${result.signal})` : ''}${result.limit ? `, ${result.limit}` : ''} after ${result.durationMs} ms\n--- stdout\n${tail(result.stdout)}--- stderr\n${tail(result.stderr)}`;
      const add = (message: string, fix: string) => problems.push({ check: 'samples', file: shown(content.roots, file), message: `${message}\n${report}`, fix });
      if (result.exitCode !== 0 || result.timedOut) {
        add('does not end by itself with exit code 0', 'A sample must finish on its own (close its sockets and servers) within about 3 s and exit 0; run it in `npm run dev` to see why it does not.');
        return;
      }
      if (result.durationMs >= SAMPLE_MAX_MS) add(`takes ${result.durationMs} ms; lessons promise about 3 s`, 'Make it wait for events instead of sleeping, and close everything when it is done.');
      for (const pattern of entries[sample]?.stdout ?? []) {
        let re: RegExp;
        try {
          re = new RegExp(pattern, 'm');
        } catch {
          continue; // reported by checkSampleExpectations
        }
        if (!re.test(result.stdout)) add(`its output does not match /${pattern}/m from expectations.json`, 'Fix the sample, or the pattern in lessons/samples/expectations.json if the lesson now says something else.');
      }
    })();
  }
  return problems;
}

function tail(text: string, max = 1200): string {
  const cut = text.length > max ? `…${text.slice(-max)}` : text;
  return cut && !cut.endsWith('\n') ? `${cut}\n` : cut;
}
