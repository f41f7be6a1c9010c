// tsc over every exercise file (solution, starter, wrong/, grade.test.ts, helpers) and every lesson
// sample, with the repository's compiler options (strict): what learners see in the editor must be
// code that type-checks.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { posix, ROOT, shown } from '../content/roots.ts';
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

export function checkTypes(content: Content): TypesReport {
  const samples = content.samples.map((f) => path.join(content.roots.samplesDir, f));
  const exercises = content.exercises.flatMap((e) => tsFiles(e.dir));
  const files = [...exercises, ...samples];
  if (files.length === 0) return { problems: [], files: 0 };
  const program = ts.createProgram(files, compilerOptions());
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
