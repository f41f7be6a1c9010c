// Edits of the collaborative protocol (COLLAB-PROTOCOL.md) as the browser widget needs them: the
// one edit between two texts (what the learner just did in the text box), and an edit moved over
// another that was applied before it (the rebase the lesson teaches, with a choice of which insert
// comes first at the same position). Positions count code points, as the protocol does; what the
// server also does (applying an edit, moving a cursor) is the server's own code, shared.
import { applyOp, codePointLength, moveCursor, utf16Index, type EditOp } from '../../../../sandbox-server/src/reference-servers/collab-document.ts';

export { applyOp, codePointLength, moveCursor, utf16Index, type EditOp };

export function isNoop(op: EditOp): boolean {
  return op.delete === 0 && op.insert === '';
}

/** The code point position of a UTF-16 offset into `text` (what a textarea's selection gives). */
export function codePointAt(text: string, utf16: number): number {
  return codePointLength(text.slice(0, utf16));
}

/**
 * The one edit that turns `before` into `after`, or null when they are equal. Where several edits
 * would do (typing "a" into "aa"), the one that ends at `caret` (a code point position in `after`:
 * where the text box's cursor is) is chosen, so the edit lands where the learner typed.
 */
export function diff(before: string, after: string, caret?: number): EditOp | null {
  if (before === after) return null;
  const a = [...before];
  const b = [...after];
  const shorter = Math.min(a.length, b.length);
  let prefix = 0;
  while (prefix < shorter && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < shorter && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  let pos = prefix;
  // A pure insertion or deletion inside a run of equal characters: any start in [lo, hi] is as small.
  const lo = Math.max(0, shorter - suffix);
  if (caret !== undefined && lo <= prefix) {
    const target = caret - Math.max(0, b.length - a.length);
    pos = Math.min(prefix, Math.max(lo, target));
  }
  const tail = Math.min(suffix, shorter - pos);
  return { pos, delete: a.length - pos - tail, insert: b.slice(pos, b.length - tail).join('') };
}

/**
 * `op`, made against the same text as `applied`, moved to where it belongs once `applied` has been
 * applied first. Where both insert at the same position, `appliedFirst` says whose insert comes
 * first (the server's order decides: the edit it applied first). Text `applied` deleted is not
 * deleted again; an insert inside it goes just after `applied`'s insert.
 */
export function transform(op: EditOp, applied: EditOp, appliedFirst: boolean): EditOp {
  const inserted = codePointLength(applied.insert);
  const start = applied.pos;
  const end = applied.pos + applied.delete;
  const map = (x: number): number => {
    if (x < start) return x;
    if (x === start) return appliedFirst ? start + inserted : start;
    if (x < end) return start + inserted;
    return x - applied.delete + inserted;
  };
  const pos = map(op.pos);
  if (op.delete === 0) return { pos, delete: 0, insert: op.insert };
  const opEnd = op.pos + op.delete;
  const mappedEnd = opEnd <= start ? opEnd : opEnd < end ? start : opEnd - applied.delete + inserted;
  return { pos, delete: Math.max(0, mappedEnd - pos), insert: op.insert };
}
