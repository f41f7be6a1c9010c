// The docs' reference-server tables are made from the registry: this fails while one is out of date,
// and while the README's configuration leaves out a server's port variable.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderTables, withTable } from '../../scripts/docs/reference-tables.ts';
import { PROJECT_ROOT } from '../../sandbox-server/src/config.ts';
import { REFERENCE_SERVERS, REFERENCE_SERVER_NAMES } from '../../sandbox-server/src/reference-servers/registry.ts';

describe('docs tables of reference servers', () => {
  it.each(['AUTHORING.md', 'sandbox-server/README.md'])('%s is up to date with the registry (else: npm run docs:tables)', async (file) => {
    const rendered = (await renderTables()).find((t) => t.file === file)!;
    expect(rendered.current).toBe(rendered.wanted);
    for (const name of REFERENCE_SERVER_NAMES) expect(rendered.current).toContain(`\`${REFERENCE_SERVERS[name].env}\``);
  });

  it('the README configuration names every server port variable', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const name of REFERENCE_SERVER_NAMES) expect(readme).toContain(`\`${REFERENCE_SERVERS[name].env}\``);
  });

  it('refuses a file without its markers, naming them', () => {
    expect(() => withTable('no markers here', 'X.md', 'm', 'table')).toThrow('X.md: the markers <!-- generated: m (npm run docs:tables) --> … <!-- end generated: m --> are missing');
  });
});
