// npm run new:lesson -- <section>/<name> [--title "…"]
// Creates lessons/<section>/<name>.mdx with the frontmatter every lesson needs (the next free
// sidebar.order of its section) and a first section to replace.
import { parseArgs } from 'node:util';
import { contentRoots, shown } from './content/roots.ts';
import { createLesson, ScaffoldError } from './content/scaffold.ts';

// The sidebar's own labels (site/src/lib/sections.mjs is JavaScript, shared with the site).
const sectionsModule = '../site/src/lib/sections.mjs';
const { sectionLabel } = (await import(sectionsModule)) as { sectionLabel(dir: string): string };

const USAGE = `Usage: npm run new:lesson -- <section>/<name> [--title "The title"]
  <section>  an existing folder of lessons/ (e.g. 03-tcp-sockets), or NN-name for a new section
  <name>     the file name: lower-case letters, digits and dashes (it becomes the URL)`;

try {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { title: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const roots = contentRoots();
  const lesson = createLesson(roots, positionals[0], { title: values.title });
  const section = lesson.slug.split('/')[0];
  console.log(`Created ${shown(roots, lesson.file)}`);
  console.log(`  sidebar: "${sectionLabel(section)}", position ${lesson.order}${lesson.newSection ? ' (a new section)' : ''}`);
  console.log(`  URL:     ${lesson.url} (npm run dev serves it at http://127.0.0.1:4321${lesson.url})`);
  console.log('\nNext:');
  console.log(`  - write the title, the description and the lesson in ${shown(roots, lesson.file)}`);
  if (lesson.newSection) {
    console.log(`  - a new section: npm run dev restarts the site by itself to show its sidebar group; give it a label in site/src/lib/sections.mjs (else "${sectionLabel(section)}")`);
  }
  console.log(`  - add an exercise: npm run new:exercise -- <id> --lesson ${lesson.slug}`);
  console.log('  - check everything: npm run check:content');
} catch (err) {
  if (err instanceof ScaffoldError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`new:lesson: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  throw err;
}
