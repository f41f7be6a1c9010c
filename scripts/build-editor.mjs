#!/usr/bin/env node
// Prebuilds the self-hosted Monaco editor bundle into site/public/editor/ (gitignored), once.
//
// Why a separate step: Monaco inside the Astro/Vite build costs 60-90 s and ~2.7 GB of memory
// (shared/notes/toolchain.md). Built here with esbuild it takes a few seconds, the lesson build never
// sees Monaco, and Monaco's CSS can never be hoisted into lesson pages.
//
// Output:
//   monaco.js         ESM entry (site/editor-src/monaco-entry.ts): exports mountEditor(), loadTypes()
//   monaco.css        Monaco's CSS, injected with a <link> only when an editor mounts
//   codicon-*.ttf     icon font referenced by monaco.css
//   editor.worker.js  Monaco's base worker (module worker)
//   ts.worker.js      TypeScript language worker (module worker)
//   types.json        { "file:///node_modules/...d.ts": text } for addExtraLib(): the @types/node files
//                     needed by node:net, node:dgram, node:events, Buffer, plus ws and socket.io-client
//   stamp.json        hash of every input; when it matches, the build is skipped
//
// Usage: node scripts/build-editor.mjs [--force]
import { build } from 'esbuild';
import ts from 'typescript';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'site/editor-src');
const outDir = path.join(root, 'site/public/editor');
const nm = path.join(root, 'node_modules');
const force = process.argv.includes('--force');

const pkgVersion = (name) => JSON.parse(readFileSync(path.join(nm, name, 'package.json'), 'utf8')).version;
const TYPE_PACKAGES = ['@types/node', '@types/ws', 'socket.io-client', 'engine.io-client', 'engine.io-parser', 'socket.io-parser', '@socket.io/component-emitter'];
const OUTPUTS = ['monaco.js', 'monaco.css', 'editor.worker.js', 'ts.worker.js', 'types.json'];

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

function inputHash() {
  const h = createHash('sha256');
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of listFiles(srcDir).sort()) h.update(f).update(readFileSync(f));
  for (const p of ['monaco-editor', 'esbuild', ...TYPE_PACKAGES]) h.update(`${p}@${pkgVersion(p)}`);
  return h.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Type definitions: the transitive closure of what the course's programs import, nothing more.
// ---------------------------------------------------------------------------------------------
const NODE_TYPES = path.join(nm, '@types/node');
/** @types/node files that are always needed: globals (console, process, timers, Buffer) + modules. */
const NODE_SEEDS = [
  'compatibility/index.d.ts',
  'globals.typedarray.d.ts',
  'buffer.buffer.d.ts',
  'globals.d.ts',
  'web-globals/abortcontroller.d.ts',
  'web-globals/domexception.d.ts',
  'web-globals/events.d.ts',
  'web-globals/fetch.d.ts',
  'console.d.ts',
  'process.d.ts',
  'timers.d.ts',
  'timers/promises.d.ts',
  'buffer.d.ts',
  'events.d.ts',
  'net.d.ts',
  'dgram.d.ts',
  'dns.d.ts',
  'stream.d.ts',
  'readline.d.ts',
  'string_decoder.d.ts',
  'url.d.ts',
  'util.d.ts',
  'assert.d.ts',
];

/** Files whose doc comments are kept (hover documentation for what the course teaches). */
const DOCUMENTED = [
  ...NODE_SEEDS.map((f) => `@types/node/${f}`),
  '@types/ws/',
  'socket.io-client/',
  '@socket.io/component-emitter/',
];

/** Removes comments with TypeScript's own printer (a regex would break on strings like "*\/*"). */
function stripComments(text, fileName) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const refs = [
    ...sf.referencedFiles.map((r) => `/// <reference path="${r.fileName}" />`),
    ...sf.typeReferenceDirectives.map((r) => `/// <reference types="${r.fileName}" />`),
    ...sf.libReferenceDirectives.map((r) => `/// <reference lib="${r.fileName}" />`),
  ];
  const printed = ts.createPrinter({ removeComments: true }).printFile(sf);
  return (refs.length ? refs.join('\n') + '\n' : '') + printed;
}

/** For scanning imports only: drop comments roughly (doc examples are full of imports). */
function codeOnly(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\/])\/\/.*$/gm, '$1');
}

function nodeModuleFile(spec) {
  const name = spec.replace(/^node:/, '');
  for (const cand of [`${name}.d.ts`, `${name}/index.d.ts`]) {
    if (existsSync(path.join(NODE_TYPES, cand))) return cand;
  }
  return null;
}

const SPEC_RE = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g;
const REF_PATH_RE = /\/\/\/\s*<reference\s+path="([^"]+)"/g;

/** Collects the files, keyed by their virtual path under file:///node_modules/. */
function collectTypes() {
  const files = new Map(); // virtual path -> text
  const queue = [];
  const add = (absFile) => {
    const rel = path.relative(nm, absFile).split(path.sep).join('/');
    if (files.has(rel)) return;
    let text = readFileSync(absFile, 'utf8');
    text = text.replace(/^\/\/# sourceMappingURL=.*$/m, '');
    // Files only pulled in as dependencies (fs, crypto, child_process, ...) lose their doc comments:
    // their types are still right, hovers on them are rare, and it halves the download.
    if (!DOCUMENTED.some((prefix) => rel.startsWith(prefix))) text = stripComments(text, rel);
    files.set(rel, text);
    queue.push(absFile);
  };
  const addPackageJson = (pkg) => {
    const pj = JSON.parse(readFileSync(path.join(nm, pkg, 'package.json'), 'utf8'));
    const types = pj.types ?? pj.typings;
    files.set(`${pkg}/package.json`, JSON.stringify({ name: pj.name, version: pj.version, types }));
    return types ? path.join(nm, pkg, types) : null;
  };
  const resolveBare = (spec) => {
    if (spec.startsWith('node:') || nodeModuleFile(spec)) {
      const f = nodeModuleFile(spec);
      return f ? path.join(NODE_TYPES, f) : null;
    }
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (!existsSync(path.join(nm, pkg))) return null;
    const entry = addPackageJson(pkg);
    return entry && existsSync(entry) ? entry : null;
  };

  for (const seed of NODE_SEEDS) add(path.join(NODE_TYPES, seed));
  files.set('@types/node/package.json', JSON.stringify({ name: '@types/node', version: pkgVersion('@types/node'), types: 'index.d.ts' }));
  add(path.join(nm, '@types/ws/index.d.ts'));
  files.set('@types/ws/package.json', JSON.stringify({ name: '@types/ws', version: pkgVersion('@types/ws'), types: 'index.d.ts' }));
  add(resolveBare('socket.io-client'));

  while (queue.length) {
    const file = queue.shift();
    const text = readFileSync(file, 'utf8');
    const dir = path.dirname(file);
    for (const m of text.matchAll(REF_PATH_RE)) {
      const target = path.resolve(dir, m[1]);
      if (existsSync(target)) add(target);
    }
    // doc comments are full of `import ... from 'node:fs'` examples: scan code only
    const code = codeOnly(text);
    const inNodeTypes = file.startsWith(NODE_TYPES + path.sep);
    for (const m of code.matchAll(SPEC_RE)) {
      const spec = m[1];
      // process.d.ts maps every builtin with `typeof import("x")` (for getBuiltinModule); following
      // those would pull in all of @types/node. Unshipped ones just become `any` there.
      if (inNodeTypes && m[0].startsWith('import') && m[0].includes('(')) continue;
      let target = null;
      if (spec.startsWith('.')) {
        const base = path.resolve(dir, spec).replace(/\.(m|c)?js$/, '');
        target = [`${base}.d.ts`, `${base}/index.d.ts`].find((f) => existsSync(f)) ?? null;
      } else {
        target = resolveBare(spec);
      }
      if (target) add(target);
    }
  }
  // A tiny index for @types/node that references only what we ship (the real one pulls in everything).
  const nodeFiles = [...files.keys()].filter((k) => k.startsWith('@types/node/') && k.endsWith('.d.ts'));
  files.set(
    '@types/node/index.d.ts',
    nodeFiles.map((k) => `/// <reference path="${k.slice('@types/node/'.length)}" />`).join('\n') + '\n',
  );
  return Object.fromEntries([...files].map(([k, v]) => [`file:///node_modules/${k}`, v]));
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const t0 = Date.now();
  const hash = inputHash();
  const stampFile = path.join(outDir, 'stamp.json');
  if (!force && existsSync(stampFile) && OUTPUTS.every((f) => existsSync(path.join(outDir, f)))) {
    try {
      if (JSON.parse(readFileSync(stampFile, 'utf8')).hash === hash) {
        console.log(`[build-editor] site/public/editor is up to date (${Date.now() - t0} ms)`);
        return;
      }
    } catch {
      /* rebuild */
    }
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const monacoDir = path.join(nm, 'monaco-editor');
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      monaco: path.join(srcDir, 'monaco-entry.ts'),
      'editor.worker': path.join(monacoDir, 'esm/vs/editor/editor.worker.js'),
      'ts.worker': path.join(monacoDir, 'esm/vs/languages/features/typescript/ts.worker.js'),
    },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    splitting: false,
    minify: true,
    target: 'es2022',
    platform: 'browser',
    loader: { '.ttf': 'file' },
    assetNames: '[name]-[hash]',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });

  const types = collectTypes();
  writeFileSync(path.join(outDir, 'types.json'), JSON.stringify(types));

  const sizes = {};
  for (const f of readdirSync(outDir)) {
    const buf = readFileSync(path.join(outDir, f));
    sizes[f] = { bytes: buf.length, gzip: gzipSync(buf).length };
  }
  writeFileSync(stampFile, JSON.stringify({ hash, builtAt: new Date().toISOString(), sizes }, null, 2));
  const fmt = (n) => `${(n / 1024).toFixed(0)} KiB`;
  let total = 0;
  let totalGz = 0;
  for (const [f, s] of Object.entries(sizes)) {
    total += s.bytes;
    totalGz += s.gzip;
    console.log(`[build-editor]   ${f.padEnd(28)} ${fmt(s.bytes).padStart(10)}  gzip ${fmt(s.gzip).padStart(9)}`);
  }
  console.log(
    `[build-editor] built site/public/editor: ${Object.keys(types).length} type files, total ${fmt(total)} (gzip ${fmt(totalGz)}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  void result;
  void statSync;
}

main().catch((err) => {
  console.error('[build-editor] failed:', err);
  process.exit(1);
});
