// The live demos put other people's text into the page (chat lines, names, a shared document): their
// client code never parses a string as HTML, so none of it can become markup or script. The browser
// test shows it for the cases it tries; this holds it for every line of the demos' code.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIRS = ['site/src/client/demos', 'site/src/components/demos'];
const HTML_SINKS = /\b(innerHTML|outerHTML|insertAdjacentHTML|createContextualFragment|document\.write|set:html|DOMParser)\b/;

describe('live demos: text only', () => {
  const files = DIRS.flatMap((dir) => readdirSync(path.join(ROOT, dir)).filter((f) => /\.(ts|astro)$/.test(f)).map((f) => path.join(dir, f)));

  it('finds the demos’ files', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)('%s uses no HTML sink', (file) => {
    const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
    const sinks = lines.flatMap((line, i) => (HTML_SINKS.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
    expect(sinks).toEqual([]);
  });
});
