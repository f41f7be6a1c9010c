import { describe, it } from 'vitest';
import { askUntil, expectOk, expectRefused, explainCrash, GradingFailure, learnerServer, oncePerGrade, request, show, showCall, type ReceivedEvent, type TestSocketIo, type TestSocketIoOptions } from '../../sandbox-server/src/grading-kit/index.ts';

/** A room name no earlier test of this grade used. */
const fresh = () => oncePerGrade('fresh-rooms', () => ({ n: 0 }));
const unique = (prefix: string) => `${prefix}-${++fresh().n}`;

async function connect(name: string, options: Partial<TestSocketIoOptions> = {}): Promise<TestSocketIo> {
  return (await learnerServer()).connectSocketIo({ label: name, auth: { name }, ...options });
}

/** Joins `room` and checks the answer lists `members` (the joiner last). */
async function join(client: TestSocketIo, room: string, members: string[], what = `joining ${room}`): Promise<void> {
  const reply = await expectOk(client, 'join', [room], what);
  if (reply.room !== room || show(reply.members) !== show(members)) {
    const place = members.at(-1) === client.label ? `${client.label} last` : `${client.label} keeping its place: a join to a room the client is already in changes nothing`;
    throw new GradingFailure(
      `${client.label} sent join(${show(room)}) (${what}) and expected { ok: true, room: ${show(room)}, members: ${show(members)} } (every member's name, in the order they joined, ${place}), but got ${show(reply)}${explainMembers(reply.members, members)}`,
    );
  }
}

/** Connects a client for each name, all at once (connecting is the slow part of a test). */
const clients = (...names: string[]) => Promise.all(names.map((name) => connect(name)));

/** A hint for a members list that holds the right people in another form. */
function explainMembers(got: unknown, expected: string[]): string {
  if (!Array.isArray(got)) return '';
  if (got.length === expected.length && got.every((m) => typeof m === 'string' && /^[\w-]{20}$/.test(m) && !expected.includes(m))) return ': those look like socket ids; list the names (from the handshake auth)';
  if (show([...got].sort()) === show([...expected].sort())) return ': the right names in another order; list them in the order they joined';
  return '';
}

async function expectMembers(client: TestSocketIo, room: string, members: string[], what: string): Promise<void> {
  const reply = await expectOk(client, 'members', [room], what);
  if (reply.room !== room || show(reply.members) !== show(members)) {
    throw new GradingFailure(`${client.label} sent members(${show(room)}) (${what}) and expected { ok: true, room: ${show(room)}, members: ${show(members)} }, but got ${show(reply)}${explainMembers(reply.members, members)}`);
  }
}

/** The next event `name` must be exactly `payload` (extra fields allowed). */
async function expectNotice(client: TestSocketIo, event: string, payload: Record<string, unknown>, what: string): Promise<void> {
  const matches = (e: ReceivedEvent) => e.event === event && Object.entries(payload).every(([k, v]) => show((e.args[0] as Record<string, unknown> | undefined)?.[k]) === show(v));
  await client.expectEvent(matches, { what: `${showCall(event, [payload])} (${what})` });
}

interface NothingMore {
  /** Which unread events count (default: every one). */
  only?: (e: ReceivedEvent) => boolean;
  /** A failure message of its own for the event that came. */
  explain?: (e: ReceivedEvent) => string | undefined;
}

/**
 * Proves `client` got nothing more: a request's answer comes after every event the server sent the
 * client before handling it, so whatever is still unread once the answer is in came before it.
 */
async function expectNothingMore(client: TestSocketIo, what: string, { only = () => true, explain }: NothingMore = {}): Promise<void> {
  await request(client, 'members', ['marker'], 'a request whose answer comes after every event your server sent before it');
  const extra = client.pending.find(only);
  if (!extra) return;
  throw new GradingFailure(explain?.(extra) ?? `${client.label} expected nothing more (${what}), but your server sent it ${showCall(extra.event, extra.args)}`);
}

const isMessage = (e: ReceivedEvent) => e.event === 'message';
const isJoined = (e: ReceivedEvent) => e.event === 'joined';
const isLeft = (e: ReceivedEvent) => e.event === 'left';
const isOwn = (client: TestSocketIo, e: ReceivedEvent) => (e.args[0] as { name?: unknown; from?: unknown } | undefined)?.[e.event === 'message' ? 'from' : 'name'] === client.label;

describe('rooms server', () => {
  describe('joining', () => {
    it('answers join with every member in join order, the joiner last, and tells the others with joined', async () => {
      // Neither alphabetical nor reversed: join order is its own order.
      const room = unique('lobby');
      const [zoe, ada, mia] = await clients('zoe', 'ada', 'mia');
      await join(zoe, room, ['zoe']);
      await join(ada, room, ['zoe', 'ada']);
      await expectNotice(zoe, 'joined', { room, name: 'ada' }, 'ada joined');
      await join(mia, room, ['zoe', 'ada', 'mia']);
      await expectNotice(zoe, 'joined', { room, name: 'mia' }, 'mia joined');
      await expectNotice(ada, 'joined', { room, name: 'mia' }, 'mia joined');
      await expectNothingMore(mia, 'its own join is answered through the callback; joined goes to the others', {
        explain: (e) => {
          if (!isJoined(e)) return undefined;
          if (isOwn(mia, e)) return `mia got the joined notice of her own join (${showCall(e.event, e.args)}): socket.to(room) reaches the others, io.to(room) everyone in the room`;
          const { name } = (e.args[0] ?? {}) as { name?: unknown };
          return `mia got ${showCall(e.event, e.args)}, the notice of ${typeof name === 'string' ? name : show(name)}'s join, sent before mia was in ${room} (she joined last): joined goes to the room's other members only (socket.to(room), not socket.broadcast or io.emit)`;
        },
      });
    });

    it('changes nothing for a join to a room the client is already in: the same members, no second joined', async () => {
      const room = unique('again');
      const [ada, bob] = await clients('ada', 'bob');
      await join(ada, room, ['ada']);
      await join(bob, room, ['ada', 'bob']);
      await expectNotice(ada, 'joined', { room, name: 'bob' }, 'bob joined');
      // ada first, then bob (last in the list): neither moves, and nobody hears of it. What came
      // before (each answer comes after the notices sent before it) is another test's business.
      const earlier = new Set([...ada.pending, ...bob.pending]);
      await join(ada, room, ['ada', 'bob'], `joining ${room} a second time, where she is first`);
      await join(bob, room, ['ada', 'bob'], `joining ${room} a second time`);
      for (const [client, other] of [[ada, bob], [bob, ada]]) {
        await expectNothingMore(client, `${other.label} joined ${room} again, where already a member`, {
          only: (e) => isJoined(e) && !earlier.has(e),
          explain: (e) => `${client.label} got ${showCall(e.event, e.args)} when ${other.label} joined a room already joined: a join to a room the client is in changes nothing (check socket.rooms.has(…) first)`,
        });
      }
    });

    it('takes names from the handshake (two members may share one), and answers join with BAD_NAME for a client without a valid name', async () => {
      const room = unique('names');
      const longest = 'twenty-characters-ok';
      // name.length counts UTF-16 code units, spaces around included: an emoji counts 2.
      const spaced = '  spaced out  ';
      // Only whitespace is whatever trim() removes: tabs, newlines and no-break spaces too.
      const badAuths = [undefined, { name: 42 }, { name: '   ' }, { name: '\t\t' }, { name: '\n' }, { name: '\u00a0' }, { name: 'n'.repeat(21) }, { name: ' ' + 'n'.repeat(19) + ' ' }, { name: '\u{1F600}'.repeat(10) + 'n' }];
      const server = await learnerServer();
      const [[first, second, third, fourth], nameless] = await Promise.all([
        clients('sam', 'sam', longest, spaced),
        Promise.all(badAuths.map((auth) => server.connectSocketIo({ label: `a client with auth ${show(auth)}`, auth }))),
      ]);
      await join(first, room, ['sam']);
      await join(second, room, ['sam', 'sam']);
      await expectNotice(first, 'joined', { room, name: 'sam' }, 'the second sam joined');
      await join(third, room, ['sam', 'sam', longest], 'a name of 20 characters');
      const everyone = ['sam', 'sam', longest, spaced];
      await join(fourth, room, everyone, `a name with spaces around it, used exactly as sent: ${show(spaced)}, not trimmed`);
      await expectMembers(second, room, everyone, 'two members named sam are two members');
      await Promise.all(
        nameless.map((client, i) =>
          expectRefused(
            client,
            'join',
            [room],
            'BAD_NAME',
            `auth.name must be a string of 1 to 20 characters (name.length, spaces around included, an emoji counting 2), not only whitespace; this client connected with auth ${show(badAuths[i])}`,
          ),
        ),
      );
      await expectMembers(first, room, everyone, 'after the joins refused with BAD_NAME');
      await expectNothingMore(first, 'joins refused with BAD_NAME', {
        // The joins of the valid names may still be unread (their order against these is not in question).
        only: (e) => isJoined(e) && !everyone.includes((e.args[0] as { name?: unknown } | undefined)?.name as string),
        explain: (e) => `sam got ${showCall(e.event, e.args)} after joins your server refused with BAD_NAME: a refused request changes nothing and tells nobody anything (answer the refusal and return before announcing)`,
      });
      await Promise.all(nameless.map((client) => expectMembers(client, room, everyone, 'a client without a valid name may still ask for members')));
    });

    it('answers BAD_ROOM, for every event, for a room that is not 1 to 32 lower-case letters, digits or dashes', async () => {
      const client = await connect('rita');
      // Sent all at once: each answer is checked on its own, and nothing waits for the one before.
      const rooms = ['', 'Lobby', 'two words', 'room!', 'r'.repeat(33), 42, null, ['lobby'], { room: 'lobby' }];
      const requests = rooms.flatMap((room) => [['join', [room]], ['leave', [room]], ['members', [room]], ['say', [room, 'hello']]] as const);
      await Promise.all(requests.map(([event, args]) => expectRefused(client, event, [...args], 'BAD_ROOM', 'a room is 1 to 32 characters of a-z, 0-9 and -')));
      await join(client, 'r'.repeat(32), ['rita'], 'a room of 32 characters');
      await join(client, unique('a-9'), ['rita'], 'a room with a digit and dashes');
    });
  });

  describe('messages', () => {
    it('delivers say to exactly the other members of the room: not the sender, not another room, not a client in no room', async () => {
      const [a, b] = [unique('red'), unique('blue')];
      const [ada, bob, cy, dee, eve] = await clients('ada', 'bob', 'cy', 'dee', 'eve'); // eve joins no room
      await join(ada, a, ['ada']);
      await join(bob, a, ['ada', 'bob']);
      await join(cy, a, ['ada', 'bob', 'cy']);
      await join(cy, b, ['cy'], 'a second room');
      await join(dee, b, ['cy', 'dee']);
      await expectMembers(eve, a, ['ada', 'bob', 'cy'], 'eve is in no room: members answers anyone');
      await expectMembers(eve, unique('empty'), [], 'a room nobody is in');
      await expectOk(ada, 'say', [a, 'hello red'], `ada is a member of ${a}`);
      await expectNotice(bob, 'message', { room: a, from: 'ada', text: 'hello red' }, `ada's message to ${a}`);
      await expectNotice(cy, 'message', { room: a, from: 'ada', text: 'hello red' }, `ada's message to ${a}`);
      await expectOk(cy, 'say', [b, 'hello blue'], `cy is a member of ${b}`);
      await expectNotice(dee, 'message', { room: b, from: 'cy', text: 'hello blue' }, `cy's message to ${b}`);
      const rule = 'say reaches the other members of its room only: socket.to(room).emit(…), not io.to(room) (the sender too), socket.broadcast (every other client) or io.emit (everyone)';
      /** Why `who`, a member of `rooms`, should not have got the message `e` (which may be of any shape). */
      const whyNot = (who: TestSocketIo, rooms: string[], e: ReceivedEvent) => {
        const { from, room } = (e.args[0] ?? {}) as { from?: unknown; room?: unknown };
        const sender = typeof from === 'string' ? from : show(from);
        if (from === who.label) return `${who.label}'s own message, sent back to ${who.label}`;
        if (typeof room !== 'string' || !rooms.includes(room)) return `${sender}'s message to ${typeof room === 'string' ? room : show(room)}, a room ${who.label} is not in${rooms.length ? '' : ' (in no room at all)'}`;
        return `a second copy of ${sender}'s message`;
      };
      const none = (who: TestSocketIo, rooms: string[]): NothingMore => ({ only: isMessage, explain: (e) => `${who.label} got ${showCall(e.event, e.args)}: ${whyNot(who, rooms, e)}. ${rule}` });
      await expectNothingMore(ada, 'her own message back', none(ada, [a]));
      await expectNothingMore(dee, `a message of ${a}, where dee is not`, none(dee, [b]));
      await expectNothingMore(eve, 'a message of a room she is not in', none(eve, []));
      await expectNothingMore(bob, `a message of ${b}, where bob is not`, none(bob, [a]));
      await expectNothingMore(cy, 'his own message back', none(cy, [a, b]));
    });

    it('answers say with NOT_IN_ROOM from a client outside the room, and BAD_TEXT for a text that is not 1 to 500 characters; nothing is delivered', async () => {
      const room = unique('texts');
      const [ada, outsider, bob] = await clients('ada', 'otto', 'bob');
      await join(ada, room, ['ada']);
      await expectRefused(outsider, 'say', [room, 'let me in'], 'NOT_IN_ROOM', `otto is not a member of ${room}`);
      await join(bob, room, ['ada', 'bob']);
      await expectNotice(ada, 'joined', { room, name: 'bob' }, 'bob joined');
      // text.length counts UTF-16 code units, spaces around included: an emoji counts 2, "é" 1 (two bytes in UTF-8).
      const emoji = '\u{1F600}';
      const texts = ['', '   ', 'x'.repeat(501), ' ' + 'x'.repeat(499) + ' ', emoji.repeat(250) + 'x', 42, null, { text: 'nested' }];
      await Promise.all(
        texts.map((text) => expectRefused(bob, 'say', [room, text], 'BAD_TEXT', 'a text is a string of 1 to 500 characters (text.length, spaces around included, an emoji counting 2), not only whitespace')),
      );
      await expectNothingMore(ada, 'a message that was refused', {
        only: isMessage,
        explain: (e) => `ada got ${showCall(e.event, e.args)}, a message your server refused (otto is not in ${room}, or the text was bad): check membership and the text before sending (socket.to(room) works from outside the room too)`,
      });
      const longest = ' ' + 'x'.repeat(498) + ' ';
      await expectOk(bob, 'say', [room, longest], 'a text of exactly 500 characters, a space at each end included');
      await expectNotice(ada, 'message', { room, from: 'bob', text: longest }, 'a text of 500 characters with a space at each end, delivered exactly as sent (not trimmed)');
      await expectOk(bob, 'say', [room, 'é'.repeat(500)], 'a text of 500 × "é": text.length is 500, although it takes 1000 bytes in UTF-8; the limit counts text.length, not bytes');
      await expectNotice(ada, 'message', { room, from: 'bob', text: 'é'.repeat(500) }, 'a text of 500 × "é"');
    });
  });

  describe('leaving', () => {
    it('leave: the others get left, the leaver is off the list and gets nothing more from the room; leaving a room it is not in is NOT_IN_ROOM', async () => {
      const [room, other] = [unique('leave'), unique('elsewhere')];
      const [ada, bob, nia] = await clients('ada', 'bob', 'nia'); // nia is in no room
      await join(ada, room, ['ada']);
      await join(bob, room, ['ada', 'bob']);
      await expectNotice(ada, 'joined', { room, name: 'bob' }, 'bob joined');
      const reply = await expectOk(bob, 'leave', [room], `bob is in ${room}`);
      if (reply.room !== room) throw new GradingFailure(`bob sent leave(${show(room)}) and got ${show(reply)}: expected { ok: true, room: ${show(room)} }`);
      await expectNotice(ada, 'left', { room, name: 'bob' }, 'bob left');
      await expectNothingMore(nia, `bob leaving ${room}, where nia is not`, {
        only: isLeft,
        explain: (e) => `nia, in no room, got ${showCall(e.event, e.args)}: a notice to a client who is not a member of ${room}. left goes to the room's remaining members only (socket.to(room), not socket.broadcast)`,
      });
      await expectMembers(ada, room, ['ada'], 'after bob left');
      await expectOk(ada, 'say', [room, 'bob is gone'], `ada is still in ${room}`);
      await expectNothingMore(bob, `a message of ${room}, which he left`, {
        only: (e) => isMessage(e) || isLeft(e),
        explain: (e) => (isLeft(e) ? `bob got ${showCall(e.event, e.args)}: the one who leaves learns of it from the answer; left goes to those who stay` : undefined),
      });
      await expectRefused(bob, 'leave', [room], 'NOT_IN_ROOM', `bob left ${room} already`);
      await expectRefused(bob, 'leave', [other], 'NOT_IN_ROOM', `bob never joined ${other}`);
      await expectNothingMore(ada, 'a second left notice', { only: isLeft, explain: (e) => `ada got ${showCall(e.event, e.args)} again, for a leave answered NOT_IN_ROOM: a refused leave tells nobody anything` });
      await join(bob, room, ['ada', 'bob'], `joining ${room} again: last in the list`);
      await expectOk(ada, 'leave', [room], `ada is in ${room}`);
      await join(ada, room, ['bob', 'ada'], `joining ${room} again after leaving it, where she was first: a client who leaves and joins again is last in the list`);
    });

    it('a member who disconnects, politely or because its connection drops, leaves every room it was in: each room hears it left, once, and lists it no more', async () => {
      const [a, b] = [unique('first'), unique('second')];
      const [ada, cy, eli, bob, dan] = await clients('ada', 'cy', 'eli', 'bob', 'dan'); // eli shares both rooms with bob and dan
      await join(ada, a, ['ada']);
      await join(cy, b, ['cy']);
      await join(eli, a, ['ada', 'eli']);
      await join(eli, b, ['cy', 'eli'], 'a second room');
      await join(bob, a, ['ada', 'eli', 'bob']);
      await join(bob, b, ['cy', 'eli', 'bob'], 'a second room');
      await join(dan, a, ['ada', 'eli', 'bob', 'dan']);
      await join(dan, b, ['cy', 'eli', 'bob', 'dan'], 'a second room');
      for (const name of ['bob', 'dan']) {
        await expectNotice(ada, 'joined', { room: a, name }, `${name} joined`);
        await expectNotice(cy, 'joined', { room: b, name }, `${name} joined`);
      }
      bob.close(); // a Socket.IO disconnect
      dan.dropTransport(); // no goodbye: the connection is cut
      const hint = "announce departures in 'disconnecting', where socket.rooms still holds the rooms ('disconnect' comes after Socket.IO took the socket out of them all)";
      const watchers = [[ada, a], [cy, b], [eli, a], [eli, b]] as const;
      /** The other room, when the other watcher heard `name` leave it. */
      const heardElsewhere = (name: string, room: string) =>
        watchers.find(([other, itsRoom]) => itsRoom !== room && other.received.some((e) => isLeft(e) && (e.args[0] as { name?: unknown } | undefined)?.name === name))?.[1];
      for (const [client, room] of watchers) {
        for (const [name, how] of [['bob', 'disconnected'], ['dan', 'lost his connection']]) {
          await expectNotice(client, 'left', { room, name }, `${name}, who was in ${a} and ${b}, ${how}`).catch((err: unknown) => {
            const elsewhere = heardElsewhere(name, room);
            const heardOnce = client.received.some((e) => isLeft(e) && (e.args[0] as { name?: unknown; room?: unknown } | undefined)?.name === name);
            const advice = heardOnce
              ? `${client.label} shares ${a} and ${b} with ${name}, and heard it leave only one of them: each room hears it, so a member of both rooms gets one left for each room (not one per client)`
              : elsewhere
              ? `Each room a disconnected member was in hears it left: ${name}'s departure was announced in ${elsewhere} but not in ${room} (go through every room of socket.rooms in 'disconnecting', not only the first)`
              : `Every room a disconnected member was in hears it left: ${hint}`;
            throw new GradingFailure(`${(err as Error).message.replace(/\.+$/, '')}. ${advice}`);
          });
        }
      }
      await expectMembers(ada, a, ['ada', 'eli'], 'after bob and dan disconnected');
      await expectMembers(cy, b, ['cy', 'eli'], 'after bob and dan disconnected');
      for (const [client, rooms] of [[ada, [a]], [cy, [b]], [eli, [a, b]]] as const) {
        await expectNothingMore(client, 'a second left notice', {
          only: isLeft,
          explain: (e) => {
            const { room } = (e.args[0] ?? {}) as { room?: unknown };
            if (typeof room !== 'string' || !(rooms as readonly string[]).includes(room)) {
              return `${client.label} got ${showCall(e.event, e.args)}: a notice to a client who is not a member of ${typeof room === 'string' ? room : show(room)} (${client.label} is in ${rooms.join(' and ')} only). left goes to the remaining members of each room the leaver was in (socket.to(room), not socket.broadcast)`;
            }
            return `${client.label} got ${showCall(e.event, e.args)} after it had already heard that one left ${room}: one notice per room`;
          },
        });
      }
    });
  });

  describe('transports and odd emits', () => {
    it('serves a member on HTTP long-polling like the others', async () => {
      const room = unique('polling');
      const [ada, polly] = await Promise.all([
        connect('ada'),
        connect('polly', { transports: ['polling'] }).catch((err: unknown) => {
          throw new GradingFailure(`${(err as Error).message}. A client limited to HTTP long-polling could not connect: keep both of Socket.IO's transports (do not set transports: ['websocket'] on the Server)`);
        }),
      ]);
      await join(ada, room, ['ada']);
      await join(polly, room, ['ada', 'polly']);
      await expectNotice(ada, 'joined', { room, name: 'polly' }, 'polly joined, over long-polling');
      await expectOk(ada, 'say', [room, 'hi polly'], `ada is in ${room}`);
      await expectNotice(polly, 'message', { room, from: 'ada', text: 'hi polly' }, `ada's message, to a client on long-polling`);
      await expectOk(polly, 'say', [room, 'hi ada'], `polly is in ${room}`);
      await expectNotice(ada, 'message', { room, from: 'polly', text: 'hi ada' }, `polly's message, sent over long-polling`);
    });

    it('carries out events sent without a callback, and survives something else in its place and unknown events', async () => {
      const room = unique('odd');
      const [ada, quiet] = await clients('ada', 'quinn');
      await join(ada, room, ['ada']);
      quiet.emit('join', room);
      await expectNotice(ada, 'joined', { room, name: 'quinn' }, 'quinn joined without a callback');
      quiet.emit('say', room, 'no callback here');
      await expectNotice(ada, 'message', { room, from: 'quinn', text: 'no callback here' }, 'a say without a callback');
      quiet.emit('members', room, 42);
      quiet.emit('say', room, 'a string where the callback goes', 'oops');
      const answered: string[] = [];
      // An unknown event with a callback: not answered, not even with a refusal.
      quiet.socket.emit('dance', room, (...reply: unknown[]) => answered.push(`${showCall('dance', [room])} with ${reply.map(show).join(', ')}`));
      quiet.emit('constructor');
      await expectNotice(ada, 'message', { room, from: 'quinn', text: 'a string where the callback goes' }, 'a say with a string where the callback goes').catch((err: unknown) =>
        explainCrash(err, 'when a client sent a number or a string where the callback goes, or an event it does not know. Check typeof callback === "function" before calling it'),
      );
      // quinn's join came without a callback: give it up to a second to show in the list (a handler may await before it joins).
      const expected = ['ada', 'quinn'];
      const listed = await askUntil(() => expectOk(ada, 'members', [room], 'after the odd emits'), (reply) => show(reply.members) === show(expected));
      if (!listed.held) throw new GradingFailure(`ada sent members(${show(room)}) (after quinn joined without a callback, and the odd emits) and expected { ok: true, room: ${show(room)}, members: ${show(expected)} } within 1 s, but got ${show(listed.answer)}`);
      // quinn's requests are read in order: an answer to the unknown event would have come before this one.
      await request(quiet, 'members', [room], 'after an unknown event sent with a callback');
      if (answered.length) throw new GradingFailure(`quinn emitted an event your server has no handler for, with a callback, and your server called it: ${answered.join('; ')}. Ignore events with other names: no answer, not even a refusal`);
    });
  });
});
