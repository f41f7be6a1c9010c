// npm run check:content [-- --only lessons,links] [--exercise <id>]… [--root <dir>]
// Prints each check as it finishes, then every problem grouped by file; exits 1 on any problem.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { contentRoots, ROOT } from '../content/roots.ts';
import { ALL_CHECKS, CHECK_TITLES, checkContent, formatProblems, type CheckName } from './index.ts';

const USAGE = `Usage: npm run check:content [-- options]
  --only <checks>     comma-separated, from: ${ALL_CHECKS.join(', ')}
  --exercise <id>     grade only this exercise (repeatable); the static checks still cover everything
  --root <dir>        check another content tree (<dir>/lessons, <dir>/exercises)
  --help`;

function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({ options: { only: { type: 'string' }, exercise: { type: 'string', multiple: true }, root: { type: 'string' }, help: { type: 'boolean' } } }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return Promise.resolve(2);
  }
  if (args.help) {
    console.log(USAGE);
    return Promise.resolve(0);
  }
  const checks = args.only?.split(',').map((s) => s.trim()) as CheckName[] | undefined;
  const unknown = checks?.filter((c) => !ALL_CHECKS.includes(c));
  if (unknown?.length) {
    console.error(`Unknown check ${unknown.join(', ')}.\n\n${USAGE}`);
    return Promise.resolve(2);
  }
  return run(args.root ? path.resolve(args.root) : ROOT, checks, args.exercise);
}

async function run(root: string, checks: CheckName[] | undefined, exercises: string[] | undefined): Promise<number> {
  console.log(`Checking the course content in ${root}${exercises ? ` (grading only ${exercises.join(', ')})` : ''}`);
  const report = await checkContent(contentRoots(root), {
    checks,
    exercises,
    onProgress: (line) => console.log(`    ${line}`),
    onResult: (r) => console.log(`  ${r.problems.length ? '✗' : '✓'} ${CHECK_TITLES[r.check]}: ${r.detail}${r.problems.length ? `, ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}` : ''} (${(r.ms / 1000).toFixed(1)} s)`),
  });
  const seconds = (report.ms / 1000).toFixed(1);
  if (report.problems.length === 0) {
    console.log(`\nAll content checks passed in ${seconds} s.`);
    return 0;
  }
  const files = new Set(report.problems.map((p) => p.file)).size;
  console.log(`\n${formatProblems(report.problems)}`);
  console.log(`check:content found ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'} (${seconds} s).`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`check:content could not run: ${(err as Error).stack ?? err}`);
    process.exit(2);
  },
);
