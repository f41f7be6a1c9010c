// The client side of the collaborative protocol (COLLAB-PROTOCOL.md) for a text box, without the
// DOM (so it is tested against the real server): the learner types freely, and the session keeps
// three things apart: the server's text at the latest version it has seen, at most one edit in
// flight (sent, not yet acked; the server accepts only edits made against its current version),
// and whatever the learner typed since, which is sent as one edit when the one in flight is acked.
// An edit from someone else is applied to the server's text and the two local ones are moved over
// it (transform); a stale rejection of the edit in flight is answered by sending it again, already
// moved, against the version named. So the text box always shows the server's text plus the
// learner's own pending typing, and, once nothing is pending, exactly the server's text.
import { applyOp, codePointLength, diff, isNoop, moveCursor, transform, type EditOp } from './collab-ops.ts';

export interface CollabUser {
  id: string;
  name: string;
  /** In the server's text at `version`; null before the user placed one. */
  cursor: number | null;
}

/** What the server sends (COLLAB-PROTOCOL.md, "Server → client"). */
export type CollabServerMessage =
  | { type: 'sync'; you: string; doc: string; version: number; text: string; users: CollabUser[] }
  | { type: 'joined'; user: CollabUser }
  | { type: 'left'; user: { id: string; name: string } }
  | { type: 'ack'; version: number }
  | { type: 'edit'; version: number; author: string; op: EditOp }
  | { type: 'cursor'; id: string; pos: number }
  | { type: 'error'; code: string; message: string; version?: number };

export interface CollabSessionEvents {
  send(message: object): void;
  /** The text to show changed under the learner (someone's edit, the sync, a revert); `map` moves a position in the old text to the new. */
  onText(text: string, map: (pos: number) => number): void;
  /** Someone joined, left or moved their cursor. */
  onPeople(change: { joined?: CollabUser; left?: { id: string; name: string } }): void;
  /** A refusal the learner should hear of (a bad name, an edit too large…). */
  onError(code: string, message: string): void;
}

/** The protocol's limits (COLLAB-PROTOCOL.md, "Limits"). */
export const MAX_INSERT = 1000;
export const MAX_LENGTH = 10_000;

export class CollabSession {
  you?: string;
  version = 0;
  /** The server's text at `version`. */
  serverText = '';
  /** What the text box holds. */
  local = '';
  /** The edit sent and not yet acked, made against `serverText` (moved over every edit received since). */
  inflight: EditOp | null = null;
  readonly people = new Map<string, CollabUser>();
  /** Where the server has this learner's cursor (it moves it with every edit, as it does everyone's). */
  private serverCursor: number | null = null;

  constructor(private readonly events: CollabSessionEvents) {}

  get joined(): boolean {
    return this.you !== undefined;
  }

  /** Whether everything the learner typed has been applied by the server. */
  get settled(): boolean {
    return this.inflight === null && this.local === this.serverText;
  }

  join(name: string): void {
    this.events.send({ type: 'join', name });
  }

  /** The text box now holds `text`. */
  setLocal(text: string): void {
    this.local = text;
  }

  /**
   * Sends what may be sent now: the next edit when none is in flight (at most MAX_INSERT code
   * points of it; the rest goes with the next), else nothing; and, once everything is applied, the
   * cursor (`caret`, a code point position) if the server has it elsewhere.
   */
  flush(caret: number): void {
    if (!this.joined) return;
    if (this.inflight === null && this.local !== this.serverText) {
      if (codePointLength(this.local) > MAX_LENGTH) {
        return this.revert('too_large', `the document may hold at most ${MAX_LENGTH} characters`);
      }
      const op = diff(this.serverText, this.local, caret)!;
      if (codePointLength(op.insert) > MAX_INSERT) op.insert = [...op.insert].slice(0, MAX_INSERT).join('');
      this.inflight = op;
      this.events.send({ type: 'edit', baseVersion: this.version, op });
      return;
    }
    if (this.settled && caret !== this.serverCursor) {
      this.serverCursor = caret;
      this.events.send({ type: 'cursor', pos: caret });
    }
  }

  /** Everyone else with a cursor, at its position in the text box. */
  cursors(): Array<CollabUser & { pos: number }> {
    const unsent = diff(this.pendingBase(), this.local);
    return [...this.people.values()].flatMap((user) => {
      if (user.cursor === null) return [];
      let pos = this.inflight ? moveCursor(user.cursor, this.inflight) : user.cursor;
      if (unsent) pos = moveCursor(pos, unsent);
      return [{ ...user, pos }];
    });
  }

  handle(message: CollabServerMessage): void {
    switch (message.type) {
      case 'sync': {
        this.you = message.you;
        this.version = message.version;
        this.serverText = this.local = message.text;
        this.inflight = null;
        this.people.clear();
        for (const user of message.users) if (user.id !== message.you) this.people.set(user.id, { ...user });
        this.serverCursor = null;
        this.events.onText(this.local, () => 0);
        return this.events.onPeople({});
      }
      case 'joined':
        this.people.set(message.user.id, { ...message.user });
        return this.events.onPeople({ joined: message.user });
      case 'left':
        this.people.delete(message.user.id);
        return this.events.onPeople({ left: message.user });
      case 'cursor': {
        const user = this.people.get(message.id);
        if (user) user.cursor = message.pos;
        return this.events.onPeople({});
      }
      case 'ack':
        if (!this.inflight) return;
        this.applied(this.inflight, message.version);
        this.inflight = null;
        return;
      case 'edit':
        return this.remoteEdit(message.op, message.version);
      case 'error':
        return this.refused(message);
    }
  }

  /** The text the learner's unsent typing was made on: the server's text with the edit in flight. */
  private pendingBase(): string {
    return this.inflight ? applyOp(this.serverText, this.inflight) : this.serverText;
  }

  /** `op` made `version` of the server's text: cursors move with it, as the server moves them. */
  private applied(op: EditOp, version: number): void {
    this.serverText = applyOp(this.serverText, op);
    this.version = version;
    for (const user of this.people.values()) if (user.cursor !== null) user.cursor = moveCursor(user.cursor, op);
    if (this.serverCursor !== null) this.serverCursor = moveCursor(this.serverCursor, op);
  }

  private remoteEdit(op: EditOp, version: number): void {
    const unsent = diff(this.pendingBase(), this.local);
    this.applied(op, version);
    // The server applied `op` before the edit in flight (which it will reject as stale) and before
    // anything not sent yet: both move over it, and it comes first wherever they insert at one spot.
    let seen = op;
    if (this.inflight) {
      const inflight = this.inflight;
      this.inflight = transform(inflight, op, true);
      seen = transform(op, inflight, false);
    }
    let shown = seen;
    let rest: EditOp | null = null;
    if (unsent) {
      rest = transform(unsent, seen, true);
      shown = transform(seen, unsent, false);
    }
    const base = this.pendingBase();
    this.local = rest && !isNoop(rest) ? applyOp(base, rest) : base;
    this.events.onText(this.local, (pos) => moveCursor(pos, shown));
  }

  private refused(message: Extract<CollabServerMessage, { type: 'error' }>): void {
    const { code } = message;
    if (code === 'stale') {
      // Every edit up to the current version has come (the server sends them in order), and the
      // edit in flight has been moved over each: send it again against that version.
      if (!this.inflight) return;
      if (isNoop(this.inflight)) {
        this.inflight = null;
        return;
      }
      this.events.send({ type: 'edit', baseVersion: this.version, op: this.inflight });
      return;
    }
    // A cursor can only be refused as out of range (the text shrank under it): sent again on the next move.
    const editOutOfRange = code === 'out_of_range' && this.inflight !== null && this.inflight.pos + this.inflight.delete > codePointLength(this.serverText);
    if (code === 'out_of_range' && !editOutOfRange) {
      this.serverCursor = null;
      return;
    }
    if (this.inflight && (code === 'too_large' || editOutOfRange || code === 'bad_message')) return this.revert(code, message.message);
    this.events.onError(code, message.message);
  }

  /** Drops the learner's pending edits (the server refused them) and shows the server's text again. */
  private revert(code: string, why: string): void {
    this.inflight = null;
    const length = codePointLength(this.serverText);
    this.local = this.serverText;
    this.events.onText(this.local, (pos) => Math.min(pos, length));
    this.events.onError(code, `${why}; your last change was undone`);
  }
}
