import type { Loader } from 'astro/loaders';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Splits hints.md into one markdown string per top-level `- ` (or `* `) bullet. */
export function splitHints(markdown: string): string[] {
  const hints: string[] = [];
  let current: string[] | null = null;
  for (const line of markdown.replace(/\r\n/g, '\n').split('\n')) {
    const m = /^[-*] (.*)$/.exec(line);
    if (m) {
      if (current) hints.push(current.join('\n'));
      current = [m[1]];
    } else if (current) {
      // continuation lines belong to the current hint; strip the bullet's indentation
      current.push(line.replace(/^ {2}/, ''));
    }
  }
  if (current) hints.push(current.join('\n'));
  return hints.map((h) => h.trim()).filter(Boolean);
}

/**
 * Instructions sit under the exercise's own <h2>: shift their headings down (## → h3, # → h3)
 * so the page outline stays right.
 */
export function demoteHeadings(html: string): string {
  return html.replace(/<(\/?)h([1-6])(?=[\s>])/g, (_m, slash: string, level: string) => {
    const n = Math.min(6, Math.max(3, Number(level) + 1));
    return `<${slash}h${n}`;
  });
}

const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : null);

/**
 * Loads exercises/<id>/ folders (exercise.json, instructions.md, starter.ts, hints.md), renders the
 * markdown with Astro's own markdown pipeline, and watches the folder in `astro dev`.
 * A folder without exercise.json is skipped (it is still being written).
 */
export function exercisesLoader({ base }: { base: string }): Loader {
  return {
    name: 'socket-mastery:exercises',
    load: async (ctx) => {
      const dir = fileURLToPath(new URL(base.endsWith('/') ? base : base + '/', ctx.config.root));
      const loadAll = async () => {
        ctx.store.clear();
        if (!existsSync(dir)) {
          ctx.logger.warn(`no exercises folder at ${dir}`);
          return;
        }
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (!e.isDirectory()) continue;
          const folder = path.join(dir, e.name);
          const json = read(path.join(folder, 'exercise.json'));
          if (json === null) continue;
          let meta: Record<string, unknown>;
          try {
            meta = JSON.parse(json);
          } catch (err) {
            ctx.logger.warn(`${e.name}/exercise.json is not valid JSON: ${(err as Error).message}`);
            continue;
          }
          const id = typeof meta.id === 'string' ? meta.id : e.name;
          const instructions = read(path.join(folder, 'instructions.md')) ?? '';
          const starter = read(path.join(folder, 'starter.ts')) ?? '';
          const hintsMd = read(path.join(folder, 'hints.md')) ?? '';
          const hints = await Promise.all(splitHints(hintsMd).map(async (h) => (await ctx.renderMarkdown(h)).html));
          const rawData = { ...meta, id, title: meta.title ?? id, starter, hints };
          const digest = ctx.generateDigest({ json, instructions, starter, hintsMd });
          const data = await ctx.parseData({ id, data: rawData });
          ctx.store.set({
            id,
            data,
            body: instructions,
            digest,
            rendered: await ctx.renderMarkdown(instructions).then((r) => ({ ...r, html: demoteHeadings(r.html) })),
            filePath: path.relative(fileURLToPath(ctx.config.root), path.join(folder, 'instructions.md')),
          });
        }
      };
      await loadAll();
      ctx.watcher?.add(dir);
      ctx.watcher?.on('all', (_event, changed) => {
        if (changed.startsWith(dir)) void loadAll();
      });
    },
  };
}
