// npm run new:wrong -- <exercise-id> <name> [<edited-copy.ts>] [--mistake "…"] [--root <dir>]
// Makes exercises/<id>/wrong/<name>.patch from an edited copy of the exercise's solution.ts (or takes
// the patch that is there), grades the patched solution through the real server, and declares it in
// exercise.json's "wrong" with the tests it failed. Run it again to refresh a patch or its "fails".
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startGradingServer } from './check-content/grading-server.ts';
import { declareWrongExample } from './content/declare-wrong.ts';
import { contentRoots, shown } from './content/roots.ts';
import { ScaffoldError } from './content/scaffold.ts';

const USAGE = `Usage: npm run new:wrong -- <exercise-id> <name> [<edited-copy.ts>] [--mistake "…"]
  <exercise-id>     the exercise, e.g. tcp-echo-server
  <name>            the mistake, lower-case with dashes, e.g. to-string: the file is wrong/<name>.patch
  <edited-copy.ts>  a copy of the exercise's solution.ts with the mistake made in it; without it,
                    the existing wrong/<name>.patch is graded again (after solution.ts or the tests changed)
  --mistake "…"     the mistake in a learner's words (needed for a new entry; an update keeps the old one)
  --root <dir>      another content tree (<dir>/exercises), as for check:content`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { mistake: { type: 'string' }, root: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (err) {
    console.error(`new:wrong: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length < 2 || positionals.length > 3) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const [id, name, copy] = positionals;
  const roots = contentRoots(values.root ? path.resolve(values.root) : undefined);
  let server: Awaited<ReturnType<typeof startGradingServer>> | undefined;
  try {
    const declared = await declareWrongExample(roots, id, name, { copy, mistake: values.mistake }, async (code) => {
      console.log('Grading the patched solution through the server…');
      server = await startGradingServer(roots.exercisesDir);
      return server.submit(id, code);
    });
    const json = shown(roots, declared.metaFile);
    console.log(`It fails ${declared.failed.length} of ${declared.total} tests:`);
    for (const t of declared.failed) console.log(`  ✗ ${t.name}\n      ${(t.message ?? t.status).split('\n').slice(0, 4).join('\n      ')}`);
    console.log(`\nWrote ${shown(roots, declared.patchFile)} and ${declared.added ? 'added' : 'updated'} wrong.${declared.index} in ${json}:`);
    console.log(JSON.stringify(declared.entry, null, 2).replace(/^/gm, '  '));
    console.log('\nRead the failures above: each should be this mistake. One that fails for another reason means the copy makes a second mistake.');
    console.log(`Then: npm run check:content -- --exercise ${id}`);
    return 0;
  } catch (err) {
    if (err instanceof ScaffoldError) {
      console.error(`new:wrong: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  } finally {
    await server?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`new:wrong could not run: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
