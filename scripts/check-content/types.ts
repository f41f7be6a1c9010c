// tsc over every exercise file (solution, starter, grade.test.ts, helpers), every wrong example
// (solution.ts with its patch applied) and every lesson sample, with the repository's compiler
// options (strict): what learners see in the editor must be code that type-checks.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { posix, ROOT, shown } from '../content/roots.ts';
import { patchPath } from '../content/wrong.ts';
import type { Content } from './content.ts';
import type { Problem } from './problems.ts';

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .map(posix)
    .filter((f) => f.endsWith('.ts') && !f.split('/').includes('node_modules'))
    .map((f) => path.join(dir, f));
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  // @types from the repository even when the content being checked is a copy elsewhere.
  return { ...parsed.options, noEmit: true, typeRoots: [path.join(ROOT, 'node_modules/@types')] };
}

export interface TypesReport {
  problems: Problem[];
  files: number;
}

interface PatchedProgram {
  text: string;
  /** The .patch file it comes from (absolute). */
  patch: string;
  exerciseId: string;
  name: string;
}

/**
 * The patched programs as files that exist only for the compiler, at wrong/<name>.patched.ts in
 * their exercise, so that packages resolve as they do for the solution. Nothing is written to the
 * content tree, which authors may be editing while the check runs, and nothing is left to clean up.
 */
function patchedPrograms(content: Content): Map<string, PatchedProgram> {
  const programs = new Map<string, PatchedProgram>();
  for (const exercise of content.exercises) {
    for (const w of exercise.wrong) {
      if (!w.applied?.ok) continue; // reported by the exercises check
      programs.set(path.join(exercise.dir, 'wrong', `${w.name}.patched.ts`), { text: w.applied.program, patch: path.join(exercise.dir, patchPath(w.name)), exerciseId: exercise.id, name: w.name });
    }
  }
  return programs;
}

/** A compiler host that also serves `virtual` files (absolute path → text). */
function hostWith(options: ts.CompilerOptions, virtual: Map<string, { text: string }>): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(path.resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(path.resolve(f))?.text ?? readFile.call(host, f);
  host.getSourceFile = (f, language, ...rest) => {
    const v = virtual.get(path.resolve(f));
    return v ? ts.createSourceFile(f, v.text, language) : getSourceFile.call(host, f, language, ...rest);
  };
  return host;
}

export function checkTypes(content: Content): TypesReport {
  const samples = content.samples.map((f) => path.join(content.roots.samplesDir, f));
  const exercises = content.exercises.flatMap((e) => tsFiles(e.dir));
  const patched = patchedPrograms(content);
  const files = [...exercises, ...patched.keys(), ...samples];
  if (files.length === 0) return { problems: [], files: 0 };
  const options = compilerOptions();
  const program = ts.createProgram(files, options, hostWith(options, patched));
  const ours = new Map(files.map((f) => [real(f), f]));
  const problems: Problem[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file) {
      problems.push({ check: 'types', file: 'tsconfig.json', message, fix: 'Fix the compiler options in tsconfig.json.' });
      continue;
    }
    const file = ours.get(real(d.file.fileName));
    if (!file) continue; // errors in the server's own code are `npm run typecheck`'s to report
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const wrong = patched.get(file);
    if (wrong) {
      // The line is one of the patched solution, not of the patch: said in the message, not as the problem's line.
      problems.push({
        check: 'types',
        file: shown(content.roots, wrong.patch),
        message: `the patched solution does not type-check (line ${line + 1}): TS${d.code}: ${message}`,
        fix: `A wrong example is a program a learner could write, which the editor accepts: fix the mistake in a copy of solution.ts and run \`npm run new:wrong -- ${wrong.exerciseId} ${wrong.name} <the copy>\`.`,
      });
      continue;
    }
    const name = path.basename(file);
    const fix = samples.includes(file)
      ? 'Fix the sample: it is shown in a live editor, where this error shows too.'
      : name === 'solution.ts'
        ? 'Fix the solution: it is what learners see after "Show solution", under the same strict compiler options.'
        : name === 'grade.test.ts'
          ? 'Fix the grading test (see sandbox-server/src/grading-kit/README.md for the kit\'s API).'
          : 'Fix the type error: learners see this file in the editor, where the error shows too.';
    problems.push({ check: 'types', file: shown(content.roots, file), line: line + 1, message: `TS${d.code}: ${message}`, fix });
  }
  return { problems, files: files.length };
}

function real(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}
