// The grader's client of the learner's collaborative document server: a WebSocket that speaks the
// protocol, and a model of what a correct client holds (the text and version it gets by applying
// every broadcast edit and its own acked ones in version order, code point positions). Every check
// fails with what was sent, what was expected and what came back.
import { GradingFailure, learnerServer, type TestWebSocket } from '../../sandbox-server/src/grading-kit/index.ts';
import { applyOp, codePointLength, type EditOp } from '../../sandbox-server/src/reference-servers/collab-document.ts';

export type Json = Record<string, any>;

/** How long a correct server takes to answer at most (a wrong one makes the test wait this long). */
export const W = 1500;

export interface UserInfo {
  id: string;
  name: string;
  cursor: number | null;
}

export type EditReply = { type: 'ack'; version: number } | { type: 'error'; code: string; message?: string; version?: number };

/** JSON for a failure message, cut short when long (a 1000-character insert), never inside a character. */
export function show(value: unknown): string {
  const chars = [...(JSON.stringify(value) ?? String(value))];
  return chars.length > 240 ? `${chars.slice(0, 240).join('')}…` : chars.join('');
}
const PROBE = { type: 'cursor', pos: 'probe' };

export class Editor {
  id = '';
  text = '';
  version = 0;
  /** Presence and cursor messages received, in order. */
  readonly notices: Json[] = [];

  private constructor(
    readonly ws: TestWebSocket,
    readonly label: string,
    readonly doc: string,
  ) {}

  /** A new connection to document `doc` (not joined yet), at `path` when the test writes the URL itself. */
  static async open(label: string, doc: string, path = `/?doc=${doc}`): Promise<Editor> {
    const ws = await (await learnerServer()).connectWebSocket({ label, path });
    return new Editor(ws, label, doc);
  }

  /** Connects to `doc` and joins as `label`. */
  static async join(label: string, doc: string): Promise<Editor> {
    const editor = await Editor.open(label, doc);
    await editor.join();
    return editor;
  }

  async send(message: unknown): Promise<void> {
    await this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message, which must be a JSON object with a string type. */
  async next(what: string): Promise<Json> {
    const message = await this.ws.nextJson<unknown>({ within: W, what });
    if (typeof message !== 'object' || message === null || Array.isArray(message) || typeof (message as Json).type !== 'string') {
      throw new GradingFailure(`${this.label} expected ${what}, but got ${show(message)}: every message is a JSON object with a string "type"`);
    }
    return message as Json;
  }

  /** Sends a join and checks the sync: the document as this client's model now holds it. */
  async join(name = this.label): Promise<Json> {
    await this.send({ type: 'join', name });
    const sync = await this.next(`a sync in answer to {"type":"join","name":${show(name)}}`);
    if (sync.type === 'joined' && sync.user?.name === name) await this.joinedAboutItself(sync, name);
    if (['joined', 'left', 'edit', 'cursor'].includes(sync.type)) {
      throw new GradingFailure(
        `${this.label} sent {"type":"join","name":${show(name)}} and expected its sync, but got ${show(sync)} first: it was sent to ${this.label} before it had joined. ` +
          'A connection that has not joined gets nothing but the answers to its own messages: send "joined", "left", "edit" and "cursor" to joined clients only.',
      );
    }
    if (sync.type === 'error') throw new GradingFailure(`${this.label} sent {"type":"join","name":${show(name)}} and expected its sync, but the join was refused: ${show(sync)}`);
    expectSync(sync, this.label, name);
    this.id = sync.you;
    this.text = sync.text;
    this.version = sync.version;
    return sync;
  }

  /**
   * Fails, saying so, when `notice` (a "joined" naming this joiner, received before its sync) was
   * about this joiner itself: the sync that follows names the same id as "you".
   */
  private async joinedAboutItself(notice: Json, name: string): Promise<void> {
    const sync = await this.next('the sync').catch(() => undefined);
    if (sync?.type !== 'sync' || sync.you !== notice.user?.id) return;
    throw new GradingFailure(
      `${this.label} sent {"type":"join","name":${show(name)}} and was sent ${show(notice)}, a notice of its own join, before its sync. ` +
        '"joined" goes to the other joined clients of the document, not to the joiner: it learns of its join from the sync.',
    );
  }

  /**
   * Reads messages until one of `type` arrives, applying broadcast edits to the model and keeping
   * presence notices on the way; fails on a message that breaks the protocol.
   */
  async expect(type: string, what: string): Promise<Json> {
    for (;;) {
      const message = await this.next(what);
      if (message.type === type) return message;
      this.take(message, what);
    }
  }

  /** Sends `op` against `baseVersion` (the model's version unless given) and returns the server's answer to it. */
  async edit(op: EditOp, baseVersion = this.version): Promise<EditReply> {
    const sent = { type: 'edit', baseVersion, op };
    await this.send(sent);
    const what = `an ack or an error in answer to ${show(sent)}`;
    for (;;) {
      const message = await this.next(what);
      if (message.type === 'ack') {
        if (baseVersion < this.version) {
          throw new GradingFailure(
            `${this.label} sent ${show(sent)} and got ${show(message)}, but by then it had been sent the edits up to version ${this.version}: its edit was made against version ${baseVersion}, which is stale. ` +
              `Your server must reject it with {"type":"error","code":"stale","version":${this.version}}. Applied at its original position, it lands in a text its author never saw: ` +
              'an editor that showed its own edit at once holds another text than everyone else, and the documents diverge.',
          );
        }
        if (message.version !== this.version + 1) {
          throw new GradingFailure(
            `${this.label} sent ${show(sent)} and got ${show(message)}, but ${this.label} had seen version ${this.version}, so an applied edit makes version ${this.version + 1}. Each applied edit adds exactly 1 to the version.`,
          );
        }
        this.text = applyOp(this.text, op);
        this.version = message.version;
        return { type: 'ack', version: message.version };
      }
      if (message.type === 'error') return message as EditReply;
      this.take(message, what);
    }
  }

  /** Sends an edit that must be accepted. */
  async accepted(op: EditOp, why = ''): Promise<void> {
    const reply = await this.edit(op);
    if (reply.type !== 'ack') {
      throw new GradingFailure(`${this.label} sent ${show({ type: 'edit', baseVersion: this.version, op })} to the text ${show(this.text)} (version ${this.version})${why} and expected an ack, but got ${show(reply)}`);
    }
  }

  /** Reads broadcast edits until the model is at `version`. */
  async catchUp(version: number, why: string): Promise<void> {
    while (this.version < version) this.take(await this.next(`the edit that makes version ${this.version + 1} (${why})`), why);
  }

  /**
   * Every message the server sent this client before its answer to a probe sent now: a cursor with
   * a position that is not a number, which the server answers with bad_message (not_joined before
   * a join). The server handles a connection's messages in order, so this is all it had sent
   * before: a way to check that something was NOT sent, without guessing how long to wait.
   */
  async everythingBefore(after: string): Promise<Json[]> {
    await this.send(PROBE);
    // Before a join the answer is not_joined; bad_message is accepted too, so that a server checking
    // the fields first fails the test about that order, not this one.
    const answers = this.id ? ['bad_message'] : ['not_joined', 'bad_message'];
    const got: Json[] = [];
    for (;;) {
      const message = await this.next(`the "${answers[0]}" error answering ${show(PROBE)}, which the test sends to see everything your server sent ${this.label} ${after}`);
      if (message.type === 'error' && answers.includes(message.code)) return got;
      got.push(message);
    }
  }

  /** Applies a broadcast edit or keeps a notice; fails on what a correct server never sends here. */
  private take(message: Json, context: string): void {
    if (message.type === 'edit') {
      if (message.author === this.id) {
        throw new GradingFailure(`${this.label} got its own edit back as ${show(message)} (while waiting for ${context}). The author of an edit gets {"type":"ack","version":…} and no "edit": it knows its op already; send "edit" only to the others.`);
      }
      if (message.version !== this.version + 1) {
        throw new GradingFailure(`${this.label} held version ${this.version} and got ${show(message)}: the next edit must make version ${this.version + 1}. Add 1 to the version for each applied edit, and send edits in the order you apply them.`);
      }
      const op = message.op as EditOp;
      if (!op || !Number.isInteger(op.pos) || !Number.isInteger(op.delete) || typeof op.insert !== 'string' || op.pos + op.delete > codePointLength(this.text)) {
        throw new GradingFailure(`${this.label} got ${show(message)}, whose op does not fit its text ${show(this.text)} (version ${this.version})`);
      }
      this.text = applyOp(this.text, op);
      this.version = message.version;
      return;
    }
    if (['joined', 'left', 'cursor'].includes(message.type)) {
      this.notices.push(message);
      return;
    }
    throw new GradingFailure(`${this.label} expected ${context}, but got ${show(message)} first`);
  }
}

/** A sync must carry who I am, the version, the text and everyone present, me last. */
function expectSync(sync: Json, label: string, name: string): void {
  const problem =
    sync.type !== 'sync'
      ? 'it is not a sync'
      : typeof sync.you !== 'string' || sync.you === ''
        ? '"you" must be the id your server gave this user (a string)'
        : !Number.isInteger(sync.version) || sync.version < 0
          ? '"version" must be a whole number'
          : typeof sync.text !== 'string'
            ? '"text" must be the document\'s text'
            : !Array.isArray(sync.users) || sync.users.some((u: Json) => typeof u?.id !== 'string' || typeof u?.name !== 'string' || !(u.cursor === null || Number.isInteger(u.cursor)))
              ? '"users" must be a list of {"id","name","cursor"} (cursor a number or null)'
              : sync.users.at(-1)?.id !== sync.you
                ? `the joiner (id ${show(sync.you)}, name ${show(name)}) must be the last of "users"`
                : sync.users.at(-1).name !== name
                  ? `the joiner is listed last, as it should be, but with the name ${show(sync.users.at(-1).name)} instead of ${show(name)}: keep a name exactly as sent (no trimming or other change)`
                  : undefined;
  if (problem) throw new GradingFailure(`${label} joined as ${show(name)} and got ${show(sync)}: ${problem}`);
}

export function describeUsers(users: UserInfo[]): string {
  return show(users.map((u) => ({ name: u.name, cursor: u.cursor })));
}
