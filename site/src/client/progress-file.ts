/**
 * The progress file's logic, free of the DOM (unit-tested in test/site/progress-file.test.ts):
 * stored entries → file (export), text → file or a message a person understands (import), and
 * what an import would write and replace. It imports the zod schema, so the overview page loads
 * it only when Export, Import or Reset is used.
 */
import type { ZodError } from 'zod';
import {
  MAX_PROGRESS_FILE_BYTES,
  PROGRESS_FORMAT,
  PROGRESS_VERSION,
  progressFileSchema,
  type ExerciseProgress,
  type ProgressFile,
} from '../../../sandbox-server/src/shapes/progress.ts';
import { keys, parseKey, playgroundKeyOf } from './storage-keys.ts';

type Entries = Iterable<readonly [string, string]>;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** "a, b and c" */
const listing = (parts: string[]) => (parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`);

export interface ProgressCounts {
  exerciseCode: number;
  playgrounds: number;
  solved: number;
}

/** "the code of 2 exercises, 1 playground and 3 solved marks" (or "nothing"). */
export function describeCounts(c: ProgressCounts): string {
  const parts: string[] = [];
  if (c.exerciseCode) parts.push(`the code of ${plural(c.exerciseCode, 'exercise')}`);
  if (c.playgrounds) parts.push(plural(c.playgrounds, 'edited playground'));
  if (c.solved) parts.push(plural(c.solved, 'solved mark'));
  return parts.length ? listing(parts) : 'nothing';
}

/** What the stored entries hold that counts as progress (other course keys are not counted). */
export function countStored(entries: Entries): ProgressCounts {
  const counts = { exerciseCode: 0, playgrounds: 0, solved: 0 };
  for (const [key] of entries) {
    const k = parseKey(key);
    if (k?.kind === 'exerciseCode') counts.exerciseCode += 1;
    else if (k?.kind === 'solved') counts.solved += 1;
    else if (k?.kind === 'playground') counts.playgrounds += 1;
  }
  return counts;
}

export function countFile(file: ProgressFile): ProgressCounts {
  const exercises = Object.values(file.exercises);
  return {
    exerciseCode: exercises.filter((e) => e.code !== undefined).length,
    playgrounds: Object.keys(file.playgrounds).length,
    solved: exercises.filter((e) => e.solved).length,
  };
}

// ---- export ------------------------------------------------------------------------------------

export interface BuiltFile {
  file: ProgressFile;
  /** What was left out because the format cannot hold it (a malformed id, oversized code), by name. */
  skipped: string[];
}

/** The progress file of these stored entries (keys without the storage prefix). */
export function buildProgressFile(entries: Entries, now: Date = new Date()): BuiltFile {
  const exportedAt = now.toISOString();
  const exercises: Record<string, ExerciseProgress> = {};
  const playgrounds: Record<string, string> = {};
  const skipped: string[] = [];
  const exercise = (id: string) => (exercises[id] ??= { solved: false });
  for (const [key, value] of entries) {
    const k = parseKey(key);
    if (!k) continue; // not progress (another feature's setting)
    if (k.kind === 'playground') {
      playgrounds[k.name] = value;
    } else if (k.kind === 'exerciseCode') {
      exercise(k.id).code = value;
    } else {
      // the mark's value is when it was set; one that is not a date still means solved
      const when = new Date(value);
      Object.assign(exercise(k.id), { solved: true, solvedAt: Number.isNaN(when.getTime()) ? exportedAt : when.toISOString() });
    }
  }
  const file: ProgressFile = { format: PROGRESS_FORMAT, version: PROGRESS_VERSION, exportedAt, exercises, playgrounds };
  // Whatever the schema would refuse on import is left out now and named, so an export always imports.
  const check = progressFileSchema.safeParse(file);
  for (const issue of check.error?.issues ?? []) {
    const [field, name] = issue.path;
    if (field === 'exercises' && typeof name === 'string' && name in exercises) {
      delete exercises[name];
      skipped.push(`exercise ${name}`);
    } else if (field === 'playgrounds' && typeof name === 'string' && name in playgrounds) {
      delete playgrounds[name];
      skipped.push(playgroundLabel(name));
    }
  }
  return { file, skipped };
}

/** socket-mastery-progress-2026-12-01.json, by the learner's own calendar date. */
export function exportFileName(now: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${PROGRESS_FORMAT}-${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}.json`;
}

// ---- import ------------------------------------------------------------------------------------

export type ReadResult = { ok: true; file: ProgressFile } | { ok: false; message: string };

const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

/** The refusal of a file of this size before it is read, or null when it may be read. */
export function sizeRefusal(bytes: number): string | null {
  if (bytes === 0) return 'The file is empty: pick a progress file exported from the course overview.';
  if (bytes > MAX_PROGRESS_FILE_BYTES) {
    return `The file is ${megabytes(bytes)}; a progress file is at most ${megabytes(MAX_PROGRESS_FILE_BYTES)}. Is it the file exported from the course overview?`;
  }
  return null;
}

const NOT_OURS = 'This is not a Socket Mastery progress file (those are exported with "Export progress" on the course overview).';

/** "exercises › tcp-echo-server › code" */
const where = (path: readonly PropertyKey[]) => path.map((p) => String(p)).join(' › ');

/** The first few schema problems in words, each saying where in the file it is. */
function describeIssues(issues: ZodError['issues']): string {
  const said = issues.slice(0, 3).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const at = issue.path.length ? ` in ${where(issue.path)}` : '';
      return `it has ${issue.keys.length === 1 ? 'a field' : 'fields'} the course does not know${at}: ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    // a bad record key: the key's own message says what is wrong with it
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return issue.path.length ? `${where(issue.path)} ${message.replace(/^Invalid input: /, 'is wrong: ')}` : message;
  });
  const more = issues.length > 3 ? ` (and ${plural(issues.length - 3, 'more problem')})` : '';
  return `This progress file is damaged: ${said.join('; ')}${more}.`;
}

/** The progress file in this text, or why it cannot be imported. Never throws. */
export function readProgressFile(text: string): ReadResult {
  const refused = sizeRefusal(text.length);
  if (refused) return { ok: false, message: refused };
  if (!text.trim()) return { ok: false, message: 'The file is empty: pick a progress file exported from the course overview.' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `${NOT_OURS} It is not even JSON: ${(err as Error).message}.` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, message: `${NOT_OURS} It holds JSON, but not an object with a "format" field.` };
  const { format, version } = data as { format?: unknown; version?: unknown };
  if (format !== PROGRESS_FORMAT) {
    const got = typeof format === 'string' ? `its format is "${format.slice(0, 60)}"` : 'it has no "format" field';
    return { ok: false, message: `${NOT_OURS} Expected "format": "${PROGRESS_FORMAT}"; ${got}.` };
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { ok: false, message: `This progress file has no valid "version" (a whole number from 1); it may have been edited by hand.` };
  }
  if (version > PROGRESS_VERSION) {
    return {
      ok: false,
      message: `This progress file was written by a newer version of the course (format version ${version}); this site reads version ${PROGRESS_VERSION}. Reload the page to get the latest site, then import again.`,
    };
  }
  const parsed = progressFileSchema.safeParse(data);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error.issues) };
  return { ok: true, file: parsed.data };
}

export interface ImportPlan {
  /** Storage entries to write, all or none. */
  writes: [string, string][];
  /** What this browser holds that the writes overwrite, by name ("exercise tcp-echo-server"). */
  replaced: string[];
  /** What the writes add where this browser had nothing. */
  added: ProgressCounts;
  /** Entries of the file this browser already holds as they are (or solved marks it already has). */
  unchanged: number;
}

/** "echo-server.ts on /03-tcp-sockets/first-tcp-server" from "/03-tcp-sockets/first-tcp-server:echo-server.ts:1a2b". */
export function playgroundLabel(name: string): string {
  const [page, ...rest] = name.split(':');
  // the last part is the hash of the sample; a BrowserPlayground's title starts with "browser:"
  const title = (rest.length > 1 ? rest.slice(0, -1) : rest).join(':').replace(/^browser:/, '');
  return `playground ${title || '(untitled)'} on ${page || '/'}`;
}

/**
 * What importing `file` into a browser holding `current` does. An import adds and replaces, never
 * removes: what this browser has and the file lacks stays, and a solved mark is never taken away
 * (a file that says "not solved" leaves a local mark alone; a local mark keeps its own date).
 */
export function planImport(current: Entries, file: ProgressFile): ImportPlan {
  const now = new Map(current);
  const plan: ImportPlan = { writes: [], replaced: [], added: { exerciseCode: 0, playgrounds: 0, solved: 0 }, unchanged: 0 };
  const put = (key: string, value: string, label: string, kind: keyof ProgressCounts) => {
    const had = now.get(key);
    if (had === value) {
      plan.unchanged += 1;
      return;
    }
    plan.writes.push([key, value]);
    if (had === undefined) plan.added[kind] += 1;
    else plan.replaced.push(label);
  };
  for (const [id, ex] of Object.entries(file.exercises)) {
    if (ex.code !== undefined) put(keys.exerciseCode(id), ex.code, `exercise ${id}`, 'exerciseCode');
    if (ex.solved && ex.solvedAt !== undefined) {
      if (now.has(keys.solved(id))) plan.unchanged += 1;
      else put(keys.solved(id), ex.solvedAt, `solved mark of ${id}`, 'solved');
    }
  }
  for (const [name, code] of Object.entries(file.playgrounds)) put(playgroundKeyOf(name), code, playgroundLabel(name), 'playgrounds');
  return plan;
}

/** The import dialog's summary: what the file holds and what importing it does here. */
export function describeImport(file: ProgressFile, plan: ImportPlan): string {
  const when = file.exportedAt.slice(0, 16).replace('T', ' ');
  const holds = `This file, exported ${when} UTC, holds ${describeCounts(countFile(file))}.`;
  const adds = describeCounts(plan.added);
  const added = adds === 'nothing' ? '' : ` Importing adds ${adds}.`;
  const replaced = plan.replaced.length
    ? ` It replaces what this browser has for ${plural(plan.replaced.length, 'item')} (listed below); everything else you have here stays.`
    : ' Nothing in this browser is replaced; everything you have here stays.';
  return holds + added + replaced;
}
