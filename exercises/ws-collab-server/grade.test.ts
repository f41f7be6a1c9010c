// Black-box tests of a collaborative document server (the protocol in instructions.md), over real
// WebSocket connections. Each test uses its own document (`?doc=`), so tests never see each other's
// edits. The grader's clients keep a model (editor.ts): the text a correct client holds after
// applying every edit in version order, which must equal what a late joiner is sent.
import { describe, it as vitestIt } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeExit, explainFailures, GradingFailure, learnerServer } from '../../sandbox-server/src/grading-kit/index.ts';
import { Editor, W, describeUsers, show, type Json, type UserInfo } from './editor.ts';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** An op or a user with only the fields the protocol defines, in one order (extra fields and key order do not matter). */
const opOf = (op: Json | undefined) => ({ pos: op?.pos, delete: op?.delete, insert: op?.insert });
const userOf = (user: Json) => ({ id: user?.id, name: user?.name, cursor: user?.cursor });

/** vitest's it(), saying so when a failure is because the server stopped. */
function it(name: string, body: () => Promise<void>, timeout?: number): void {
  vitestIt(name, explainFailures(explainCrash)(body), timeout);
}

async function explainCrash(err: unknown): Promise<unknown> {
  if (!(err instanceof GradingFailure)) return err;
  const exit = await serverExit(/closed|ECONNREFUSED|ECONNRESET|no longer running/.test(err.message) ? 300 : 0);
  if (!exit || /no longer running|because your server stopped/.test(err.message)) return err; // it says so already
  return new GradingFailure(`${err.message.replace(/\.+$/, '')}. Meanwhile ${exit}. One bad message from one client must never stop the server.`);
}

/**
 * How the server ended ("your server exited with code 1. Its output ended with: …"), or undefined
 * while it runs. A connection that closed because the process died can be seen a moment before the
 * exit is, so this waits up to `ms` for it; only the wording of a failure depends on that wait.
 */
async function serverExit(ms: number): Promise<string | undefined> {
  const server = await learnerServer().catch(() => undefined);
  if (!server) return undefined;
  if (ms > 0) await Promise.race([server.process.exited, sleep(ms)]);
  if (!server.process.hasExited) return undefined;
  // The output's tail may start inside the stack trace: name the error it died of, which Node prints above it.
  const thrown = /^(\w*Error\b.*)$/m.exec(server.process.stderr)?.[1];
  return describeExit(server.process, await server.process.exited).replace(/^your program (.*?)\./, (_, how: string) => `your server ${how}${thrown ? ` (it died of ${thrown})` : ''}.`);
}

/** Fails unless `reply` is an error with `code`. */
function expectError(reply: Json, code: string, sent: unknown, client: string, extra = ''): void {
  if (reply.type !== 'error' || reply.code !== code) {
    throw new GradingFailure(`${client} sent ${show(sent)} and expected {"type":"error","code":"${code}",…}${extra}, but got ${show(reply)}`);
  }
}

/** Sends `message` and expects an error with `code` as the answer. */
async function refused(editor: Editor, message: unknown, code: string, why = ''): Promise<void> {
  await editor.send(message);
  const reply = await editor.expect('error', `{"type":"error","code":"${code}"} in answer to ${show(message)}${why}`);
  expectError(reply, code, message, editor.label, why);
}

/** Fails unless `editor` received nothing but what `allowed` accepts since its last read. */
async function nothingElse(editor: Editor, after: string, allowed: (m: Json) => boolean = () => false): Promise<void> {
  const extra = (await editor.everythingBefore(after)).filter((m) => !allowed(m));
  if (extra.length) throw new GradingFailure(`${editor.label} should have received nothing more ${after}, but got ${extra.map(show).join(', ')}`);
}

/**
 * Fails unless every user id is its own: across documents (`editors` joined several), and after a
 * user left (one joins `witness`'s document, leaves, and another joins in its place).
 */
async function expectUniqueIds(editors: Editor[], witness: Editor): Promise<void> {
  const leaver = await Editor.join('dave', witness.doc);
  await leaver.send({ type: 'leave' });
  await witness.expect('left', `{"type":"left",…} after dave sent {"type":"leave"}`); // the server is done with dave
  const successor = await Editor.join('erin', witness.doc);
  const seen = new Map<string, Editor>();
  for (const editor of [...editors, leaver, successor]) {
    const earlier = seen.get(editor.id);
    if (earlier) {
      const when = editor === successor && earlier === leaver ? ` (erin joined "${successor.doc}" after dave had left it)` : editor.doc !== earlier.doc ? ` (in the documents "${earlier.doc}" and "${editor.doc}")` : '';
      throw new GradingFailure(
        `${earlier.label} and ${editor.label} were both given the id ${show(editor.id)}${when}. An id is unique while your server runs, across documents and after users leave: crypto.randomUUID()`,
      );
    }
    seen.set(editor.id, editor);
  }
}

/** A joined client's sync, as the test checks it. */
async function syncOf(label: string, doc: string): Promise<{ editor: Editor; sync: Json }> {
  const editor = await Editor.open(label, doc);
  return { editor, sync: await editor.join() };
}

/** Joins the document a URL without a doc name leads to, which must be "main". */
async function mainSync(label: string, path: string): Promise<{ editor: Editor; sync: Json }> {
  const editor = await Editor.open(label, 'main', path);
  const sync = await editor.join();
  if (sync.doc !== 'main') throw new GradingFailure(`${label} connected to ${show(path)} and expected a sync of the document "main" (the name when doc is missing or empty), but got ${show(sync)}`);
  return { editor, sync };
}

/** Waits for the "left" notice about `gone`, then checks that no second one comes. */
async function leftOnce(watcher: Editor, gone: Editor, how: string): Promise<void> {
  const left = await watcher.expect('left', `{"type":"left","user":{"id":${show(gone.id)},"name":${show(gone.label)}}} after ${gone.label} ${how}`);
  if (left.user?.id !== gone.id || left.user?.name !== gone.label) {
    throw new GradingFailure(`after ${gone.label} ${how}, ${watcher.label} expected {"type":"left","user":{"id":${show(gone.id)},"name":${show(gone.label)}}}, but got ${show(left)}`);
  }
  await gone.ws.expectClose({ within: W, what: `the connection of ${gone.label} to be closed after it ${how}` });
  // A second notice may come from the server's 'close' (after an 'error'), when it reads the end of
  // gone's connection: a probe on the watcher's connection could be read before that (two connections
  // have no order). A client that connects once gone's connection is closed has its join read after
  // that close was handled, so anything said about gone reaches the watcher before its "joined".
  const successor = await Editor.join(`after-${gone.label}`, watcher.doc);
  for (;;) {
    const message = await watcher.next(`the notice that ${successor.label} joined (it joined after ${gone.label} ${how} and its connection was closed)`);
    if (message.type === 'joined' && message.user?.id === successor.id) return;
    if (message.type === 'left' && message.user?.id === gone.id) throw twiceFailure(watcher, gone, how, [left, message]);
    throw new GradingFailure(`${watcher.label} expected nothing more after the "left" notice about ${gone.label} but the notice that ${successor.label} joined, and got ${show(message)}`);
  }
}

function twiceFailure(watcher: Editor, gone: Editor, how: string, notices: Json[]): GradingFailure {
  return new GradingFailure(
    `after ${gone.label} ${how}, ${watcher.label} got the "left" notice ${notices.length} times: ${notices.map(show).join(', ')}. ` +
      "Announce a departure in one place: ws emits 'close' exactly once per connection, also after an 'error' (an 'error' is followed by a 'close').",
  );
}

describe('collaborative document server', () => {
  describe('joining', () => {
    it('answers a join with a sync of a new document: its name, version 0, the empty text, the joiner as the only user; without doc (or with doc=) the document is main', async () => {
      const { sync } = await syncOf('alice', 'first');
      if (sync.doc !== 'first') throw new GradingFailure(`alice joined the document "first" and expected its sync to say "doc":"first", but got ${show(sync)}`);
      if (sync.version !== 0 || sync.text !== '' || sync.users.length !== 1 || sync.users[0].cursor !== null) {
        throw new GradingFailure(`alice joined the new document "first" and expected {"type":"sync","you":…,"doc":"first","version":0,"text":"","users":[{"id":…,"name":"alice","cursor":null}]}, but got ${show(sync)}`);
      }
      const { editor: noDoc, sync: main } = await mainSync('nodoc', '/');
      if (main.version !== 0 || main.text !== '') throw new GradingFailure(`nodoc was the first to join "main" (connected to "/") and expected version 0 and the empty text, but got ${show(main)}`);
      await noDoc.accepted({ pos: 0, delete: 0, insert: 'in main' });
      const { sync: again } = await mainSync('emptydoc', '/?doc=');
      if (again.text !== 'in main' || again.version !== 1) {
        throw new GradingFailure(`nodoc (connected to "/") wrote "in main"; emptydoc connected to "/?doc=", which is the same document "main", and expected its text "in main" at version 1, but got ${show(again)}`);
      }
      const { sync: first } = await syncOf('bob', 'first');
      if (first.text !== '' || first.version !== 0) {
        throw new GradingFailure(`only "main" was edited ("in main"); bob joined "first" and expected it still empty at version 0, but got ${show(first)}: each doc name is its own document`);
      }
    });

    it('tells the others "joined"; a newcomer\'s sync lists everyone present in the order they joined', async () => {
      const elsewhere = await Editor.join('elsewhere', 'presence-other');
      const idle = await Editor.open('idle', 'presence'); // connected to the same document, never joins
      const alice = await Editor.join('alice', 'presence');
      const bob = await Editor.join('bob', 'presence');
      const joined = await alice.expect('joined', '{"type":"joined","user":{"id":…,"name":"bob","cursor":null}} after bob joined');
      if (joined.user?.id !== bob.id || joined.user?.name !== 'bob' || joined.user?.cursor !== null) {
        throw new GradingFailure(`alice expected {"type":"joined","user":{"id":${show(bob.id)},"name":"bob","cursor":null}} after bob joined, but got ${show(joined)}`);
      }
      const { editor: carol, sync } = await syncOf('carol', 'presence');
      const names = (sync.users as UserInfo[]).map((u) => u.name);
      if (!same(names, ['alice', 'bob', 'carol']) || sync.users[0].id !== alice.id || sync.users[1].id !== bob.id) {
        throw new GradingFailure(`carol joined after alice and bob and expected "users" to be alice, bob, carol (in join order, with their ids), but got ${show(sync.users)}`);
      }
      await nothingElse(bob, 'after joining but the notice that carol joined', (m) => m.type === 'joined' && m.user?.name === 'carol');
      await nothingElse(carol, 'after its sync: the joiner gets no "joined" about itself');
      await nothingElse(elsewhere, 'while joined to "presence-other" as alice, bob and carol joined "presence": "joined" goes to the joined clients of the same document only');
      await nothingElse(idle, 'as alice, bob and carol joined "presence", which idle was connected to without joining: clients that never joined are sent nothing but the answers to their own messages');
      await expectUniqueIds([elsewhere, alice, bob, carol], alice);
    });

    it('refuses a bad name with "bad_name" and lets the client try again; 20 emoji and a name with spaces around it are fine', async () => {
      const editor = await Editor.open('newcomer', 'names');
      for (const name of ['', 'x'.repeat(21), '   ', '\u3000\u00a0', 'tab\there', 'a\u0000b', '\ud83d', 'ok\udc00', 42]) {
        await refused(editor, { type: 'join', name }, 'bad_name', ' (names are 1 to 20 code points, not only whitespace, no control characters, no lone surrogates)');
      }
      await editor.join('🚀'.repeat(20));
      const padded = await Editor.open('padded', 'names');
      await padded.join(' padded '); // not only whitespace: a fine name, kept as sent
    });

    it('answers an edit or a cursor before a join with "not_joined" (malformed ones too), and a second join with "already_joined" (one with a bad name too)', async () => {
      const editor = await Editor.open('eager', 'order');
      await refused(editor, { type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'hi' } }, 'not_joined');
      await refused(editor, { type: 'cursor', pos: 0 }, 'not_joined');
      const first = ' (not_joined is checked before the fields)';
      await refused(editor, { type: 'edit', baseVersion: 'zero', op: 'hi' }, 'not_joined', first);
      await refused(editor, { type: 'cursor', pos: -1 }, 'not_joined', first);
      await editor.join();
      await refused(editor, { type: 'join', name: 'again' }, 'already_joined');
      await refused(editor, { type: 'join', name: '' }, 'already_joined', ' (already_joined is checked before the name)');
    });

    it('takes a join sent in three fragments, with pings between them, as one message', async () => {
      const editor = await Editor.open('fragmented', 'fragments');
      await editor.ws.sendFragments(['{"type":"jo', 'in","name":"frag', 'mented"}'], { pingBetween: true });
      const sync = await editor.expect('sync', 'a sync in answer to a join sent in three fragments');
      if (sync.users?.at(-1)?.name !== 'fragmented') throw new GradingFailure(`the join said "fragmented" but the sync said ${show(sync)}`);
    });
  });

  describe('editing', () => {
    it('applies edits: the author gets an ack with the next version, the others the edit with that version and the author\'s id, once each', async () => {
      const alice = await Editor.join('alice', 'edits');
      const bob = await Editor.join('bob', 'edits');
      const elsewhere = await Editor.join('elsewhere', 'edits-other');
      const idle = await Editor.open('idle', 'edits'); // connected to the same document, never joins
      const ops = [
        { pos: 0, delete: 0, insert: 'hello' },
        { pos: 5, delete: 0, insert: ' world' },
        { pos: 0, delete: 1, insert: 'J' },
      ];
      for (const [i, op] of ops.entries()) {
        await bob.accepted(op);
        const edit = await alice.expect('edit', `the edit that makes version ${i + 1}: {"type":"edit","version":${i + 1},"author":${show(bob.id)},"op":${show(op)}}`);
        if (edit.version !== i + 1 || edit.author !== bob.id || !same(opOf(edit.op), op)) {
          throw new GradingFailure(`after bob's edit ${show(op)} was acked as version ${i + 1}, alice expected {"type":"edit","version":${i + 1},"author":${show(bob.id)},"op":${show(op)}}, but got ${show(edit)}`);
        }
        alice.text = bob.text;
        alice.version = bob.version;
      }
      if (bob.text !== 'Jello world') throw new GradingFailure(`expected the text "Jello world" after ${show(ops)}`);
      await nothingElse(bob, 'after the acks of its three edits');
      await nothingElse(alice, 'after the three edits');
      await nothingElse(elsewhere, 'while joined to "edits-other" as bob edited "edits": an edit goes to the joined clients of its own document only', (m) => m.type !== 'edit');
      await nothingElse(idle, 'as bob edited "edits", which idle was connected to without joining: clients that never joined are sent nothing but the answers to their own messages');
      const { sync } = await syncOf('carol', 'edits');
      if (sync.text !== 'Jello world' || sync.version !== 3) throw new GradingFailure(`after three edits making "Jello world", carol joined and expected version 3 and that text, but got ${show(sync)}`);
    });

    it('counts positions in code points: edits around emoji land where the protocol says', async () => {
      const { editor: alice, sync: fresh } = await syncOf('alice', 'emoji');
      if (fresh.text !== '' || fresh.version !== 0) {
        throw new GradingFailure(`alice was the first to join the document "emoji", which nobody had edited, and expected the empty text at version 0, but got ${show(fresh)}: each doc name is its own document`);
      }
      const bob = await Editor.join('bob', 'emoji');
      // Each op with the text it makes (the model computes it; the list says it to the reader).
      const steps: Array<[{ pos: number; delete: number; insert: string }, string]> = [
        [{ pos: 0, delete: 0, insert: 'a🚀b🚀c' }, 'a🚀b🚀c'],
        [{ pos: 2, delete: 1, insert: 'é' }, 'a🚀é🚀c'],
        [{ pos: 3, delete: 1, insert: '' }, 'a🚀éc'],
        [{ pos: 4, delete: 0, insert: '👋' }, 'a🚀éc👋'],
        [{ pos: 1, delete: 1, insert: 'x' }, 'axéc👋'],
      ];
      for (const [op, expected] of steps) {
        const before = alice.text;
        const reply = await alice.edit(op);
        if (reply.type !== 'ack') {
          throw new GradingFailure(`alice sent ${show(op)} to the text ${show(before)} and expected an ack (positions count code points: "🚀" is one), making ${show(expected)}, but got ${show(reply)}`);
        }
      }
      await bob.catchUp(alice.version, "alice's edits");
      const { sync } = await syncOf('carol', 'emoji');
      if (sync.text !== 'axéc👋') {
        throw new GradingFailure(
          `after the edits ${show(steps.map(([op]) => op))}, counted in code points, the text is "axéc👋", but carol's sync says ${show(sync.text)}. ` +
            'Positions count code points ([...text]), not UTF-16 units (text.length, text.slice): "🚀".length is 2, but it is one position.',
        );
      }
    });

    it('rejects a stale edit (an older version or one ahead) with "stale" and the current version, applies nothing, tells nobody; the rebased edit is accepted', async () => {
      const alice = await Editor.join('alice', 'stale');
      const bob = await Editor.join('bob', 'stale');
      await alice.accepted({ pos: 0, delete: 0, insert: 'base' });
      await bob.catchUp(1, "alice's first edit");
      await alice.accepted({ pos: 4, delete: 0, insert: '!' }); // version 2: bob does not read it yet
      const stale = { type: 'edit', baseVersion: 1, op: { pos: 0, delete: 1, insert: 'B' } };
      await bob.send(stale);
      const edit = await bob.next('the edit that made version 2 (sent to bob before he sent his stale edit)');
      if (edit.type !== 'edit' || edit.version !== 2) throw new GradingFailure(`bob expected alice's edit of version 2 first, but got ${show(edit)}`);
      bob.text = alice.text;
      bob.version = 2;
      const reply = await bob.next(`{"type":"error","code":"stale","version":2} in answer to ${show(stale)}`);
      if (reply.type === 'ack') {
        throw new GradingFailure(
          `bob sent ${show(stale)}, made against version 1, while the document was at version 2, and your server applied it (${show(reply)}). ` +
            'It must be rejected with {"type":"error","code":"stale","version":2}: applied at its original position, an edit lands in a text its author never saw, and clients that applied their own edit first diverge.',
        );
      }
      expectError(reply, 'stale', stale, 'bob', ' with "version":2');
      if (reply.version !== 2) throw new GradingFailure(`bob's stale edit was rejected with ${show(reply)}, but the rejection must carry the current version: "version":2`);
      const ahead = { type: 'edit', baseVersion: 3, op: { pos: 0, delete: 0, insert: '?' } };
      await bob.send(ahead);
      const answer = await bob.next(`{"type":"error","code":"stale","version":2} in answer to ${show(ahead)}`);
      if (answer.type !== 'error' || answer.code !== 'stale' || answer.version !== 2) {
        throw new GradingFailure(
          `the document was at version 2 and bob sent ${show(ahead)}, made against version 3, which does not exist yet; he expected {"type":"error","code":"stale","version":2}, but got ${show(answer)}. ` +
            'Apply an edit only when its baseVersion equals the current version: any other, older or ahead, is stale.',
        );
      }
      await nothingElse(alice, "after bob's stale edits: a rejected edit is not sent to anyone");
      await bob.accepted({ pos: 0, delete: 1, insert: 'B' }, ' (the same edit, rebased: made again against version 2)');
      await alice.catchUp(3, "bob's rebased edit");
      const { sync } = await syncOf('carol', 'stale');
      if (sync.text !== 'Base!' || sync.version !== 3) throw new GradingFailure(`expected "Base!" at version 3 after the rejection and the rebased edit, but carol's sync says ${show(sync)}`);
    });

    it('refuses an edit or a cursor past the end with "out_of_range" (in code points: "🚀🚀" is 2 long; before too_large) and keeps the text', async () => {
      const alice = await Editor.join('alice', 'range');
      await alice.accepted({ pos: 0, delete: 0, insert: '🚀🚀' });
      for (const op of [{ pos: 3, delete: 0, insert: 'x' }, { pos: 1, delete: 2, insert: '' }, { pos: 0, delete: 3, insert: 'y' }]) {
        await refused(alice, { type: 'edit', baseVersion: 1, op }, 'out_of_range', ' (the text "🚀🚀" is 2 code points long)');
      }
      const pastAndBig = { pos: 3, delete: 0, insert: 'é'.repeat(1001) };
      await refused(alice, { type: 'edit', baseVersion: 1, op: pastAndBig }, 'out_of_range', ' (past the end of "🚀🚀" and too large: out_of_range is checked first)');
      await refused(alice, { type: 'cursor', pos: 3 }, 'out_of_range', ' (the text "🚀🚀" is 2 code points long)');
      await alice.accepted({ pos: 2, delete: 0, insert: '.' }, ' (position 2 is the end: 2 code points)');
      const { sync } = await syncOf('bob', 'range');
      if (sync.text !== '🚀🚀.' || sync.version !== 2) throw new GradingFailure(`after refused edits and one insert of "." at the end, expected "🚀🚀." at version 2, but bob's sync says ${show(sync)}`);
    });

    it('refuses an insert of more than 1000 characters and a document past 10,000 with "too_large"; 1000 at once are fine', async () => {
      const alice = await Editor.join('alice', 'big');
      await refused(alice, { type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'é'.repeat(1001) } }, 'too_large', ' (1001 code points)');
      for (let i = 0; i < 10; i++) await alice.accepted({ pos: 0, delete: 0, insert: '🙂'.repeat(1000) }, ` (1000 code points; the document holds ${i * 1000})`);
      await refused(alice, { type: 'edit', baseVersion: 10, op: { pos: 0, delete: 0, insert: 'x' } }, 'too_large', ' (the document holds 10,000 code points already)');
      await alice.accepted({ pos: 0, delete: 1, insert: 'x' }, ' (replacing one code point keeps the document at 10,000)');
    }, 15_000);

    it('takes a message of exactly 16 KiB (1000 emoji written as JSON escapes) and closes a connection that sends one over 16 KiB with 1009', async () => {
      const alice = await Editor.join('alice', 'huge');
      const full = sixteenKiBEdit();
      await alice.send(full);
      const what = `{"type":"ack","version":1} in answer to an edit of exactly 16,384 bytes (inserting 1000 "🙂" written as the JSON escapes \\ud83d\\ude42, with an extra field "note" to fill it up)`;
      const reply = await alice.next(what).catch(async (err: unknown) => {
        const closed = alice.ws.isClosed ? await alice.ws.expectClose() : undefined;
        if (!closed) throw err;
        throw new GradingFailure(`alice expected ${what}, but your server closed the connection with ${closed.code}: only a message larger than 16 KiB (16,384 bytes) is too big; maxPayload: 16 * 1024`);
      });
      if (reply.type !== 'ack' || reply.version !== 1) throw new GradingFailure(`alice expected ${what}, but got ${show(reply)}`);
      await alice.send({ type: 'edit', baseVersion: 1, op: { pos: 0, delete: 0, insert: 'x'.repeat(16 * 1024) } });
      const closed = await alice.ws.expectClose({ within: W, what: 'the connection to be closed with 1009 after a message of more than 16 KiB' });
      if (closed.code === 1009) return;
      const exit = await serverExit(W);
      if (exit) {
        throw new GradingFailure(
          `alice sent a message of more than 16 KiB and the connection ended with ${closed.code} (no close frame) because your server stopped. When ws refuses a message it emits 'error' on the connection, ` +
            `and an 'error' with no listener stops the process: give every connection ws.on('error', …). Here ${exit}`,
        );
      }
      throw new GradingFailure(`alice sent a message of more than 16 KiB and expected the connection closed with 1009 (message too big), but it closed with ${closed.code}. Give the WebSocketServer maxPayload: 16 * 1024`);
    });
  });

  describe('converging', () => {
    it('four clients editing at once, each against the version it knows and rejected edits made again, all hold the text a late joiner gets', async () => {
      const editors = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((n) => Editor.join(n, 'race')));
      const counts = await Promise.all(editors.map((e, i) => race(e, i)));
      const total = counts.reduce((n, c) => n + c.accepted, 0);
      const rejected = counts.reduce((n, c) => n + c.rejected, 0);
      if (rejected < 3) {
        throw new GradingFailure(`all four clients sent their first edit against version 0 at the same moment, so only the first to arrive can be applied and three must be rejected as stale, but only ${rejected} edit(s) were rejected in the whole race`);
      }
      const { sync } = await syncOf('late', 'race');
      if (sync.version !== total) throw new GradingFailure(`${total} edits were acked in all, so the document is at version ${total}, but the late joiner's sync says version ${sync.version}`);
      for (const e of editors) {
        await e.catchUp(sync.version, 'the edits of the others');
        if (e.text !== sync.text) {
          throw new GradingFailure(
            `${e.label} applied every edit it was sent and its own acked ones in version order and holds ${show(e.text)}, but the late joiner's sync says ${show(sync.text)}: the clients do not converge. ` +
              'Apply each accepted edit exactly as you broadcast it, positions in code points.',
          );
        }
      }
    }, 15_000);

    it('gives a late joiner the current text and version, everyone present, and cursors moved by the edits since', async () => {
      const elsewhere = await Editor.join('elsewhere', 'late-other');
      const alice = await Editor.join('alice', 'late');
      const bob = await Editor.join('bob', 'late');
      await alice.accepted({ pos: 0, delete: 0, insert: 'hello world' });
      await bob.catchUp(1, "alice's edit");
      const idle = await Editor.open('idle', 'late'); // connected to the same document, never joins
      await bob.send({ type: 'cursor', pos: 11 });
      const cursor = await alice.expect('cursor', `{"type":"cursor","id":${show(bob.id)},"pos":11} after bob sent {"type":"cursor","pos":11}`);
      if (cursor.id !== bob.id || cursor.pos !== 11) throw new GradingFailure(`after bob sent {"type":"cursor","pos":11}, alice expected {"type":"cursor","id":${show(bob.id)},"pos":11}, but got ${show(cursor)}`);
      await nothingElse(bob, 'after sending his cursor: a cursor goes to the others, not back');
      await alice.send({ type: 'cursor', pos: 7 });
      await bob.expect('cursor', "alice's cursor at 7");
      await nothingElse(elsewhere, 'while joined to "late-other" as alice and bob moved their cursors in "late": a cursor goes to the joined clients of its own document only', (m) => m.type !== 'cursor');
      await nothingElse(idle, 'as alice and bob moved their cursors in "late", which idle was connected to without joining: clients that never joined are sent nothing but the answers to their own messages');
      const ops = [
        { pos: 0, delete: 0, insert: '>> ' }, // both cursors move by 3: alice 10, bob 14
        { pos: 6, delete: 5, insert: 'ab' }, // alice's 10 was inside the deleted range: 6 (not after the insert); bob's 14 after it: 11
        { pos: 11, delete: 0, insert: '!' }, // bob's 11 is where it inserts: it stays (c ≤ pos)
      ];
      for (const op of ops) await alice.accepted(op);
      const { sync } = await syncOf('carol', 'late');
      const expected: UserInfo[] = [
        { id: alice.id, name: 'alice', cursor: 6 },
        { id: bob.id, name: 'bob', cursor: 11 },
        { id: sync.you, name: 'carol', cursor: null },
      ];
      if (sync.text !== alice.text || sync.version !== 4) {
        throw new GradingFailure(`carol joined after four edits and expected the current text ${show(alice.text)} at version 4, but got ${show(sync.text)} at version ${sync.version}: send a late joiner the document as it is now`);
      }
      if (!same(sync.users.map(userOf), expected)) {
        throw new GradingFailure(
          `alice's cursor was at 7 and bob's at 11 in "hello world"; then came ${show(ops)}, so carol's sync should list ${describeUsers(expected)}, but it lists ${describeUsers(sync.users)}. ` +
            'Move every kept cursor with each edit: at or before pos it stays, at or after pos + delete it moves by (inserted − deleted), inside the deleted range it goes to pos.',
        );
      }
    });
  });

  describe('leaving', () => {
    it('{"type":"leave"}: the server closes with 1000, and the others get "left" once', async () => {
      const watcher = await Editor.join('watcher', 'leave');
      const leaver = await Editor.join('leaver', 'leave');
      await watcher.expect('joined', 'the notice that leaver joined');
      const elsewhere = await Editor.join('elsewhere', 'leave-other');
      const idle = await Editor.open('idle', 'leave'); // connected to the same document, never joins
      await leaver.send({ type: 'leave' });
      await leftOnce(watcher, leaver, 'sent {"type":"leave"}');
      await nothingElse(elsewhere, 'while joined to "leave-other" as leaver left "leave": "left" goes to the joined clients of the same document only', (m) => m.type !== 'left');
      await nothingElse(idle, 'as leaver left "leave", which idle was connected to without joining: clients that never joined are sent nothing but the answers to their own messages');
      const closed = await leaver.ws.expectClose();
      if (closed.code !== 1000) throw new GradingFailure(`after {"type":"leave"} the server must close the connection with 1000, but it closed with ${closed.code}`);
    });

    it('a client that closes its connection: the others get "left" once', async () => {
      const watcher = await Editor.join('watcher', 'close');
      const closer = await Editor.join('closer', 'close');
      await watcher.expect('joined', 'the notice that closer joined');
      closer.ws.close(1000, 'done');
      await leftOnce(watcher, closer, 'closed its connection');
    });

    it('a client that drops its connection without a close: the others get "left" once, and the server goes on', async () => {
      const watcher = await Editor.join('watcher', 'drop');
      const dropper = await Editor.join('dropper', 'drop');
      await watcher.expect('joined', 'the notice that dropper joined');
      dropper.ws.terminate();
      await leftOnce(watcher, dropper, 'dropped its connection (no close frame)');
      await watcher.accepted({ pos: 0, delete: 0, insert: 'still here' });
    });

    it('a client that breaks the protocol (invalid UTF-8, a message over 16 KiB) is closed, and the others get "left" once', async () => {
      const watcher = await Editor.join('watcher', 'broken');
      const garbler = await Editor.join('garbler', 'broken');
      await watcher.expect('joined', 'the notice that garbler joined');
      await garbler.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false }); // a text message that is not UTF-8: ws closes with 1007
      await leftOnce(watcher, garbler, 'sent a text message that is not valid UTF-8');
      const giant = await Editor.join('giant', 'broken');
      await watcher.expect('joined', 'the notice that giant joined');
      await giant.send('x'.repeat(16 * 1024 + 1));
      await leftOnce(watcher, giant, 'sent a message over 16 KiB');
    });

    it('a client that never joined comes and goes unannounced; a leave before joining is closed with 1000 too', async () => {
      const watcher = await Editor.join('watcher', 'lurk');
      const lurker = await Editor.open('lurker', 'lurk');
      lurker.ws.close(1000);
      await lurker.ws.expectClose();
      const shy = await Editor.open('shy', 'lurk');
      await shy.send({ type: 'leave' });
      const what = 'the connection closed with 1000 after {"type":"leave"}, sent before joining (leave closes the connection, joined or not)';
      const closed = await shy.ws.expectClose({ within: W, what }).catch(async (err: unknown) => {
        const got = await shy.next('anything').catch(() => undefined);
        throw got ? new GradingFailure(`shy expected ${what}, but got ${show(got)} and the connection stayed open`) : err;
      });
      if (closed.code !== 1000) throw new GradingFailure(`shy expected ${what}, but it closed with ${closed.code}`);
      // A departure that is announced, after those two: the server handled their closes before this
      // one, so anything it said about them has reached the watcher before this "left".
      const closer = await Editor.join('closer', 'lurk');
      closer.ws.close(1000);
      const before: Json[] = [];
      for (;;) {
        const message = await watcher.next('the notices that closer joined and left');
        if (message.type === 'left' && message.user?.id === closer.id) break;
        if (!(message.type === 'joined' && message.user?.id === closer.id)) before.push(message);
      }
      if (before.length) {
        throw new GradingFailure(
          `lurker connected and closed, and shy connected and sent {"type":"leave"}, neither of them having joined; then closer joined and closed. watcher expected only the notices about closer, but got ${before.map(show).join(', ')} too. ` +
            'Clients that never joined come and go unannounced: announce only users who had joined.',
        );
      }
    });
  });

  describe('bad messages', () => {
    it('answers text that is not JSON with "bad_json" and keeps the connection', async () => {
      const editor = await Editor.open('sloppy', 'json');
      await refused(editor, '{"type":"join",', 'bad_json');
      await editor.join();
      await refused(editor, 'hello', 'bad_json');
      await editor.accepted({ pos: 0, delete: 0, insert: 'ok' }, ' (after two messages that were not JSON)');
    });

    it('answers a binary message, JSON that is not an object, an unknown type and an edit or cursor with wrong fields (even a stale edit) with "bad_message", and keeps the connection', async () => {
      const editor = await Editor.join('careless', 'shapes');
      await editor.ws.send(Buffer.from('{"type":"cursor","pos":0}'));
      const binary = await editor.expect('error', 'an error in answer to a binary message');
      expectError(binary, 'bad_message', 'a binary message holding {"type":"cursor","pos":0}', editor.label, ' (messages are text)');
      for (const message of ['[1,2]', '"join"', 'null', { type: 'dance' }, { name: 'no type' }]) await refused(editor, message, 'bad_message');
      const ops: unknown[] = [
        { pos: -1, delete: 0, insert: 'x' },
        { pos: 0.5, delete: 0, insert: 'x' },
        { pos: '0', delete: 0, insert: 'x' },
        { pos: 0, delete: 0, insert: 5 },
        { pos: 0, delete: 0, insert: '' },
        { pos: 0, delete: 0, insert: '\ud83d' },
        'insert x',
      ];
      for (const op of ops) await refused(editor, { type: 'edit', baseVersion: 0, op }, 'bad_message');
      await refused(editor, { type: 'edit', op: { pos: 0, delete: 0, insert: 'x' } }, 'bad_message', ' (no baseVersion)');
      await refused(editor, { type: 'edit', baseVersion: '0', op: { pos: 0, delete: 0, insert: 'x' } }, 'bad_message', ' (the string "0" is not a whole number)');
      await refused(editor, { type: 'edit', baseVersion: 7, op: { pos: 0, delete: 0, insert: '' } }, 'bad_message', ' (an op that changes nothing is bad_message, which is checked before stale)');
      await refused(editor, { type: 'cursor', pos: -2 }, 'bad_message');
      await refused(editor, { type: 'cursor', pos: 2.5 }, 'bad_message', ' (2.5 is not a whole number)');
      await editor.accepted({ pos: 0, delete: 0, insert: 'fine' }, ' (after the refused messages)');
    });
  });
});

/** An edit message of exactly 16 KiB: an insert of 1000 "🙂" as JSON escapes (12 bytes each), and an ignored field to fill it up. */
function sixteenKiBEdit(): string {
  const head = `{"type":"edit","baseVersion":0,"op":{"pos":0,"delete":0,"insert":"${'\\ud83d\\ude42'.repeat(1000)}"},"note":"`;
  const tail = '"}';
  return head + '.'.repeat(16 * 1024 - head.length - tail.length) + tail; // all ASCII: characters are bytes
}

/**
 * One editor of the race: 8 edits, each sent as soon as the previous one was answered, made against
 * the text it knows; a rejected one is made again against the text it knows then.
 */
async function race(editor: Editor, who: number): Promise<{ accepted: number; rejected: number }> {
  let accepted = 0;
  let rejected = 0;
  let seed = who * 7919 + 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  while (accepted < 8) {
    if (rejected > 60) throw new GradingFailure(`${editor.label}'s edits were rejected as stale more than 60 times, although each was made against the version of the last edit it had been sent`);
    const length = [...editor.text].length;
    const op =
      length > 6 && random() < 0.3
        ? { pos: Math.floor(random() * (length - 2)), delete: 2, insert: '' }
        : { pos: Math.floor(random() * (length + 1)), delete: 0, insert: `${editor.label[0]}${accepted}🙂` };
    const before = editor.version;
    const text = editor.text;
    const reply = await editor.edit(op);
    if (reply.type === 'ack') {
      accepted++;
      continue;
    }
    if (reply.code !== 'stale') {
      const sent = show({ type: 'edit', baseVersion: before, op });
      throw new GradingFailure(
        before < editor.version
          ? `${editor.label} sent ${sent}, made to its text ${show(text)}, and got ${show(reply)}; but the document was at version ${editor.version} by then (your server had sent ${editor.label} the edits up to it first), so the edit is stale and the answer is {"type":"error","code":"stale","version":${editor.version}}. ` +
              'Stale is checked before out_of_range and too_large: an op made to an old text may not fit the current one, and its author rebases it.'
          : `${editor.label} sent ${sent} against the current version, made to the current text ${show(text)}, which it fits, and expected an ack, but got ${show(reply)}`,
      );
    }
    if (!Number.isSafeInteger(reply.version)) {
      throw new GradingFailure(
        `${editor.label}'s edit against version ${before} was rejected with ${show(reply)}, which has no "version": a stale rejection carries the document's current version, {"type":"error","code":"stale","version":…}, so that its author knows what to rebase onto`,
      );
    }
    if (reply.version !== editor.version) {
      throw new GradingFailure(
        `${editor.label}'s edit against version ${before} was rejected with ${show(reply)}, but the edits that came before it had brought ${editor.label} to version ${editor.version}. ` +
          'Send every applied edit to the others before answering the next message, and put the current version in the rejection.',
      );
    }
    rejected++;
  }
  return { accepted, rejected };
}
