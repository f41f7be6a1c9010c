// Learner TypeScript → JavaScript, in the trusted server. esbuild only strips types (fast, ~1 ms);
// type errors are the editor's job, syntax errors stop the run with a line:column the editor can mark.
import { transform, type Message } from 'esbuild';
import type { CompileError } from '../shapes/run.ts';

export const LEARNER_FILE = 'main.ts';

export type CompileResult = { ok: true; js: string } | { ok: false; error: CompileError };

function describe(errors: Message[]): CompileError {
  const lines = errors.map((e) => {
    const loc = e.location;
    // esbuild columns are 0-based; editors and people count from 1.
    return loc ? `${LEARNER_FILE}:${loc.line}:${loc.column + 1}: error: ${e.text}` : `${LEARNER_FILE}: error: ${e.text}`;
  });
  const first = errors[0]?.location;
  return { message: lines.join('\n'), line: first?.line ?? 1, column: (first?.column ?? 0) + 1 };
}

export async function compileTypeScript(code: string): Promise<CompileResult> {
  try {
    const out = await transform(code, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcefile: LEARNER_FILE,
      sourcemap: 'inline',
      logLevel: 'silent',
    });
    return { ok: true, js: out.code };
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    if (errors?.length) return { ok: false, error: describe(errors) };
    throw err;
  }
}
