// Loads an exercise's grade.test.ts once, and again only when it or a file it bundles changes:
// esbuild bundles it with `vitest` pointing at our collecting shim and the grading kit left as a
// shared external module, then the shim records the declared tests.
//
// The cache key is every bundled input (the test file and helpers it imports from the exercise's
// folder or elsewhere in the content), by modification time and size, as esbuild's metafile lists
// them: an instructor's edit to a helper shows up at the next grade without a restart. The server's
// own modules (the grading kit, reference servers) are external, not bundled: a change to them
// needs a server restart, which `npm run dev` does by itself (tsx watch).
import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../config.ts';
import { collect, type CollectedSuite } from './vitest-shim.ts';

const SHIM = path.join(PROJECT_ROOT, 'sandbox-server/src/grading/vitest-shim.ts');
const SERVER_SRC = path.join(realOrSame(PROJECT_ROOT), 'sandbox-server/src') + path.sep;

interface Entry {
  /** The bundled inputs and their signature when they were bundled (pending while building). */
  built: Promise<{ inputs: string[]; signature: string }>;
  suite: Promise<CollectedSuite>;
}

const cache = new Map<string, Entry>();
let loading: Promise<unknown> = Promise.resolve(); // the shim collects one file at a time

function realOrSame(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

const sharedModules: Plugin = {
  name: 'grading-shared-modules',
  setup(b) {
    b.onResolve({ filter: /^vitest$/ }, () => ({ path: SHIM, external: true }));
    b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
      // Real paths: content checked from a copy reaches the kit through a symlinked sandbox-server/.
      const resolved = realOrSame(path.resolve(args.resolveDir, args.path));
      // The kit and the rest of the server must be the very modules the grader uses (one context store).
      return resolved.startsWith(SERVER_SRC) ? { path: resolved, external: true } : undefined;
    });
  },
};

/** mtime and size of every file, in one string: equal strings mean nothing changed. */
async function signatureOf(files: string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      const s = await stat(file).catch(() => undefined);
      return s ? `${file}:${s.mtimeMs}:${s.size}` : `${file}:missing`;
    }),
  );
  return parts.join('\n');
}

export async function loadSuite(testFile: string, outDir: string): Promise<CollectedSuite> {
  const hit = cache.get(testFile);
  if (hit) {
    const built = await hit.built.catch(() => undefined);
    if (built && (await signatureOf(built.inputs)) === built.signature) return hit.suite;
    // Another grade may have started the rebuild meanwhile: use it.
    const now = cache.get(testFile);
    if (now && now !== hit) return now.suite;
  }
  const bundled = bundle(testFile);
  const entry: Entry = {
    built: bundled.then(({ inputs, signature }) => ({ inputs, signature })),
    suite: bundled.then((b) => collectFile(testFile, outDir, b.code, b.signature)),
  };
  cache.set(testFile, entry);
  // A test file that does not build rejects both; `suite`'s caller reports it, and `built` must not
  // be left an unhandled rejection (it would end the server).
  entry.built.catch(() => {});
  entry.suite.catch(() => {
    if (cache.get(testFile) === entry) cache.delete(testFile);
  });
  return entry.suite;
}

async function bundle(testFile: string): Promise<{ code: string; inputs: string[]; signature: string }> {
  const out = await build({
    entryPoints: [testFile],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [sharedModules],
    packages: 'external',
  });
  const inputs = Object.keys(out.metafile.inputs).map((input) => path.resolve(input));
  if (!inputs.includes(path.resolve(testFile))) inputs.push(path.resolve(testFile));
  return { code: out.outputFiles[0].text, inputs, signature: await signatureOf(inputs) };
}

async function collectFile(testFile: string, outDir: string, code: string, signature: string): Promise<CollectedSuite> {
  await mkdir(outDir, { recursive: true });
  const exercise = path.basename(path.dirname(testFile));
  // A new file name per version: ESM caches modules by URL.
  const version = createHash('sha1').update(testFile).update(signature).digest('hex').slice(0, 12);
  const file = path.join(outDir, `${exercise}-${version}.mjs`);
  await writeFile(file, code);
  const run = loading.then(() => collect(() => import(pathToFileURL(file).href)));
  loading = run.catch(() => {});
  return run;
}
