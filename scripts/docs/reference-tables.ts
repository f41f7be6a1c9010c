// The docs' tables of reference servers, made from the registry (sandbox-server/src/reference-servers/
// registry.ts). `npm run docs:tables` rewrites them between their markers; a test fails while a
// table is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../sandbox-server/src/config.ts';
import { REFERENCE_SERVERS, REFERENCE_SERVER_NAMES, type ReferenceServerEntry } from '../../sandbox-server/src/reference-servers/registry.ts';

const entries = () => REFERENCE_SERVER_NAMES.map((name) => ({ name, ...(REFERENCE_SERVERS[name] as ReferenceServerEntry) }));
const protocolLink = (protocol: string | undefined, from: string) =>
  protocol ? ` ([its protocol](${path.relative(path.dirname(path.join(PROJECT_ROOT, from)), path.join(PROJECT_ROOT, protocol))}))` : '';

/** Each generated table: the file it is in, its marker name, and how it is made. */
export const GENERATED_TABLES: Array<{ file: string; marker: string; render(): string }> = [
  {
    file: 'AUTHORING.md',
    marker: 'reference-servers',
    render: () =>
      [
        '| server | registry name | variable | shared port | transport | what it does |',
        '|---|---|---|---|---|---|',
        ...entries().map(
          (e) => `| ${e.title} | \`${e.name}\` | \`${e.env}\` | ${e.defaultPort} | ${e.transport} | ${e.description}${protocolLink(e.protocol, 'AUTHORING.md')} |`,
        ),
      ].join('\n'),
  },
  {
    file: 'sandbox-server/README.md',
    marker: 'learner-environment',
    render: () =>
      [
        '| variable | meaning |',
        '|---|---|',
        '| `HOST` | `127.0.0.1` |',
        '| `PORT` | server exercises: where the learner\'s server must listen |',
        ...entries().map((e) => `| \`${e.env}\` | this run's ${e.title} reference server (${e.transport}) |`),
      ].join('\n'),
  },
];

const begin = (marker: string) => `<!-- generated: ${marker} (npm run docs:tables) -->`;
const end = (marker: string) => `<!-- end generated: ${marker} -->`;

/** `text` with the table between the markers made anew; throws if the markers are missing. */
export function withTable(text: string, file: string, marker: string, table: string): string {
  const from = text.indexOf(begin(marker));
  const to = text.indexOf(end(marker));
  if (from === -1 || to < from) throw new Error(`${file}: the markers ${begin(marker)} … ${end(marker)} are missing`);
  return `${text.slice(0, from)}${begin(marker)}\n${table}\n${text.slice(to)}`;
}

/** The generated tables' files as they should be, with whether each differs from what is on disk. */
export async function renderTables(): Promise<Array<{ file: string; current: string; wanted: string }>> {
  const byFile = new Map<string, { current: string; wanted: string }>();
  for (const table of GENERATED_TABLES) {
    const entry: { current: string; wanted: string } =
      byFile.get(table.file) ?? (await readFile(path.join(PROJECT_ROOT, table.file), 'utf8').then((text) => ({ current: text, wanted: text })));
    entry.wanted = withTable(entry.wanted, table.file, table.marker, table.render());
    byFile.set(table.file, entry);
  }
  return [...byFile].map(([file, texts]) => ({ file, ...texts }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { file, current, wanted } of await renderTables()) {
    if (current === wanted) continue;
    await writeFile(path.join(PROJECT_ROOT, file), wanted);
    console.log(`updated ${file}`);
  }
}
