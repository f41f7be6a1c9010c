// What every check returns: problems that say which file, which field (or line), what is wrong and
// what to do about it.

export type CheckName = 'lessons' | 'exercises' | 'links' | 'types' | 'samples' | 'grading';

export interface Problem {
  check: CheckName;
  /** The file to open, relative to the content root ("lessons/03-tcp-sockets/x.mdx"). */
  file: string;
  /** 1-based line, when the problem is at one place in the file. */
  line?: number;
  /** The field or thing in the file ("sidebar.order", "<Exercise id=\"x\">", a test's name). */
  field?: string;
  message: string;
  /** What to do about it. */
  fix: string;
}

export const CHECK_TITLES: Record<CheckName, string> = {
  lessons: 'lesson frontmatter and components',
  exercises: 'exercise folders and exercise.json',
  links: 'lessons ↔ exercises, internal links, imports',
  types: 'TypeScript (tsc) over exercises and samples',
  samples: 'lesson samples run and print what the lessons say',
  grading: 'grading: solution passes, starter fails, each wrong example fails exactly its declared tests',
};

/** Problems grouped by file, in a stable order: the way the CLI and the tests print them. */
export function formatProblems(problems: Problem[]): string {
  const byFile = new Map<string, Problem[]>();
  for (const p of [...problems].sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0))) {
    byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
  }
  const out: string[] = [];
  for (const [file, list] of byFile) {
    out.push(file);
    for (const p of list) {
      const where = [p.line !== undefined ? `line ${p.line}` : '', p.field ?? ''].filter(Boolean).join(', ');
      out.push(`  ✗ ${where ? `${where}: ` : ''}${indent(p.message, '    ')}`);
      out.push(`    fix: ${indent(p.fix, '         ')}`);
    }
    out.push('');
  }
  return out.join('\n');
}

const indent = (text: string, pad: string) => text.replace(/\n/g, `\n${pad}`);
