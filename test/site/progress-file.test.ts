// The progress file (sandbox-server/src/shapes/progress.ts) and its logic in the site
// (site/src/client/progress-file.ts): export from stored entries, import with messages a person
// understands, what an import adds and replaces; and the storage calls an import and a reset make
// (site/src/client/storage-prefixed.ts), against a localStorage stand-in that can run out of room.
import { describe, expect, it } from 'vitest';
import {
  MAX_PROGRESS_CODE_CHARS,
  MAX_PROGRESS_FILE_BYTES,
  PROGRESS_FORMAT,
  PROGRESS_VERSION,
  progressFileSchema,
  type ProgressFile,
} from '../../sandbox-server/src/shapes/progress.ts';
import {
  buildProgressFile,
  countStored,
  describeCounts,
  describeImport,
  exportFileName,
  planImport,
  playgroundLabel,
  readProgressFile,
  sizeRefusal,
} from '../../site/src/client/progress-file.ts';
import { keys, parseKey, playgroundKeyOf } from '../../site/src/client/storage-keys.ts';
import { prefixedStore } from '../../site/src/client/storage-prefixed.ts';

const NOW = new Date('2026-12-01T10:30:00.000Z');
const SOLVED_AT = '2026-11-30T08:00:00.000Z';
const PLAYGROUND = '/03-tcp-sockets/first-tcp-server:echo-server.ts:1a2b3c';

/** What a browser that edited and solved tcp-echo-server and edited one playground stores. */
const storedEntries = (): [string, string][] => [
  [keys.exerciseCode('tcp-echo-server'), 'my server'],
  [keys.solved('tcp-echo-server'), SOLVED_AT],
  [keys.solved('tcp-echo-client'), 'true'], // an old-style mark: still solved, date unknown
  [keys.exerciseCode('ws-echo-server'), 'half done'],
  [playgroundKeyOf(PLAYGROUND), 'edited sample'],
  ['theme:traffic-view', 'expanded'], // another feature's setting: not progress
];

const fileWith = (over: Partial<ProgressFile> = {}): ProgressFile => ({
  format: PROGRESS_FORMAT,
  version: PROGRESS_VERSION,
  exportedAt: NOW.toISOString(),
  exercises: {},
  playgrounds: {},
  ...over,
});

describe('storage keys', () => {
  it('parseKey reads back what keys makes, and nothing else', () => {
    expect(parseKey(keys.exerciseCode('tcp-echo-server'))).toEqual({ kind: 'exerciseCode', id: 'tcp-echo-server' });
    expect(parseKey(keys.solved('sio-chat'))).toEqual({ kind: 'solved', id: 'sio-chat' });
    const key = keys.playground('/04-websockets/browser-client', 'browser:echo-page.js:ff00');
    expect(parseKey(key)).toEqual({ kind: 'playground', name: '/04-websockets/browser-client:browser:echo-page.js:ff00' });
    expect(playgroundKeyOf('/04-websockets/browser-client:browser:echo-page.js:ff00')).toBe(key);
    expect(parseKey('theme:traffic-view')).toBeNull();
    expect(parseKey('exercise:tcp-echo-server:hints')).toBeNull();
  });
});

describe('export', () => {
  it('holds every exercise with code or a mark, and every playground; other keys are left out', () => {
    const { file, skipped } = buildProgressFile(storedEntries(), NOW);
    expect(skipped).toEqual([]);
    expect(file).toEqual({
      format: 'socket-mastery-progress',
      version: 1,
      exportedAt: '2026-12-01T10:30:00.000Z',
      exercises: {
        'tcp-echo-server': { code: 'my server', solved: true, solvedAt: SOLVED_AT },
        'tcp-echo-client': { solved: true, solvedAt: '2026-12-01T10:30:00.000Z' },
        'ws-echo-server': { code: 'half done', solved: false },
      },
      playgrounds: { [PLAYGROUND]: 'edited sample' },
    });
    expect(progressFileSchema.safeParse(file).success).toBe(true);
  });

  it('leaves out and names what the format cannot hold, so the file still imports', () => {
    const huge = 'x'.repeat(MAX_PROGRESS_CODE_CHARS + 1);
    const { file, skipped } = buildProgressFile(
      [
        [keys.exerciseCode('tcp-echo-server'), 'kept'],
        [keys.exerciseCode('Not An Id'), 'odd'],
        [keys.exerciseCode('ws-dashboard'), huge],
        [playgroundKeyOf('no-leading-slash:x.ts:1'), 'odd'],
      ],
      NOW,
    );
    expect(skipped.sort()).toEqual(['exercise Not An Id', 'exercise ws-dashboard', 'playground x.ts on no-leading-slash']);
    expect(Object.keys(file.exercises)).toEqual(['tcp-echo-server']);
    expect(file.playgrounds).toEqual({});
    expect(readProgressFile(JSON.stringify(file)).ok).toBe(true);
  });

  it('round-trips: the exported text reads back as the same file', () => {
    const { file } = buildProgressFile(storedEntries(), NOW);
    expect(readProgressFile(JSON.stringify(file, null, 2))).toEqual({ ok: true, file });
  });

  it('names the file by the local calendar date', () => {
    expect(exportFileName(new Date(2026, 0, 5, 23, 59))).toBe('socket-mastery-progress-2026-01-05.json');
    expect(exportFileName(new Date(2026, 11, 31, 0, 1))).toBe('socket-mastery-progress-2026-12-31.json');
  });
});

describe('reading a file to import', () => {
  const refusal = (text: string) => {
    const r = readProgressFile(text);
    if (r.ok) throw new Error('accepted');
    return r.message;
  };

  it('says when the file is not JSON, or JSON of something else', () => {
    expect(refusal('hello, world')).toMatch(/^This is not a Socket Mastery progress file .* It is not even JSON: /);
    expect(refusal('[1, 2]')).toMatch(/not a Socket Mastery progress file.*not an object/);
    expect(refusal('{"name": "my-package", "version": "1.0.0"}')).toMatch(/Expected "format": "socket-mastery-progress"; it has no "format" field\.$/);
    expect(refusal('{"format": "vscode-settings", "version": 1}')).toMatch(/its format is "vscode-settings"/);
    expect(refusal('   \n')).toMatch(/^The file is empty/);
  });

  it('refuses a newer version by name, and a version that is not one', () => {
    expect(refusal(JSON.stringify({ ...fileWith(), version: 2 }))).toBe(
      'This progress file was written by a newer version of the course (format version 2); this site reads version 1. Reload the page to get the latest site, then import again.',
    );
    for (const version of [0, '1', 1.5, null]) expect(refusal(JSON.stringify({ ...fileWith(), version }))).toMatch(/no valid "version"/);
  });

  it('says where a damaged file is wrong', () => {
    const damaged = {
      ...fileWith(),
      exercises: { 'tcp-echo-server': { code: 42, solved: false }, 'ws-echo-server': { solved: 'yes' } },
    };
    expect(refusal(JSON.stringify(damaged))).toBe(
      'This progress file is damaged: exercises › tcp-echo-server › code must be the code as text; exercises › ws-echo-server › solved must be true or false.',
    );
    expect(refusal(JSON.stringify({ ...fileWith(), exercises: { 'tcp-echo-server': { solved: true } } }))).toBe(
      'This progress file is damaged: exercises › tcp-echo-server › solvedAt is missing for a solved exercise.',
    );
    expect(refusal(JSON.stringify({ ...fileWith(), exportedAt: 'yesterday' }))).toMatch(/exportedAt must be a date and time like/);
    expect(refusal(JSON.stringify({ ...fileWith(), exercises: { 'Echo Server': { solved: false } } }))).toMatch(
      /exercises › Echo Server is not an exercise id/,
    );
    expect(refusal(JSON.stringify({ ...fileWith(), extra: true }))).toMatch(/it has a field the course does not know: "extra"/);
    expect(refusal(JSON.stringify({ ...fileWith(), playgrounds: { '/a:b:1': 1, '/a:b:2': 2, '/a:b:3': 3, '/a:b:4': 4 } }))).toMatch(
      /playgrounds › \/a:b:1 must be the code as text;.*\(and 1 more problem\)\.$/,
    );
  });

  it('refuses a file over the cap before reading it, and an empty one', () => {
    expect(sizeRefusal(MAX_PROGRESS_FILE_BYTES)).toBeNull();
    expect(sizeRefusal(MAX_PROGRESS_FILE_BYTES + 1)).toBe(
      'The file is 4.0 MB; a progress file is at most 4.0 MB. Is it the file exported from the course overview?',
    );
    expect(sizeRefusal(50 * 1024 * 1024)).toMatch(/^The file is 50\.0 MB;/);
    expect(sizeRefusal(0)).toMatch(/^The file is empty/);
    expect(refusal(' '.repeat(MAX_PROGRESS_FILE_BYTES + 1))).toMatch(/at most 4\.0 MB/);
  });
});

describe('planning an import', () => {
  const exported = buildProgressFile(storedEntries(), NOW).file;

  it('into an empty browser writes everything and replaces nothing', () => {
    const plan = planImport([], exported);
    expect(new Map(plan.writes)).toEqual(
      new Map([
        [keys.exerciseCode('tcp-echo-server'), 'my server'],
        [keys.solved('tcp-echo-server'), SOLVED_AT],
        [keys.solved('tcp-echo-client'), NOW.toISOString()],
        [keys.exerciseCode('ws-echo-server'), 'half done'],
        [playgroundKeyOf(PLAYGROUND), 'edited sample'],
      ]),
    );
    expect(plan.replaced).toEqual([]);
    expect(plan.added).toEqual({ exerciseCode: 2, playgrounds: 1, solved: 2 });
    expect(describeImport(exported, plan)).toBe(
      'This file, exported 2026-12-01 10:30 UTC, holds the code of 2 exercises, 1 edited playground and 2 solved marks. Importing adds the code of 2 exercises, 1 edited playground and 2 solved marks. Nothing in this browser is replaced; everything you have here stays.',
    );
  });

  it('into the browser it came from changes nothing', () => {
    const plan = planImport(storedEntries(), exported);
    expect(plan.writes).toEqual([]);
    expect(plan.unchanged).toBe(5);
  });

  it('names each piece of code it replaces, keeps local solved marks and everything the file lacks', () => {
    const here: [string, string][] = [
      [keys.exerciseCode('tcp-echo-server'), 'a different server'],
      [keys.solved('tcp-echo-server'), '2026-01-01T00:00:00.000Z'],
      [keys.solved('ws-echo-server'), '2026-02-01T00:00:00.000Z'], // the file says not solved
      [playgroundKeyOf(PLAYGROUND), 'my other edit'],
      [keys.exerciseCode('udp-echo'), 'only here'],
    ];
    const plan = planImport(here, exported);
    expect(plan.replaced).toEqual(['exercise tcp-echo-server', 'playground echo-server.ts on /03-tcp-sockets/first-tcp-server']);
    const writes = new Map(plan.writes);
    expect(writes.get(keys.exerciseCode('tcp-echo-server'))).toBe('my server');
    expect(writes.has(keys.solved('tcp-echo-server'))).toBe(false); // the earlier local date stays
    expect(writes.has(keys.solved('ws-echo-server'))).toBe(false); // never un-solved
    expect(writes.has(keys.exerciseCode('udp-echo'))).toBe(false);
    expect(describeImport(exported, plan)).toMatch(/It replaces what this browser has for 2 items \(listed below\); everything else you have here stays\.$/);
  });
});

describe('counts and labels', () => {
  it('counts what is stored and says it in words', () => {
    const counts = countStored(storedEntries());
    expect(counts).toEqual({ exerciseCode: 2, playgrounds: 1, solved: 2 });
    expect(describeCounts(counts)).toBe('the code of 2 exercises, 1 edited playground and 2 solved marks');
    expect(describeCounts({ exerciseCode: 1, playgrounds: 0, solved: 0 })).toBe('the code of 1 exercise');
    expect(describeCounts(countStored([]))).toBe('nothing');
  });

  it('labels playgrounds by title and page', () => {
    expect(playgroundLabel(PLAYGROUND)).toBe('playground echo-server.ts on /03-tcp-sockets/first-tcp-server');
    expect(playgroundLabel('/04-websockets/browser-client:browser:echo-page.js:ff00')).toBe('playground echo-page.js on /04-websockets/browser-client');
  });
});

/** A localStorage with room for `capacity` characters of keys and values, like a browser's quota. */
class SmallStorage {
  private data = new Map<string, string>();
  constructor(private capacity: number) {}
  get length() {
    return this.data.size;
  }
  key(i: number) {
    return [...this.data.keys()][i] ?? null;
  }
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    const used = [...this.data].reduce((n, [key, val]) => n + (key === k ? 0 : key.length + val.length), 0);
    if (used + k.length + v.length > this.capacity) throw new DOMException('quota', 'QuotaExceededError');
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
  snapshot() {
    return new Map(this.data);
  }
}

describe('storage: import and reset', () => {
  let store: ReturnType<typeof prefixedStore>;
  const install = (capacity: number) => {
    const s = new SmallStorage(capacity);
    store = prefixedStore(() => s, 'socket-mastery:');
    return s;
  };

  it('an import that does not fit changes nothing', () => {
    const s = install(400);
    store.set(keys.exerciseCode('tcp-echo-server'), 'mine');
    s.setItem('other-site:key', 'theirs');
    const before = s.snapshot();
    const ok = store.setAll([
      [keys.exerciseCode('tcp-echo-server'), 'imported'],
      [keys.exerciseCode('ws-echo-server'), 'new'],
      [keys.exerciseCode('ws-dashboard'), 'y'.repeat(500)],
    ]);
    expect(ok).toBe(false);
    expect(s.snapshot()).toEqual(before);
  });

  it('an import that fits writes every entry', () => {
    install(10_000);
    expect(store.setAll([[keys.exerciseCode('a'), '1'], [keys.solved('a'), SOLVED_AT]])).toBe(true);
    expect(new Map(store.entries())).toEqual(new Map([[keys.exerciseCode('a'), '1'], [keys.solved('a'), SOLVED_AT]]));
  });

  it("a reset removes this course's keys and no other key of the origin", () => {
    const s = install(10_000);
    for (const [k, v] of storedEntries()) store.set(k, v);
    s.setItem('other-app:settings', 'keep me');
    expect(store.clear()).toBe(storedEntries().length);
    expect(store.entries()).toEqual([]);
    expect(s.snapshot()).toEqual(new Map([['other-app:settings', 'keep me']]));
  });
});
