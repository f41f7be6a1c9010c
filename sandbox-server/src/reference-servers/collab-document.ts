// One shared document of the collaborative protocol (COLLAB-PROTOCOL.md): its text and version, the
// checks an edit must pass, and what an edit does to the text and to cursors. Positions count code
// points, never UTF-16 units, so no edit can cut a character in half. Used by the reference server
// and by the ws-collab-server grader's model of what every client should hold.

export interface EditOp {
  pos: number;
  delete: number;
  insert: string;
}

export const COLLAB_LIMITS = {
  /** Largest message in bytes; a larger one closes the connection with 1009. */
  maxMessageBytes: 16 * 1024,
  /** Code points one edit may insert. */
  maxInsert: 1000,
  /** Code points a document may hold. */
  maxLength: 10_000,
  /** Code points of a user name. */
  maxName: 20,
} as const;

export type EditRefusal = { code: 'stale'; message: string; version: number } | { code: 'out_of_range' | 'too_large'; message: string };

/** Code points in `text` (what `[...text].length` counts, without building the array). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The UTF-16 index where code point number `pos` of `text` starts (text.length at the end). */
export function utf16Index(text: string, pos: number): number {
  let index = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen === pos) return index;
    index += ch.length;
    seen++;
  }
  return index;
}

/** `text` with `op` applied; `op` must fit (pos + delete ≤ the text's code points). */
export function applyOp(text: string, op: EditOp): string {
  const start = utf16Index(text, op.pos);
  const end = start + utf16Index(text.slice(start), op.delete);
  return text.slice(0, start) + op.insert + text.slice(end);
}

/** Where a cursor is after `op`: unmoved before it, shifted after it, at `pos` if its text was deleted. */
export function moveCursor(cursor: number, op: EditOp): number {
  if (cursor <= op.pos) return cursor;
  if (cursor >= op.pos + op.delete) return cursor - op.delete + codePointLength(op.insert);
  return op.pos;
}

export class CollabDocument {
  private content = '';
  private codePoints = 0;
  private current = 0;

  get text(): string {
    return this.content;
  }

  get version(): number {
    return this.current;
  }

  /** Length in code points. */
  get length(): number {
    return this.codePoints;
  }

  /** Why `op` made against `baseVersion` cannot be applied now, in the protocol's order of checks; undefined if it can. */
  refusal(baseVersion: number, op: EditOp): EditRefusal | undefined {
    if (baseVersion !== this.current) {
      return { code: 'stale', message: `the document is at version ${this.current}, not ${baseVersion}: rebase your edit and send it again`, version: this.current };
    }
    if (op.pos + op.delete > this.codePoints) {
      return { code: 'out_of_range', message: `pos + delete = ${op.pos + op.delete} is past the end of the document (${this.codePoints} code points)` };
    }
    const inserted = codePointLength(op.insert);
    if (inserted > COLLAB_LIMITS.maxInsert) return { code: 'too_large', message: `an edit may insert at most ${COLLAB_LIMITS.maxInsert} code points, not ${inserted}` };
    const after = this.codePoints - op.delete + inserted;
    if (after > COLLAB_LIMITS.maxLength) return { code: 'too_large', message: `the document would be ${after} code points long; at most ${COLLAB_LIMITS.maxLength} are allowed` };
    return undefined;
  }

  /** Applies an op that passed refusal(); returns the new version. */
  apply(op: EditOp): number {
    this.content = applyOp(this.content, op);
    this.codePoints += codePointLength(op.insert) - op.delete;
    return ++this.current;
  }
}
