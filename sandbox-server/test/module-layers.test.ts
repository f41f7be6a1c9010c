// Dependencies inside sandbox-server/src point one way: each folder may import only the folders
// below it. A newcomer can read a layer knowing nothing above it, and a change to a layer cannot
// break what lies beneath.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/** What each folder (or top-level file) may import besides itself. Files not listed are the top: app, main, services. */
const MAY_IMPORT: Record<string, string[]> = {
  shapes: [],
  'token-buckets.ts': [],
  'find-command.mjs': [],
  'config.ts': ['reference-servers'], // the registry names the servers' port variables
  traffic: ['shapes'], // the wire shape of the traffic it serializes
  compile: ['shapes'],
  exercises: ['shapes'],
  'reference-servers': ['config.ts', 'token-buckets.ts', 'traffic'],
  runner: ['config.ts'],
  harness: ['config.ts', 'find-command.mjs', 'compile', 'shapes', 'traffic', 'reference-servers', 'runner'],
  'grading-kit': ['config.ts', 'shapes', 'traffic', 'reference-servers', 'runner', 'harness'],
  grading: ['config.ts', 'compile', 'exercises', 'shapes', 'traffic', 'runner', 'harness', 'grading-kit'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(ts|mts|mjs)$/.test(name) ? [file] : [];
  });
}

/** The top-level folder or file of src/ that `file` belongs to. */
const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

describe('sandbox-server/src layers', () => {
  const imports = sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)].map((m) => ({
      from: file,
      to: path.resolve(path.dirname(file), m[1]),
    })),
  );

  it('finds the imports it checks', () => {
    expect(imports.length).toBeGreaterThan(100);
  });

  it.each(Object.keys(MAY_IMPORT))('%s imports only what lies below it', (layer) => {
    const wrong = imports
      .filter((i) => layerOf(i.from) === layer && layerOf(i.to) !== layer && !MAY_IMPORT[layer].includes(layerOf(i.to)))
      .map((i) => `${path.relative(SRC, i.from)} imports ${path.relative(SRC, i.to)}`);
    expect(wrong).toEqual([]);
  });
});
