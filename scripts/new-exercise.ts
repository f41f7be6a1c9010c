// npm run new:exercise -- <id> [--lesson <section>/<name>] [--kind server|client|module] [--title "…"]
// Creates exercises/<id>/ from the template of its kind: a small exercise that already works (its
// solution passes, its starter fails, its wrong/ patch fails exactly the tests exercise.json declares),
// with a grade.test.ts that uses the grading kit the way that kind of exercise does. Then you make
// it your own.
import { parseArgs } from 'node:util';
import { contentRoots, shown } from './content/roots.ts';
import { createExercise, NO_LESSON_YET, ScaffoldError } from './content/scaffold.ts';

const USAGE = `Usage: npm run new:exercise -- <id> [--lesson <section>/<name>] [--kind server|client|module] [--title "The title"]
  <id>      lower-case letters, digits and dashes, e.g. tcp-keepalive-server
  --lesson  the lesson that embeds it, e.g. 03-tcp-sockets/keepalive (must exist)
  --kind    server (listens on PORT; default), client (connects to the reference servers),
            module (exports functions or classes the tests call)`;

try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { lesson: { type: 'string' }, kind: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const roots = contentRoots();
  const exercise = createExercise(roots, positionals[0], { kind: values.kind, lesson: values.lesson, title: values.title });
  const folder = shown(roots, exercise.dir);
  console.log(`Created ${folder}/ (a ${exercise.kind} exercise, overview position ${exercise.order}):`);
  for (const file of exercise.files) console.log(`  ${folder}/${file}`);
  console.log('\nIt is a small working exercise: its solution passes and its starter fails. Next:');
  if (exercise.lesson) {
    console.log(`  - embed it in ${shown(roots, exercise.lesson.file)} where the learner should try it:`);
    console.log(`      import Exercise from '@course/Exercise.astro';   (below the frontmatter, if not there yet)`);
    console.log(`      <Exercise id="${exercise.id}" />`);
  } else {
    console.log(`  - set "lesson" in ${folder}/exercise.json (now "${NO_LESSON_YET}") to the lesson that embeds it, and embed it there:`);
    console.log(`      <Exercise id="${exercise.id}" />`);
  }
  console.log(`  - make it your own: instructions.md, starter.ts, solution.ts, hints.md, grade.test.ts`);
  console.log(`  - replace the wrong example (wrong/*.patch and "wrong" in exercise.json) with the mistakes learners make:`);
  console.log(`      npm run new:wrong -- ${exercise.id} <the-mistake> <an edited copy of solution.ts> --mistake "…"`);
  console.log(`  - check it: npm run check:content -- --exercise ${exercise.id}`);
} catch (err) {
  if (err instanceof ScaffoldError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`new:exercise: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  throw err;
}
