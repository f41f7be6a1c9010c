// Loads an exercise's grade.test.ts once (again only when the file changes): esbuild bundles it with
// `vitest` pointing at our collecting shim and the grading kit left as a shared external module,
// then the shim records the declared tests.
import { build, type Plugin } from 'esbuild';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../config.ts';
import { collect, type CollectedSuite } from './vitest-shim.ts';

const SHIM = path.join(PROJECT_ROOT, 'sandbox-server/src/grading/vitest-shim.ts');
const SERVER_SRC = path.join(PROJECT_ROOT, 'sandbox-server/src') + path.sep;

const cache = new Map<string, { mtimeMs: number; suite: Promise<CollectedSuite> }>();
let loading: Promise<unknown> = Promise.resolve(); // the shim collects one file at a time

const sharedModules: Plugin = {
  name: 'grading-shared-modules',
  setup(b) {
    b.onResolve({ filter: /^vitest$/ }, () => ({ path: SHIM, external: true }));
    b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      // The kit and the rest of the server must be the very modules the grader uses (one context store).
      return resolved.startsWith(SERVER_SRC) ? { path: resolved, external: true } : undefined;
    });
  },
};

export async function loadSuite(testFile: string, outDir: string): Promise<CollectedSuite> {
  const { mtimeMs } = await stat(testFile);
  const hit = cache.get(testFile);
  if (hit && hit.mtimeMs === mtimeMs) return hit.suite;
  const suite = compileAndCollect(testFile, outDir, mtimeMs);
  cache.set(testFile, { mtimeMs, suite });
  suite.catch(() => cache.delete(testFile));
  return suite;
}

async function compileAndCollect(testFile: string, outDir: string, mtimeMs: number): Promise<CollectedSuite> {
  const out = await build({
    entryPoints: [testFile],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [sharedModules],
    packages: 'external',
  });
  await mkdir(outDir, { recursive: true });
  const exercise = path.basename(path.dirname(testFile));
  const file = path.join(outDir, `${exercise}-${Math.round(mtimeMs)}.mjs`);
  await writeFile(file, out.outputFiles[0].text);
  const run = loading.then(() => collect(() => import(pathToFileURL(file).href)));
  loading = run.catch(() => {});
  return run;
}
