import { afterEach, describe, it } from 'vitest';
import { describeExit, GradingFailure, learnerServer, oncePerGrade, waitUntil, type TestWebSocket } from '../../sandbox-server/src/grading-kit/index.ts';

type Json = Record<string, unknown>;
const MAX_BYTES = 4096;

// The grading file serves every grade at once: per-grade state lives in oncePerGrade.
/** This test's clients, dropped when it ends. */
const opened = () => oncePerGrade('opened-clients', (): TestWebSocket[] => []);
/** A counter for names and rooms no earlier test used. */
const fresh = () => oncePerGrade('fresh', () => ({ n: 0 }));
const unique = (prefix: string) => `${prefix}${++fresh().n}`;

async function connect(label: string): Promise<TestWebSocket> {
  const client = await (await learnerServer()).connectWebSocket({ label });
  opened().push(client);
  return client;
}

const show = (value: unknown) => JSON.stringify(value);

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Reads the next message and fails unless it is a JSON object with (at least) these fields.
 * `explain`: a failure message of its own for an unexpected message the test can name (e.g. a second left notice).
 */
async function expectJson(client: TestWebSocket, expected: Json, what: string, explain?: (got: Json) => string | undefined): Promise<Json> {
  const got = await client.nextJson<Json>({ what: `${show(expected)} (${what})` });
  const wrong = Object.entries(expected).filter(([key, value]) => show(got?.[key]) !== show(value));
  if (typeof got !== 'object' || got === null || wrong.length) {
    const explained = typeof got === 'object' && got !== null ? (explain?.(got) ?? explainOwn(client, got)) : undefined;
    if (explained) throw new GradingFailure(explained);
    throw new GradingFailure(`${client.label} expected ${show(expected)} (${what}), but got ${show(got)}${wrong.length ? ` (${wrong.map(([k]) => `"${k}"`).join(', ')} differ${wrong.length === 1 ? 's' : ''})` : ''}`);
  }
  return got;
}

/** The name each client joined as through join(), to recognise a notice about its own join. */
const joinedAs = () => oncePerGrade('joined-as', () => new WeakMap<TestWebSocket, string>());

/** Explains a notice or message about `client`'s own doing that came back to it. */
function explainOwn(client: TestWebSocket, got: Json): string | undefined {
  if (got.name === undefined || got.name !== joinedAs().get(client)) return undefined;
  if (got.type === 'joined') return `your server sent ${client.label} the joined notice of its own join (${show(got)}): joined goes only to the others in the room (the one who joined gets the welcome)`;
  if (got.type === 'message') return `your server sent ${client.label} its own message back (${show(got)}): a message goes to the others in the room, not to the sender`;
  return undefined;
}

async function expectError(client: TestWebSocket, error: string, sent: unknown): Promise<void> {
  await expectJson(client, { type: 'error', error }, `the answer to ${typeof sent === 'string' ? `the text ${show(sent)}` : show(sent)}`);
}

/** Fails if any message but the pong arrives before the answer to a ping: nothing else was sent to `client`. */
async function expectNothingMore(client: TestWebSocket, what: string): Promise<void> {
  client.ping();
  await client.expectPong({ what: 'the pong to a ping the test sent to see whether anything else had arrived' });
  await client.expectNoMessage(0, what).catch(async (err: unknown) => {
    const got = parseOrUndefined((await client.nextMessage({ within: 0 })).text);
    const own = typeof got === 'object' && got !== null ? explainOwn(client, got as Json) : undefined;
    throw own ? new GradingFailure(own) : err;
  });
}

/** Connects and joins `room` as `name`; checks the welcome. */
async function join(name: string, room: string, members: string[] = []): Promise<TestWebSocket> {
  const client = await connect(name);
  await client.sendJson({ type: 'join', room, name });
  await expectJson(client, { type: 'welcome', room, name, members }, `the welcome after joining ${show(room)} as ${show(name)}, ${welcomeMembers(members)}`);
  joinedAs().set(client, name);
  return client;
}

/** How a test describes the members a welcome lists. */
const welcomeMembers = (members: string[]) => (members.length ? `listing the others already there in the order they joined` : 'in a room nobody else is in');

/**
 * Expects one `left` notice for `name`, then proves no second one comes: a newcomer joins the room,
 * and everything the server sent `observer` before handling that join arrives before its `joined`.
 */
async function expectOneLeft(observer: TestWebSocket, room: string, name: string, how: string): Promise<void> {
  await expectJson(observer, { type: 'left', room, name }, `the notice that ${name} left, ${how}`);
  const syncName = unique('newcomer');
  const newcomer = await connect(syncName);
  await newcomer.sendJson({ type: 'join', room, name: syncName });
  for (;;) {
    const got = await observer.nextJson<Json>({ what: `the joined notice for ${syncName}, who joined after ${name} left` });
    if (got?.type === 'joined' && got.name === syncName) break;
    if (got?.type === 'left' && got.name === name) {
      throw new GradingFailure(
        `${observer.label} got the notice that ${name} left twice (${how}). Announce a departure in one place ('close' comes once per connection, also after an 'error'), and forget the room once it is left.`,
      );
    }
    throw new GradingFailure(`${observer.label} expected nothing but the joined notice for ${syncName}, but got ${show(got)}`);
  }
  await observer.expectNoMessage(200, `a second notice that ${name} left`);
}

/** A failure after the server stopped says so. */
async function explainCrash(err: unknown, when: string): Promise<never> {
  const server = await learnerServer();
  if (err instanceof GradingFailure && (await waitUntil(() => server.process.hasExited, 1000))) {
    throw new GradingFailure(`${err.message.replace(/\.+$/, '')}. Your server stopped ${when}: ${describeExit(server.process, await server.process.exited).replace(/^your program /, '')}`);
  }
  throw err;
}

async function expectClosedFor(client: TestWebSocket, what: string): Promise<void> {
  const closed = await client.expectClose({ what: `the connection to close with 1009 after ${what}` }).catch((err: unknown) => {
    throw new GradingFailure(`${(err as Error).message.replace(/\.+$/, '')}. A message over ${MAX_BYTES} bytes must close the connection with 1009: new WebSocketServer({ port, maxPayload: ${MAX_BYTES} }) does it`);
  });
  if (closed.code !== 1009) {
    const code = closed.code === 1006 ? 'without a close frame' : closed.code === 1005 ? 'with a close frame without a code' : `with code ${closed.code}`;
    throw new GradingFailure(`${client.label} sent ${what}, and your server closed the connection ${code}, not with 1009 (message too big). maxPayload closes with 1009 by itself.`);
  }
}

/** What happened to `sender`'s connection after it sent a message of exactly the limit ('' if it is still open). */
async function closedForExactly(sender: TestWebSocket): Promise<string> {
  const closed = await sender.expectClose({ within: 500 }).catch(() => undefined);
  if (!closed) return '';
  const how = closed.code === 1006 ? 'without a close frame' : `with code ${closed.code}${closed.code === 1009 ? ' (message too big)' : ''}`;
  return ` Your server closed ${sender.label}'s connection ${how} for that message: a message of exactly ${MAX_BYTES} bytes is allowed (maxPayload: ${MAX_BYTES}; only a larger one closes the connection).`;
}

/** A message whose JSON is exactly `bytes` long, its text made mostly of "é" (2 bytes, 1 character). */
function messageOfBytes(bytes: number): { json: string; text: string } {
  const overhead = Buffer.byteLength(JSON.stringify({ type: 'message', text: '' }));
  const room = bytes - overhead;
  const text = 'é'.repeat(Math.floor(room / 2)) + 'a'.repeat(room % 2);
  const json = JSON.stringify({ type: 'message', text });
  if (Buffer.byteLength(json) !== bytes) throw new Error(`test bug: ${Buffer.byteLength(json)} bytes`);
  return { json, text };
}

describe('JSON chat rooms', () => {
  afterEach(() => {
    for (const client of opened().splice(0)) client.terminate();
  });

  describe('joining', () => {
    it('answers a join with a welcome listing the others in join order, and tells them with joined', async () => {
      // Neither alphabetical nor reversed: join order is its own order.
      const room = unique('lobby');
      const zoe = await join('zoe', room);
      const ada = await join('ada', room, ['zoe']);
      await expectJson(zoe, { type: 'joined', room, name: 'ada' }, 'the notice that ada joined');
      const mia = await join('mia', room, ['zoe', 'ada']);
      await expectJson(zoe, { type: 'joined', room, name: 'mia' }, 'the notice that mia joined');
      await expectJson(ada, { type: 'joined', room, name: 'mia' }, 'the notice that mia joined');
      await expectNothingMore(mia, 'a notice of its own join (joined goes to the others)');
    });

    it('accepts names of 1 to 20 characters and rooms of 1 to 32, and answers others with invalid-name or invalid-room', async () => {
      const client = await connect('a client choosing a name');
      const room = unique('names');
      for (const name of ['', '   ', '\t', ' \n\t ', 'abcdefghijklmnopqrstu', 42, null]) {
        const sent = { type: 'join', room, name };
        await client.sendJson(sent);
        await expectError(client, 'invalid-name', sent);
      }
      await client.sendJson({ type: 'join', room });
      await expectError(client, 'invalid-name', { type: 'join', room });
      for (const badRoom of ['', '  ', '\t\n', 'r'.repeat(33), 7]) {
        const sent = { type: 'join', room: badRoom, name: 'ok' };
        await client.sendJson(sent);
        await expectError(client, 'invalid-room', sent);
      }
      const longest = 'twenty_characters_ok';
      const longRoom = `${room}-`.padEnd(32, 'r');
      await client.sendJson({ type: 'join', room: longRoom, name: longest });
      await expectJson(client, { type: 'welcome', room: longRoom, name: longest, members: [] }, 'the welcome for a 20-character name in a 32-character room, after the errors');
      joinedAs().set(client, longest);
      const one = await join('x', unique('r'));
      await expectNothingMore(one, 'anything after the welcome for a 1-character name');

      // A member whose join is refused for its name or its room stays where it was: no left notice, and its messages still go there.
      const watcher = await join('watcher', longRoom, [longest]);
      await expectJson(client, { type: 'joined', room: longRoom, name: 'watcher' }, 'the notice that watcher joined');
      for (const [sent, error] of [
        [{ type: 'join', room: unique('r'), name: '' }, 'invalid-name'],
        [{ type: 'join', room: 'r'.repeat(33), name: longest }, 'invalid-room'],
      ] as const) {
        await client.sendJson(sent);
        await expectError(client, error, sent);
        const text = `still here after ${error}`;
        await client.sendJson({ type: 'message', text });
        await expectJson(watcher, { type: 'message', room: longRoom, name: longest, text }, `the message of ${longest}, who stayed in ${longRoom} when its join ${show(sent)} was refused`, (got) =>
          got.type === 'left' && got.name === longest
            ? `watcher got the notice that ${longest} left ${show(got.room)}, but ${longest}'s join ${show(sent)} was refused with ${error}: a refused join changes nothing, so check the name and the room before leaving the old room`
            : undefined,
        );
      }
    });

    it('answers a name taken in that room with name-taken (case and spaces matter), and accepts it in another room', async () => {
      const [room, other] = [unique('taken'), unique('other')];
      const ada = await join('ada', room);
      const second = await connect('a second ada, in no room');
      await second.sendJson({ type: 'join', room, name: 'ada' });
      await expectError(second, 'name-taken', { type: 'join', room, name: 'ada' });
      await expectNothingMore(ada, 'a joined notice for a join that was refused');

      // A member whose join is refused stays in its room: no left notice there, and its messages still go there.
      const elsewhere = await join('ada', other);
      const friend = await join('friend', other, ['ada']);
      await expectJson(elsewhere, { type: 'joined', room: other, name: 'friend' }, 'the notice that friend joined');
      await elsewhere.sendJson({ type: 'join', room, name: 'ada' });
      await expectError(elsewhere, 'name-taken', { type: 'join', room, name: 'ada' });
      await expectNothingMore(ada, 'a notice about a join that was refused');
      await elsewhere.sendJson({ type: 'message', text: 'still here' });
      await expectJson(friend, { type: 'message', room: other, name: 'ada', text: 'still here' }, `the message of ada, who stayed in ${other} when its join to ${room} was refused`, (got) =>
        got.type === 'left' && got.name === 'ada'
          ? `friend got the notice that ada left ${show(got.room)}, but ada's join to ${room} was refused with name-taken: a refused join changes nothing, so check the name before leaving the old room`
          : undefined,
      );

      // Names are used exactly as sent: "Ada" and " ada" are not "ada", " <room>" is not <room>.
      const third = await connect('a third ada');
      // (The members list is the join-order test's business: here only who is welcome.)
      for (const [client, name] of [[second, 'Ada'], [third, ' ada']] as const) {
        await client.sendJson({ type: 'join', room, name });
        await expectJson(client, { type: 'welcome', room, name }, `the welcome for ${show(name)} (another name than "ada")`, (got) =>
          got.type === 'error' ? `your server answered the join as ${show(name)} with ${show(got)}, but ${show(name)} is another name than "ada": names are used exactly as sent (case and spaces included, no trimming)` : undefined,
        );
        await expectJson(ada, { type: 'joined', room, name }, `the notice that ${show(name)} joined`);
      }
      const spaced = ` ${room}`;
      const fourth = await connect('a fourth ada');
      await fourth.sendJson({ type: 'join', room: spaced, name: 'ada' });
      await expectJson(fourth, { type: 'welcome', room: spaced, name: 'ada', members: [] }, `the welcome in ${show(spaced)} (another room than ${show(room)}), where nobody is`, (got) =>
        got.type === 'error' ? `your server answered the join to ${show(spaced)} with ${show(got)}, but ${show(spaced)} is another room than ${show(room)}: rooms are used exactly as sent (no trimming)` : undefined,
      );
    });

    it('moves a member who joins another room: left in the old room, joined in the new one', async () => {
      const [first, second] = [unique('first'), unique('second')];
      const stays = await join('stays', first);
      const waits = await join('waits', second);
      const mover = await join('mover', first, ['stays']);
      await expectJson(stays, { type: 'joined', room: first, name: 'mover' }, 'the notice that mover joined');
      await mover.sendJson({ type: 'join', room: second, name: 'mover' });
      await expectJson(mover, { type: 'welcome', room: second, name: 'mover', members: ['waits'] }, `the welcome in ${second}`);
      await expectJson(stays, { type: 'left', room: first, name: 'mover' }, `the notice that mover left ${first} by joining ${second}`);
      await expectJson(waits, { type: 'joined', room: second, name: 'mover' }, `the notice that mover joined ${second}`);
      await mover.sendJson({ type: 'message', text: 'now in the second room' });
      await expectJson(waits, { type: 'message', room: second, name: 'mover', text: 'now in the second room' }, 'a message from mover in its new room');
      await expectNothingMore(stays, `anything from ${second}, after mover left ${first}`);
    });
  });

  describe('messages', () => {
    it('sends a message to the other members of the room, not back to the sender, and not to another room', async () => {
      const [lobby, games] = [unique('lobby'), unique('games')];
      const ada = await join('ada', lobby);
      const bob = await join('bob', lobby, ['ada']);
      const cy = await join('cy', games);
      const dee = await join('dee', games, ['cy']);
      await expectJson(ada, { type: 'joined', room: lobby, name: 'bob' }, 'the notice that bob joined');
      await expectJson(cy, { type: 'joined', room: games, name: 'dee' }, 'the notice that dee joined');
      const text = 'hello lobby ✓ 🚀';
      await ada.sendJson({ type: 'message', text });
      await expectJson(bob, { type: 'message', room: lobby, name: 'ada', text }, `ada's message to ${lobby}`);
      await dee.sendJson({ type: 'message', text: 'hello games' });
      await expectJson(cy, { type: 'message', room: games, name: 'dee', text: 'hello games' }, `dee's message to ${games}`);
      await expectNothingMore(ada, 'its own message back (a message goes to the others), or one from another room');
      await expectNothingMore(dee, 'its own message back (a message goes to the others)');
      await expectNothingMore(cy, `ada's message to ${lobby} (another room)`);
      await expectNothingMore(bob, `dee's message to ${games} (another room)`);
    });

    it('answers message or leave before any join with not-joined, and an empty or missing text with invalid-text', async () => {
      const room = unique('texts');
      const other = await join('other', room);
      const loner = await connect('a client in no room');
      for (const sent of [{ type: 'message', text: 'hello?' }, { type: 'leave' }]) {
        await loner.sendJson(sent);
        await expectError(loner, 'not-joined', sent);
      }
      await loner.sendJson({ type: 'join', room, name: 'reader' });
      await expectJson(loner, { type: 'welcome', room, name: 'reader', members: ['other'] }, 'the welcome after the not-joined errors');
      await expectJson(other, { type: 'joined', room, name: 'reader' }, 'the notice that reader joined');
      // A client of its own for the text errors: its label says it is in the room.
      const writer = await join('writer', room, ['other', 'reader']);
      await expectJson(other, { type: 'joined', room, name: 'writer' }, 'the notice that writer joined');
      for (const sent of [{ type: 'message', text: '' }, { type: 'message' }, { type: 'message', text: 42 }]) {
        await writer.sendJson(sent);
        await expectError(writer, 'invalid-text', sent);
      }
      await expectNothingMore(other, 'a message whose text was refused');
      // Only an empty text is invalid: spaces are a text like any other.
      const before = writer.received.length;
      await writer.sendJson({ type: 'message', text: '   ' });
      writer.ping(); // its pong comes after any answer to that message
      await writer.expectPong({ what: 'the pong to a ping the test sent to see whether an error had arrived' });
      const refused = writer.received.slice(before).find((m) => (parseOrUndefined(m.text) as Json | undefined)?.type === 'error');
      if (refused) throw new GradingFailure(`writer sent {"type":"message","text":"   "} and got ${refused.text}: only a text that is empty or not a string is invalid; spaces are a text like any other`);
      await expectJson(other, { type: 'message', room, name: 'writer', text: '   ' }, 'the message of writer whose text is 3 spaces');
    });

    it('puts a join and a message sent in fragments, with pings between the fragments, back together', async () => {
      const room = unique('fragments');
      const ada = await join('ada', room);
      const bob = await connect('bob');
      const joinText = Buffer.from(JSON.stringify({ type: 'join', room, name: 'bob' }));
      await bob.sendFragments([joinText.subarray(0, 7), joinText.subarray(7, 20), joinText.subarray(20)], { binary: false, pingBetween: true });
      for (let i = 1; i <= 2; i++) await bob.expectPong({ what: `the pong to ping ${i} of 2, sent between the fragments of a join (ws answers pings by itself)` });
      await expectJson(bob, { type: 'welcome', room, name: 'bob', members: ['ada'] }, 'the welcome for a join sent in 3 fragments');
      await expectJson(ada, { type: 'joined', room, name: 'bob' }, 'the notice that bob joined');
      const text = 'cut ✓ inside a character';
      const message = Buffer.from(JSON.stringify({ type: 'message', text }));
      const cut = message.indexOf(Buffer.from('✓')) + 1;
      await bob.sendFragments([message.subarray(0, cut), message.subarray(cut)], { binary: false, pingBetween: true });
      await expectJson(ada, { type: 'message', room, name: 'bob', text }, 'a message sent in 2 fragments cut inside "✓"');
    });
  });

  describe('leaving', () => {
    it('leave: the others get one left notice, and nothing more when the member disconnects later', async () => {
      const room = unique('leave');
      const ada = await join('ada', room);
      const bob = await join('bob', room, ['ada']);
      await expectJson(ada, { type: 'joined', room, name: 'bob' }, 'the notice that bob joined');
      await bob.sendJson({ type: 'leave' });
      await expectJson(ada, { type: 'left', room, name: 'bob' }, 'the notice that bob left with {"type":"leave"}');
      const leftTwice = (got: Json) =>
        got.type === 'left' && got.name === 'bob'
          ? `ada got a second notice that bob left, after bob's one leave (when bob joined again): once a member has left, forget its room, so that nothing announces that departure again`
          : undefined;
      await bob.sendJson({ type: 'join', room, name: 'bob' });
      await expectJson(bob, { type: 'welcome', room, name: 'bob', members: ['ada'] }, 'the welcome when bob joins again after leaving');
      await expectJson(ada, { type: 'joined', room, name: 'bob' }, 'the notice that bob joined again', leftTwice);
      await bob.sendJson({ type: 'leave' });
      bob.close(1000, 'bye');
      await bob.expectClose();
      await expectOneLeft(ada, room, 'bob', 'with {"type":"leave"}, then closing the connection');
    });

    it('a member who closes the connection: the others get exactly one left notice', async () => {
      const room = unique('close');
      const ada = await join('ada', room);
      const bob = await join('bob', room, ['ada']);
      await expectJson(ada, { type: 'joined', room, name: 'bob' }, 'the notice that bob joined');
      bob.close(1000, 'bye');
      await bob.expectClose();
      await expectOneLeft(ada, room, 'bob', 'by closing the connection');
    });

    it('a member who drops the connection without a closing handshake: exactly one left notice, and the others go on', async () => {
      const room = unique('drop');
      const ada = await join('ada', room);
      const bob = await join('bob', room, ['ada']);
      const cy = await join('cy', room, ['ada', 'bob']);
      await expectJson(ada, { type: 'joined', room, name: 'bob' }, 'the notice that bob joined');
      await expectJson(ada, { type: 'joined', room, name: 'cy' }, 'the notice that cy joined');
      await expectJson(bob, { type: 'joined', room, name: 'cy' }, 'the notice that cy joined');
      bob.terminate();
      try {
        await expectOneLeft(ada, room, 'bob', 'by dropping the connection');
        await expectJson(cy, { type: 'left', room, name: 'bob' }, 'the notice that bob left');
        await cy.sendJson({ type: 'message', text: 'still here' });
        await expectJson(ada, { type: 'message', room, name: 'cy', text: 'still here' }, 'a message after bob dropped out');
      } catch (err) {
        await explainCrash(err, 'when a client dropped its connection');
      }
    });
  });

  describe('bad input', () => {
    it('answers text that is not a JSON object with invalid-json, and the connection stays open', async () => {
      const room = unique('json');
      const ada = await join('ada', room);
      const client = await connect('a client sending bad JSON');
      try {
        for (const text of ['{"type": "join"', 'hello', 'null', '42', '"join"', '[1]', '']) {
          await client.send(text);
          await expectError(client, 'invalid-json', text);
        }
        await client.sendJson({ type: 'join', room, name: 'after' });
        await expectJson(client, { type: 'welcome', room, name: 'after', members: ['ada'] }, 'the welcome after all the errors (the connection must stay usable)');
        await expectJson(ada, { type: 'joined', room, name: 'after' }, 'the notice that after joined');
      } catch (err) {
        await explainCrash(
          err,
          'on text that is not a JSON object. JSON.parse throws on text that is not JSON, and JSON.parse("null") gives null, whose .type throws: ' +
            "an exception in a 'message' listener crashes the server. Parse inside try/catch and check that the result is an object",
        );
      }
    });

    it('answers a missing or unknown type with unknown-type', async () => {
      const client = await connect('a client with odd types');
      try {
        for (const sent of [{ type: 'dance' }, {}, { type: 42 }, { type: 'JOIN', room: 'r', name: 'n' }]) {
          await client.sendJson(sent);
          await expectError(client, 'unknown-type', sent);
        }
      } catch (err) {
        await explainCrash(err, 'on a message with a missing or unknown type');
      }
    });
  });

  // Last: a server without an 'error' listener crashes here.
  describe('size limit', () => {
    it(`accepts a message of exactly ${MAX_BYTES} bytes (in "é", so fewer characters)`, async () => {
      const room = unique('size');
      const ada = await join('ada', room);
      const bob = await join('bob', room, ['ada']);
      await expectJson(ada, { type: 'joined', room, name: 'bob' }, 'the notice that bob joined');
      const { json, text } = messageOfBytes(MAX_BYTES);
      await bob.send(json);
      const got = await ada.nextJson<Json>({ what: `bob's message of exactly ${MAX_BYTES} bytes` }).catch(async (err: unknown) => {
        throw new GradingFailure(`${(err as Error).message.replace(/\.+$/, '')}.${await closedForExactly(bob)}`);
      });
      if (got?.type !== 'message' || got.text !== text) {
        throw new GradingFailure(`ada expected bob's message of exactly ${MAX_BYTES} bytes (a text of ${[...text].length} characters), but got ${show(got).slice(0, 200)}.${await closedForExactly(bob)}`);
      }
    });

    it(`closes a connection whose message is larger than ${MAX_BYTES} bytes with 1009, and the others get one left notice`, async () => {
      const room = unique('oversize');
      const ada = await join('ada', room);
      const bob = await join('bob', room, ['ada']);
      await expectJson(ada, { type: 'joined', room, name: 'bob' }, 'the notice that bob joined');
      const { json } = messageOfBytes(MAX_BYTES + 200); // 4296 bytes, about 2150 characters
      await bob.send(json);
      try {
        await expectClosedFor(bob, `a message of ${MAX_BYTES + 200} bytes (about 2150 characters of "é": the limit is in bytes)`);
        await expectOneLeft(ada, room, 'bob', `when your server closed bob's connection for a message over ${MAX_BYTES} bytes`);
      } catch (err) {
        await explainCrash(
          err,
          "when a message was too large. ws then closes the connection and emits 'error' on it: an 'error' event without a listener crashes the server, so add ws.on('error', …)",
        );
      }
    });

    it('counts the fragments of a message together: 3 fragments of 1500 bytes are too large', async () => {
      const client = await join('fragmenter', unique('fragments'));
      const { json } = messageOfBytes(4500);
      const bytes = Buffer.from(json);
      await client.sendFragments([bytes.subarray(0, 1500), bytes.subarray(1500, 3000), bytes.subarray(3000)], { binary: false });
      try {
        await expectClosedFor(client, 'a message of 4500 bytes in 3 fragments of 1500 bytes');
      } catch (err) {
        await explainCrash(err, 'when a message was too large');
      }
    });
  });
});
