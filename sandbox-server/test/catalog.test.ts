import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExerciseCatalog, ExerciseError, parseHints } from '../src/exercises/catalog.ts';

/** The folders catalogWith made, removed after the file. */
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function catalogWith(id: string, meta: unknown) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'catalog-'));
  dirs.push(dir);
  await mkdir(path.join(dir, id));
  await writeFile(path.join(dir, id, 'exercise.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
  for (const f of ['instructions.md', 'starter.ts', 'solution.ts']) await writeFile(path.join(dir, id, f), f);
  return new ExerciseCatalog(dir);
}
const good = { id: 'ok-one', title: 'Okay', lesson: 'x/y', kind: 'server', difficulty: 'easy', order: 1 };

describe('ExerciseCatalog', () => {
  it('reads a valid folder', async () => {
    const e = await (await catalogWith('ok-one', good)).get('ok-one');
    expect(e).toMatchObject({ id: 'ok-one', kind: 'server', starter: 'starter.ts', hints: [], limits: {} });
  });

  it('treats ids that are not exercise ids as unknown', async () => {
    const c = await catalogWith('ok-one', good);
    for (const id of ['..', '../ok-one', 'OK-ONE', 'ok_one', '', 'ok-one/']) expect(await c.get(id)).toBeUndefined();
  });

  it('names the file and field of invalid metadata', async () => {
    await expect((await catalogWith('ok-one', { ...good, kind: 'daemon' })).get('ok-one')).rejects.toThrow(/exercises\/ok-one\/exercise.json: kind/);
    await expect((await catalogWith('ok-one', '{oops')).get('ok-one')).rejects.toThrow(ExerciseError);
    await expect((await catalogWith('ok-one', { ...good, id: 'other' })).get('ok-one')).rejects.toThrow(/must equal the folder name/);
  });
});

describe('ExerciseCatalog.list', () => {
  it('lists the exercises that read cleanly and names the broken one, instead of failing them all', async () => {
    const c = await catalogWith('ok-one', good);
    await mkdir(path.join(c.dir, 'half-written'));
    await writeFile(path.join(c.dir, 'half-written', 'exercise.json'), '{"id": "half-written",');
    const broken: string[] = [];
    expect((await c.list((e) => broken.push(e.message))).map((e) => e.id)).toEqual(['ok-one']);
    expect(broken).toEqual([expect.stringMatching(/^exercises\/half-written\/exercise.json: /)]);
  });
});

describe('parseHints', () => {
  it('takes one hint per top-level bullet, continuing indented lines', () => {
    expect(parseHints('Intro\n- first\n  more\n- second\n')).toEqual(['first\nmore', 'second']);
  });
});
