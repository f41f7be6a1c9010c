import { describe, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { askUntil, expectOk, expectRefused, GradingFailure, learnerServer, oncePerGrade, request, show, showCall, waitUntil, type Reply, type TestSocketIo, type TestSocketIoOptions } from '../../sandbox-server/src/grading-kit/index.ts';

interface Note {
  id: number;
  text: string;
}

const MAX_TEXT = 200;

async function connect(label: string, options: Partial<TestSocketIoOptions> = {}): Promise<TestSocketIo> {
  return (await learnerServer()).connectSocketIo({ label, ...options });
}

/**
 * The client most tests use: one connection for the grade (connecting is the slow part of a test).
 * If the server closed it and is still running, the next test connects her again, so that it
 * fails only for what it is about.
 */
async function alice(): Promise<TestSocketIo> {
  const shared = oncePerGrade('alice', () => ({ client: connect('alice') }));
  const client = await shared.client;
  if (client.connected || (await learnerServer()).process.hasExited) return client;
  shared.client = connect('alice');
  return shared.client;
}

/** A note as the reply holds it, or a failure saying what is wrong with it. */
function noteIn(reply: Reply, sent: string): Note {
  const note = reply.note as Partial<Note> | undefined;
  if (typeof note !== 'object' || note === null || typeof note.id !== 'number' || typeof note.text !== 'string') {
    throw new GradingFailure(`the answer to ${sent} was ${show(reply)}: expected { ok: true, note: { id, text } }, with id a number and text a string`);
  }
  return { id: note.id, text: note.text };
}

/** The text with every character outside ASCII written as \uXXXX, so that look-alike texts differ on screen. */
const escaped = (text: string) => JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Adds a note that must be accepted and come back with exactly the text sent. */
async function add(client: TestSocketIo, text: string, what = 'a valid note'): Promise<Note> {
  const sent = showCall('add', [{ text }]);
  const note = noteIn(await expectOk(client, 'add', [{ text }], what), sent);
  if (note.text !== text && note.text.normalize() === text.normalize()) {
    throw new GradingFailure(
      `${client.label} sent ${sent}, the text ${escaped(text)} (${text.length} code units), and got back ${escaped(note.text)} (${note.text.length}): the same letters, Unicode-normalized. Store the text exactly as sent, without normalize()`,
    );
  }
  if (note.text !== text) throw new GradingFailure(`${client.label} sent ${sent} and got back the note ${show(note)}: the text must be stored exactly as sent (no trimming, nothing added)`);
  return note;
}

/** Lists the notes until `holds` is true of them, for at most a second: the effect of an event sent without a callback may come after a later answer. */
async function listUntil(client: TestSocketIo, what: string, holds: (notes: Note[]) => boolean): Promise<{ notes: Note[]; held: boolean }> {
  const { answer, held } = await askUntil(() => list(client, what), holds);
  return { notes: answer, held };
}

/** Lists the notes, checking the shape and that they come in the order of their ids. */
async function list(client: TestSocketIo, what: string): Promise<Note[]> {
  const reply = await expectOk(client, 'list', [], what);
  const notes = reply.notes;
  if (!Array.isArray(notes) || notes.some((n) => typeof n?.id !== 'number' || typeof n?.text !== 'string')) {
    throw new GradingFailure(`${client.label} sent list() (${what}) and got ${show(reply)}: expected { ok: true, notes: [{ id, text }, …] }`);
  }
  const ids = notes.map((n: Note) => n.id);
  if (ids.some((id, i) => i > 0 && id <= ids[i - 1])) {
    throw new GradingFailure(`${client.label} sent list() (${what}) and got notes with the ids ${show(ids)}: list gives every note once, in the order they were added (their ids increasing)`);
  }
  return notes.map((n: Note) => ({ id: n.id, text: n.text }));
}

const texts = (notes: Note[]) => notes.map((n) => n.text);

/** Whole lists compared (show() shortens long ones, so it cannot tell them apart). */
const sameNotes = (a: Note[], b: Note[]) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A clean disconnect the server has handled: the disconnect packet goes before the WebSocket's
 * close frame, and the server answers that frame only after it read the packet, so once the
 * connection is closed the server's 'disconnect' handler has run (no wait for a guessed time).
 */
async function closeSeen(client: TestSocketIo): Promise<void> {
  const ws = (client.socket.io.engine?.transport as unknown as { ws?: { once(event: 'close', listener: () => void): void } } | undefined)?.ws;
  const closed = new Promise<void>((resolve) => (ws ? ws.once('close', resolve) : resolve()));
  client.close();
  // A server that never answers the close frame is not this test's business: give up after a second.
  await Promise.race([closed, sleep(1000)]);
}

describe('notes server', () => {
  describe('acknowledgements', () => {
    it('answers add with { ok: true, note } (ids 1, 2, …) and list with every note, in the order added', async () => {
      const client = await alice();
      const first = await add(client, 'buy milk', 'the first note of all');
      if (first.id !== 1) throw new GradingFailure(`the first note ever added got the id ${show(first.id)}: ids are whole numbers starting at 1`);
      const second = await add(client, '  spaces around are kept  ', 'a text with spaces around it');
      if (second.id !== 2) throw new GradingFailure(`the second note got the id ${show(second.id)} after the first got 1: each note added takes the next whole number`);
      // "e" followed by a combining accent: normalize('NFC') would make it one character, "é".
      const third = await add(client, 'cafe\u0301', 'a text with a combining accent, stored exactly as sent (not normalized)');
      const listed = await list(client, 'after adding three notes');
      if (!sameNotes(listed, [first, second, third])) throw new GradingFailure(`after adding ${show(first)}, ${show(second)} and ${show(third)}, list answered the notes ${show(listed)}: every note, each text exactly as sent`);
    });

    it('answers remove with { ok: true, note } (the note removed), and never gives its id again', async () => {
      const client = await alice();
      const note = await add(client, 'to be removed');
      const removed = noteIn(await expectOk(client, 'remove', [note.id], `removing the note ${note.id} just added`), showCall('remove', [note.id]));
      if (show(removed) !== show(note)) throw new GradingFailure(`remove(${note.id}) answered the note ${show(removed)}, expected the note removed: ${show(note)}`);
      const after = await list(client, `after removing the note ${note.id}`);
      if (after.some((n) => n.id === note.id)) throw new GradingFailure(`list still holds the note ${note.id} after remove(${note.id}) answered ok: ${show(after)}`);
      const next = await add(client, 'added after a remove');
      if (next.id !== note.id + 1) {
        throw new GradingFailure(
          `after the note ${note.id} was added and removed, the next note got the id ${next.id}, expected ${note.id + 1}: ids keep counting up and a removed note's id is never given again (notes.length + 1 gives it again)`,
        );
      }
      await expectRefused(client, 'remove', [note.id], 'NOT_FOUND', `the note ${note.id} was removed already`);
    });
  });

  describe('refusals come back through the callback', () => {
    it('answers an add whose payload is not an object with BAD_PAYLOAD', async () => {
      const client = await alice();
      // Sent all at once: each answer is checked on its own, and nothing waits for the one before.
      const payloads = [null, 'buy milk', 42, true, [{ text: 'in an array' }]];
      await Promise.all(payloads.map((payload) => expectRefused(client, 'add', [payload], 'BAD_PAYLOAD', 'add takes an object { text }')));
    });

    it('answers an add whose text is not a string, or is empty or only whitespace, with BAD_TEXT', async () => {
      const client = await alice();
      const payloads = [{}, { note: 'text is missing' }, { text: 42 }, { text: null }, { text: ['a'] }, { text: { text: 'nested' } }, { text: '' }, { text: '   ' }, { text: ' \t\n ' }];
      await Promise.all(payloads.map((payload) => expectRefused(client, 'add', [payload], 'BAD_TEXT', 'text must be a string that is not empty or only whitespace')));
    });

    it(`accepts a text of ${MAX_TEXT} characters and answers ${MAX_TEXT + 1} with TEXT_TOO_LONG`, async () => {
      const client = await alice();
      await add(client, 'm'.repeat(MAX_TEXT), `a text of exactly ${MAX_TEXT} characters, the longest allowed`);
      await expectRefused(client, 'add', [{ text: 'm'.repeat(MAX_TEXT + 1) }], 'TEXT_TOO_LONG', `a text of ${MAX_TEXT + 1} characters`);
      // Spaces around count: the length is the text's as sent, not after trim().
      await Promise.all([
        expectRefused(client, 'add', [{ text: ' ' + 'm'.repeat(MAX_TEXT - 1) + ' ' }], 'TEXT_TOO_LONG', `a text of ${MAX_TEXT + 1} characters, a space at each end included: text.length counts them (not text.trim().length)`),
        add(client, ' ' + 'm'.repeat(MAX_TEXT - 2) + ' ', `a text of ${MAX_TEXT} characters, a space at each end included`),
      ]);
      // text.length counts UTF-16 code units: "é" is 1 (but 2 bytes in UTF-8), an emoji 2 (but one code point).
      const emoji = '\u{1F600}';
      await Promise.all([
        add(client, 'é'.repeat(150), 'a text of 150 × "é": text.length is 150, although it takes 300 bytes in UTF-8; the limit counts text.length, not bytes'),
        add(client, emoji.repeat(MAX_TEXT / 2), `a text of ${MAX_TEXT / 2} emoji: text.length is ${MAX_TEXT}, the longest allowed`),
        expectRefused(client, 'add', [{ text: emoji.repeat(MAX_TEXT / 2) + 'm' }], 'TEXT_TOO_LONG', `${MAX_TEXT / 2} emoji and one letter: text.length is ${MAX_TEXT + 1} (an emoji counts 2), although it is only ${MAX_TEXT / 2 + 1} code points; the limit counts text.length`),
      ]);
    });

    it('stores nothing for a refused add, and gives it no id', async () => {
      const client = await alice();
      const before = await add(client, 'before the refused ones');
      const refused = [{ text: '' }, { text: 'r'.repeat(MAX_TEXT + 1) }, { text: 7 }, null];
      await Promise.all(refused.map((payload) => request(client, 'add', [payload], 'a request to refuse')));
      const after = await add(client, 'after the refused ones');
      const stored = (await list(client, 'after four refused adds')).filter((n) => n.id > before.id && n.id < after.id);
      if (stored.length) {
        throw new GradingFailure(
          `alice's adds ${refused.map((p) => show(p)).join(', ')} were refused, yet list holds ${show(stored)}: a refused add changes nothing, so check everything before storing the note, and return once you have answered { ok: false, … } (Socket.IO delivers only the first call of a callback, and the handler goes on)`,
        );
      }
      if (after.id !== before.id + 1) throw new GradingFailure(`alice's note got the id ${before.id}, then 4 adds were refused, and the next note got ${after.id}, expected ${before.id + 1}: a refused add uses no id`);
    });

    it('answers a remove with BAD_ID for an id that is not a whole number of 1 or more, and NOT_FOUND for one no note has', async () => {
      const client = await alice();
      const note = await add(client, 'alice keeps this one');
      await Promise.all([
        ...[String(note.id), 1.5, 0, -1, null, { id: note.id }, true].map((id) => expectRefused(client, 'remove', [id], 'BAD_ID', 'an id is a whole number of 1 or more (a string is not an id)')),
        expectRefused(client, 'remove', [999_999], 'NOT_FOUND', 'no note was ever given the id 999999'),
      ]);
      const still = await list(client, 'after the refused removes');
      if (!still.some((n) => n.id === note.id)) throw new GradingFailure(`alice's note ${show(note)} is gone after removes that were all refused (one of them was the string "${note.id}"): a refused remove removes nothing`);
    });

    it('answers a text of 900 000 characters, a text nested 1000 objects deep and a null payload with an error, and goes on serving', async () => {
      const client = await alice();
      const huge = 'h'.repeat(900_000); // a packet of about 900 KB: below Socket.IO's default limit of 1 MB
      await expectRefused(client, 'add', [{ text: huge }], 'TEXT_TOO_LONG', 'a text of 900 000 characters').catch(async (err: unknown) => {
        if (client.connected || (await learnerServer()).process.hasExited) throw err;
        throw new GradingFailure(
          `alice sent add({ text }) with a text of 900 000 characters (a packet of about 900 KB), and your server closed her connection (${client.disconnects.at(-1)}) instead of answering TEXT_TOO_LONG: ` +
            "Socket.IO closes the connection of a client whose packet is larger than maxHttpBufferSize; keep the default of 1 MB (do not set a smaller maxHttpBufferSize)",
        );
      });
      let nested: unknown = 'deep';
      for (let i = 0; i < 1000; i++) nested = { text: nested };
      await expectRefused(client, 'add', [nested], 'BAD_TEXT', 'a text that is an object, nested 1000 levels deep');
      await expectRefused(client, 'add', [null], 'BAD_PAYLOAD', 'a null payload');
      await add(client, 'still serving', 'a valid note after the hostile ones');
    });
  });

  describe('clients and connections', () => {
    it('shares one store between clients: concurrent adds get distinct, consecutive ids, each client sees the others, and notes outlive their client', async () => {
      const [first, ben] = await Promise.all([alice(), connect('ben')]);
      const oldest = await add(first, "alice's note before 30 more", 'the first of more than 20 notes');
      const sent = (who: string) => Array.from({ length: 15 }, (_, i) => `${who}'s note ${i + 1}`);
      const [alices, bens] = await Promise.all([
        Promise.all(sent('alice').map((text) => add(first, text, 'one of 15 adds sent at once'))),
        Promise.all(sent('ben').map((text) => add(ben, text, 'one of 15 adds sent at once'))),
      ]);
      const ids = [...alices, ...bens].map((n) => n.id).sort((a, b) => a - b);
      const repeated = ids.filter((id, i) => i > 0 && id === ids[i - 1]);
      if (repeated.length) {
        throw new GradingFailure(
          `alice and ben each added 15 notes at once and got the ids ${show(ids)}: several adds got the same id (${show([...new Set(repeated)])}). Is the counter read before an await and written after it? Take the next id and store the note before anything awaits`,
        );
      }
      if (ids.at(-1)! - ids[0] !== ids.length - 1) {
        throw new GradingFailure(`alice and ben each added 15 notes at once and got the ids ${show(ids)}: expected 30 different ids in a row (one counter for the whole server, not one per connection)`);
      }
      const seenByBen = await list(ben, 'after alice and ben added 15 notes each');
      const missing = [oldest, ...alices].filter((n) => !seenByBen.some((s) => s.id === n.id && s.text === n.text));
      if (missing.length === alices.length + 1) throw new GradingFailure(`ben's list holds none of alice's notes (such as ${show(alices[0])}): there is one store for every client (keep it outside the 'connection' handler)`);
      if (missing.length) {
        throw new GradingFailure(
          `alice added ${show(oldest)}, then alice and ben 30 notes more, and ben's list (${seenByBen.length} notes) no longer holds ${show(missing.slice(0, 3))}${missing.length > 3 ? '…' : ''}: notes live as long as the server runs, with no limit on how many`,
        );
      }
      await closeSeen(ben);
      const afterBen = await list(first, 'after ben disconnected');
      const gone = bens.filter((n) => !afterBen.some((s) => s.id === n.id));
      if (gone.length) throw new GradingFailure(`ben added 15 notes and disconnected, and alice's list no longer holds ${show(gone.slice(0, 3))}${gone.length > 3 ? '…' : ''}: notes live as long as the server runs, not as long as the client that added them`);
    });

    it('serves a client that starts on HTTP long-polling and upgrades to WebSocket, before and after the upgrade', async () => {
      const upgrading = await connect('polly', { transports: ['polling', 'websocket'] }).catch((err: unknown) => {
        throw new GradingFailure(`${(err as Error).message}. polly starts on HTTP long-polling, as socket.io-client does by default, and could not connect: keep both of Socket.IO's transports (do not set transports: ['websocket'] on the Server)`);
      });
      const engine = upgrading.socket.io.engine;
      const first = engine.transport.name;
      const note = await add(upgrading, `sent over ${first}`);
      if (!(await list(upgrading, `over ${first}`)).some((n) => n.id === note.id)) throw new GradingFailure(`polly's list, over ${first}, does not hold the note she just added: ${show(note)}`);
      if (!(await waitUntil(() => engine.transport.name === 'websocket', 2000))) throw new GradingFailure(`polly started on long-polling and was still on ${engine.transport.name} after 2 s: she could not upgrade to WebSocket`);
      await expectOk(upgrading, 'remove', [note.id], 'over WebSocket, after the upgrade');
      await add(upgrading, 'sent over WebSocket after the upgrade');
    });

    it('goes on serving after a client drops its connection right after emitting, its answers never delivered', async () => {
      const carol = await connect('carol, who drops out');
      const sent = Array.from({ length: 5 }, (_, i) => `carol's last words ${i + 1}`);
      for (const text of sent) carol.socket.emit('add', { text }, () => {});
      carol.socket.emit('add', { text: 'c'.repeat(100_000) }, () => {}); // a large packet, perhaps cut off
      carol.dropTransport();
      const client = await alice();
      const notes = await list(client, 'after carol dropped her connection with requests unanswered');
      const carols = texts(notes).filter((t) => t.startsWith("carol's last words"));
      if (show(carols) !== show(sent.slice(0, carols.length))) {
        throw new GradingFailure(`carol added ${show(sent)} in this order and dropped her connection; the notes of hers that were stored are ${show(carols)}: expected the first few of them, in order, each once`);
      }
      const mine = await add(client, "alice's note after carol left", 'after carol dropped her connection with requests unanswered');
      const highest = Math.max(0, ...notes.map((n) => n.id));
      if (mine.id <= highest) throw new GradingFailure(`alice's note got the id ${mine.id}, but list already had a note with the id ${highest}: ids keep counting up`);
    });
  });

  describe('odd emits', () => {
    it('carries out an add and a remove sent without a callback (unanswered), and is not upset by refused ones', async () => {
      const client = await alice();
      client.emit('add', { text: 'added without a callback' });
      client.emit('add', { text: '' });
      client.emit('add', null);
      client.emit('remove', 'not an id');
      client.emit('list');
      const marker = await add(client, 'marker', 'after add, remove and list emitted without a callback: with no callback, there is nothing to call');
      const isSilent = (n: Note) => n.text === 'added without a callback';
      const { notes } = await listUntil(client, 'after emits without callbacks', (listed) => listed.some(isSilent));
      const silent = notes.find(isSilent);
      if (!silent) {
        throw new GradingFailure(
          `alice emitted add({"text":"added without a callback"}) without a callback, then other events; that note did not appear in list within 1 s (${show(notes.slice(-5))}): an event without a callback is still carried out, only not answered`,
        );
      }
      // Either may be stored first (a handler may await before it stores), but nothing in between.
      if (Math.abs(silent.id - marker.id) !== 1) {
        throw new GradingFailure(`the note added without a callback got the id ${silent.id} and the accepted "marker" sent after it ${marker.id}: the refused adds in between use no id, so the two ids follow each other`);
      }
      client.emit('remove', silent.id);
      const { held: removed } = await listUntil(client, `after remove(${silent.id}) without a callback`, (listed) => !listed.some((n) => n.id === silent.id));
      if (!removed) throw new GradingFailure(`alice emitted remove(${silent.id}) without a callback, and list still held that note 1 s later: carry it out all the same`);
    });

    it('is not upset by something else than a function where the callback goes', async () => {
      const client = await alice();
      client.emit('list', 'not a callback');
      client.emit('add', { text: 'a number where the callback goes' }, 42);
      client.emit('remove', 999_999, 'oops');
      const what = 'after list("not a callback"), add({…}, 42) and remove(999999, "oops"): Socket.IO hands you a callback only when the client sent one, so check typeof callback === "function"';
      const { held } = await listUntil(client, what, (notes) => notes.some((n) => n.text === 'a number where the callback goes'));
      if (!held) {
        throw new GradingFailure(`alice emitted add({"text":"a number where the callback goes"}, 42), and that note did not appear in list within 1 s: with no function to answer through, carry the event out unanswered`);
      }
    });

    it('ignores events it does not know, and goes on serving', async () => {
      const client = await alice();
      const before = await list(client, 'before the unknown events');
      // Some with a callback: an unknown event is not answered either, not even with a refusal.
      const unknown: [string, ...unknown[]][] = [['clear'], ['ADD', { text: 'shouted' }], ['frobnicate', 1, 2, 3], ['constructor', { text: 'tricky' }], ['toString'], ['__proto__', { text: 'proto' }], ['hasOwnProperty', 'add']];
      const answered: string[] = [];
      unknown.forEach(([event, ...args], i) => {
        if (i % 2 === 0) client.socket.emit(event, ...args, (...reply: unknown[]) => answered.push(`${showCall(event, args)} with ${reply.map(show).join(', ')}`));
        else client.emit(event, ...args);
      });
      const names = unknown.map(([event]) => event).join(', ');
      // The server reads the requests in order: a handler that answers the unknown ones at once has answered before list is.
      const after = await list(client, `after the events ${names}, which have no handler: a lookup such as handlers[event](…) finds nothing, or something inherited from Object.prototype, for such names`);
      if (answered.length) throw new GradingFailure(`alice emitted events your server has no handler for, with a callback, and your server called it: ${answered.join('; ')}. Ignore unknown events: no answer, not even a refusal`);
      if (!sameNotes(after, before)) {
        const added = after.filter((n) => !before.some((b) => b.id === n.id));
        const removed = before.filter((b) => !after.some((n) => n.id === b.id));
        const change = [added.length ? `added ${show(added)}` : '', removed.length ? `removed ${show(removed)}` : ''].filter(Boolean).join(' and ') || `changed them to ${show(after)}`;
        throw new GradingFailure(`after events that are not add, list or remove (${names}), the notes changed: your server ${change}. Ignore unknown events: no change (event names are case-sensitive, so ADD is not add; and a lookup such as handlers[event] must not find names such as constructor)`);
      }
    });
  });
});
