// Black-box tests of a chat server run as two instances (exercise.json "instances": 2) that share
// one Redis: clients on each instance, broadcasts and room messages that must cross from one to the
// other, and the list of who is online asked on either. A failure names the instance, and when an
// instance wrote why it is failing (an error from Redis, a refused connection) the message quotes it.
import { afterEach, describe, it as vitestIt } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentGrade, describeExit, explainFailures, GradingFailure, learnerServer, oncePerGrade, show, type LearnerProcess, type TestSocketIo } from '../../sandbox-server/src/grading-kit/index.ts';

type Json = Record<string, unknown>;
type Instance = 0 | 1;

/** How the instances are named to the learner: 1 and 2. */
const nameOf = (instance: Instance) => `instance ${instance + 1}`;

/** Names no earlier test used, so a test's who-lists and rooms hold only its own clients. */
const fresh = () => oncePerGrade('fresh', () => ({ n: 0 }));
const testTag = () => `t${++fresh().n}`;

/** This test's clients, closed when it ends (so the next test's who-lists do not hold them). */
const opened = () => oncePerGrade('opened', (): TestSocketIo[] => []);

/** The instance each client is connected to (the objects are this grade's own). */
const instanceOf = new WeakMap<TestSocketIo, Instance>();
const nameFor = new WeakMap<TestSocketIo, string>();

async function connect(instance: Instance, name: string): Promise<TestSocketIo> {
  const client = await (await learnerServer(instance)).connectSocketIo({ label: `${name} (on ${nameOf(instance)})`, auth: { name } });
  opened().push(client);
  instanceOf.set(client, instance);
  nameFor.set(client, name);
  return client;
}

async function ack(client: TestSocketIo, event: string, args: unknown[]): Promise<Json> {
  const [reply] = await client.emitWithAck(event, args);
  return reply as Json;
}

async function expectOk(client: TestSocketIo, event: string, args: unknown[], expected: Json = { ok: true }): Promise<Json> {
  const reply = await ack(client, event, args);
  const differs = Object.keys(expected).some((k) => show(reply?.[k]) !== show(expected[k]));
  if (differs) throw new GradingFailure(`${client.label} sent ${event}(${args.map(show).join(', ')}) and expected the ack ${show(expected)}, but got ${show(reply)}`);
  return reply;
}

const say = (client: TestSocketIo, text: string, room?: string) => expectOk(client, 'say', [room === undefined ? { text } : { text, room }]);

/** The test tag in a client's name ("t3" in "t3-ada"). */
const tagOf = (client: TestSocketIo): string => nameFor.get(client)!.split('-')[0];

/**
 * The next message event `client` got, passing over messages from an earlier test's clients: a
 * broadcast crosses to the other instance through Redis, so one that an earlier test made (to everyone,
 * where a wrong server sent it) may reach a client of this test that connected meanwhile.
 */
async function nextMessage(client: TestSocketIo, what: string): Promise<unknown[]> {
  const own = `${tagOf(client)}-`;
  const fromEarlierTest = (from: unknown) => typeof from === 'string' && /^t\d+-/.test(from) && !from.startsWith(own);
  const event = await client.expectEvent((e) => e.event === 'message' && !fromEarlierTest((e.args[0] as Json | undefined)?.from), { what });
  return event.args;
}

/** The message a client on the other instance should have got: names the likely cause when it did not come. */
async function expectChat(client: TestSocketIo, from: TestSocketIo, expected: { from: string; text: string; room: string | null }, crossing: boolean): Promise<void> {
  let got: Json;
  try {
    [got] = (await nextMessage(client, `the message ${show(expected)} that ${from.label} sent`)) as [Json];
  } catch (err) {
    if (!crossing || !(err instanceof GradingFailure)) throw err;
    throw new GradingFailure(`${err.message}${ADAPTER_HINT}`);
  }
  const differs = Object.keys(expected).filter((k) => show(got?.[k]) !== show(expected[k as keyof typeof expected]));
  if (differs.length) {
    const own = got?.from === nameFor.get(client) ? ': its own message came back (a broadcast goes to everyone but the sender: socket.broadcast.emit, socket.to(room).emit)' : '';
    throw new GradingFailure(`${client.label} expected the message ${show(expected)} (sent by ${from.label}), but got ${show(got)}${own}`);
  }
}

/** Fails unless the next message `client` gets is `marker` (sent by `sender` to everyone): nothing else came before it. */
async function nextIsMarker(client: TestSocketIo, sender: TestSocketIo, marker: string, forbidden: string): Promise<void> {
  let got: Json;
  try {
    [got] = (await nextMessage(client, `the message "${marker}" that ${sender.label} sent to everyone`)) as [Json];
  } catch (err) {
    if (!(err instanceof GradingFailure) || instanceOf.get(client) === instanceOf.get(sender)) throw err;
    throw new GradingFailure(`${err.message}${ADAPTER_HINT}`);
  }
  if (got?.text === marker) return;
  if (got?.from === nameFor.get(client)) throw new GradingFailure(`${client.label} got its own message back: ${show(got)}, before the message "${marker}" that ${sender.label} sent to everyone. A message goes to everyone but its sender (socket.broadcast.emit, socket.to(room).emit; not io.emit)`);
  throw new GradingFailure(`${client.label} should not have received ${forbidden}, but got ${show(got)} before the message "${marker}" that everyone got next`);
}

/** who's answer: this test's own names (sorted), and the whole list as it came, for messages. */
async function whoOn(client: TestSocketIo, request: Json, tag: string): Promise<{ mine: string[]; all: unknown[] }> {
  const reply = await ack(client, 'who', [request]);
  if (reply?.ok !== true || !Array.isArray(reply.users)) throw new GradingFailure(`${client.label} sent who(${show(request)}) and expected {"ok":true,"users":[…]}, but got ${show(reply)}`);
  // Only this test's own names: clients of earlier tests may still be on their way out.
  const all = reply.users as unknown[];
  return { mine: all.filter((u): u is string => typeof u === 'string' && u.startsWith(`${tag}-`)).sort(), all };
}

/** Each name of `want` as often as it is missing from `got` (names may repeat: one per connection). */
function missingFrom(got: string[], want: string[]): string[] {
  const left = [...got];
  return want.filter((name) => {
    const at = left.indexOf(name);
    if (at === -1) return true;
    left.splice(at, 1);
    return false;
  });
}

async function expectWho(client: TestSocketIo, request: Json, tag: string, expected: string[], what: string): Promise<void> {
  const { mine, all } = await whoOn(client, request, tag);
  const want = [...expected].sort();
  if (show(mine) === show(want)) return;
  const missing = missingFrom(mine, want);
  const whole = all.length !== mine.length ? ` (the whole list: ${show(all)})` : '';
  let why = '';
  // Only names it has, but fewer times than connections carry them: a list made unique.
  if (missing.length && missing.every((name) => mine.includes(name))) why = ` Names need not be unique: users has one name per connection, so ${show([...new Set(missing)])} comes once for each connection that has it.`;
  else if (show(missing) === show([nameFor.get(client)])) why = ` The asker's own name is missing: who lists every client, the one that asks included.`;
  else if (missing.length) why = ` Missing: ${show(missing)}. io.fetchSockets() asks every instance through the adapter and gives each socket's socket.data: keep the name in socket.data.name (what one instance keeps for itself, in a Map or io.of('/').sockets, the other cannot see).`;
  throw new GradingFailure(`${client.label} sent who(${show(request)}) and expected ${what}: ${show(want)} (in any order), but the list held ${show(mine)}${whole}.${why}`);
}

/** vitest's it(), quoting what an instance said (or how it ended) when a test fails. */
function it(name: string, body: () => Promise<void>): void {
  vitestIt(name, explainFailures(explain)(body));
}

/** The instances' processes, in the order the grader started them (instance 1 first). */
const instances = (): LearnerProcess[] => currentGrade().processes;

const ADAPTER_HINT =
  ' A client on one instance did not receive what a client on the other instance broadcast: is the Redis adapter installed on both (new Server({ adapter: createAdapter(pub, sub) })), with both Redis clients connected before createAdapter (await Promise.all([pub.connect(), sub.connect()]))? Without it a broadcast reaches only the clients of the instance it was sent on, and so it does with .local (socket.broadcast.local, io.local), which keeps a broadcast on one instance.';

/** What went wrong with Redis, from what the instances printed (an error line and what to do), or undefined. */
function redisTrouble(output: string): string | undefined {
  const line = /^.*(?:Can't execute|ECONNREFUSED|getaddrinfo|NOAUTH|WRONGPASS|ClientClosedError|SocketClosedUnexpectedly).*$/m.exec(output)?.[0].trim();
  if (!line) return undefined;
  // createClient() without a url tries localhost:6379: refused, or (in the sandbox, which has no hosts file) not even resolved.
  if (/6379|getaddrinfo.*localhost/.test(line)) return `Your program tried Redis at localhost:6379, createClient()'s default, and printed: ${line}. Each grading has a Redis of its own: createClient({ url: process.env.REDIS_URL }).`;
  if (/Can't execute/.test(line)) return `Your program printed: ${line}. A node-redis client that has subscribed can only (un)subscribe: the adapter needs two clients, one to publish and one to subscribe (const sub = pub.duplicate()).`;
  if (/NOAUTH|WRONGPASS/.test(line)) return `Your program printed: ${line}. REDIS_URL holds the password: pass the whole URL, createClient({ url: process.env.REDIS_URL }).`;
  return `Your program printed: ${line}`;
}

/**
 * Adds to a failure what the instances said about Redis and which one stopped. A failure that is
 * only the consequence (the server never listened, or is gone) keeps its first sentence, and the
 * cause (or each stopped instance's end) replaces the kit's output tail.
 */
async function explain(err: unknown): Promise<unknown> {
  if (!(err instanceof GradingFailure)) return err;
  // A connection that closed because its instance died can be seen a moment before the exit is.
  if (/disconnected|ECONNREFUSED/.test(err.message) && !instances().some((p) => p.hasExited)) await Promise.race([...instances().map((p) => p.exited), sleep(300)]);
  const trouble = redisTrouble(instances().map((p) => p.stdout + p.stderr).join('\n'));
  const stopped = instances().flatMap((p, i) => (p.hasExited ? [{ p, name: nameOf(i as Instance) }] : []));
  if (!trouble && !stopped.length) return err;
  let message = err.message.replace(ADAPTER_HINT, '');
  const consequence = /^your server (?:did not accept connections.*?\.\s|is no longer running:|stopped before it listened.*?:)/s.exec(message);
  if (consequence) message = consequence[0].trim();
  const notes = [/[.!?:]$/.test(message) ? message : `${message}.`];
  for (const { p, name } of stopped) {
    const exit = await p.exited;
    const how = exit.limit ?? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode}`);
    // With the cause known, how it ended is enough; otherwise its last output shows why.
    if (trouble) notes.push(`(${name} stopped, ${how}.)`);
    else notes.push(`${consequence ? '' : 'Meanwhile '}${name} stopped: ${describeExit(p, exit).replace(/^your program /, 'it ')}`);
  }
  if (trouble) notes.push(trouble);
  return new GradingFailure(notes.join(' '));
}

describe('chat server on two instances', () => {
  afterEach(() => {
    for (const client of opened().splice(0)) client.close();
  });

  it('both instances take connections with auth.name and refuse one without a name (connect_error, data.code "BAD_NAME")', async () => {
    const tag = testTag();
    const longest = `${tag}-bob`.padEnd(32, '-');
    await Promise.all([
      connect(0, `${tag}-ada`),
      connect(1, longest).catch((err: unknown) => {
        throw err instanceof GradingFailure ? new GradingFailure(`${err.message} (auth {"name":${show(longest)}}: 32 characters, the longest allowed)`) : err;
      }),
    ]);
    const attempts = ([0, 1] as Instance[]).flatMap((instance) => [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(33) }, { name: 42 }].map((auth) => ({ instance, auth })));
    const refusals = await Promise.all(attempts.map(async ({ instance, auth }) => (await learnerServer(instance)).connectSocketIoRefused({ label: `newcomer (on ${nameOf(instance)})`, auth })));
    refusals.forEach((refusal, i) => {
      const { instance, auth } = attempts[i];
      if ((refusal.data as Json | undefined)?.code !== 'BAD_NAME') {
        throw new GradingFailure(`newcomer connected to ${nameOf(instance)} with auth ${show(auth)}; expected connect_error with data { code: "BAD_NAME" }, but got "${refusal.message}" with data ${show(refusal.data)}`);
      }
    });
  });

  it('answers a bad text with BAD_TEXT and a bad room with BAD_ROOM; no request, malformed or without a callback, stops an instance', async () => {
    const tag = testTag();
    const clients = await Promise.all([connect(0, `${tag}-ada`), connect(1, `${tag}-bob`)]);
    const refused: [string, unknown, string][] = [
      ['say', { text: '' }, 'BAD_TEXT'],
      ['say', { text: 'a text of 501 characters'.padEnd(501, '.') }, 'BAD_TEXT'],
      ['say', { text: 42 }, 'BAD_TEXT'],
      ['say', { text: '', room: 'two words' }, 'BAD_TEXT'],
      ['say', { text: 'fine', room: 'two words' }, 'BAD_ROOM'],
      ['say', { text: 'fine', room: '' }, 'BAD_ROOM'],
      ['say', { text: 'fine', room: 'x'.repeat(33) }, 'BAD_ROOM'],
      ['join', 'bad room', 'BAD_ROOM'],
      ['join', 42, 'BAD_ROOM'],
      ['leave', '', 'BAD_ROOM'],
      ['who', { room: 'no/slash' }, 'BAD_ROOM'],
      ['who', { room: '' }, 'BAD_ROOM'],
    ];
    for (const client of clients) {
      // Emitted without a callback first: nobody to answer, and nothing may throw. The room of
      // the valid say has no members, so its message reaches nobody.
      for (const [event, ...args] of [['say', { text: 'no callback', room: `${tag}-nobody` }], ['say', null], ['say', 'hello'], ['join'], ['leave', null], ['who'], ['who', null]] as [string, ...unknown[]][]) client.emit(event, ...args);
      for (const [event, arg, code] of refused) {
        const reply = await ack(client, event, [arg]);
        if (reply?.ok !== false || (reply.error as Json | undefined)?.code !== code) {
          throw new GradingFailure(`${client.label} sent ${event}(${show(arg)}) and expected {"ok":false,"error":{"code":"${code}","message":…}}, but got ${show(reply)}`);
        }
      }
      // Answered after everything before it on this connection was handled: the instance still serves.
      await whoOn(client, {}, tag);
    }
  });

  it('a broadcast from a client on one instance reaches every other client on both instances, not the sender', async () => {
    const tag = testTag();
    const [ada, bob, cy, dee] = await Promise.all([connect(0, `${tag}-ada`), connect(0, `${tag}-bob`), connect(1, `${tag}-cy`), connect(1, `${tag}-dee`)]);
    await say(ada, 'hello from instance 1');
    const fromAda = { from: `${tag}-ada`, text: 'hello from instance 1', room: null };
    await expectChat(cy, ada, fromAda, true);
    await expectChat(dee, ada, fromAda, true);
    await expectChat(bob, ada, fromAda, false);
    await say(cy, 'hello from instance 2');
    const fromCy = { from: `${tag}-cy`, text: 'hello from instance 2', room: null };
    await expectChat(ada, cy, fromCy, true);
    await expectChat(bob, cy, fromCy, true);
    await expectChat(dee, cy, fromCy, false);
    await say(bob, 'marker');
    for (const sender of [ada, cy]) await nextIsMarker(sender, bob, 'marker', 'its own message back (a broadcast goes to everyone but the sender: socket.broadcast.emit)');
  });

  it("a message to a room reaches exactly the room's other members, on both instances", async () => {
    const tag = testTag();
    const room = `${tag}-room`.padEnd(32, '_'); // the longest allowed
    const [ada, out0, bob, out1, other] = await Promise.all([connect(0, `${tag}-ada`), connect(0, `${tag}-out0`), connect(1, `${tag}-bob`), connect(1, `${tag}-out1`), connect(1, `${tag}-other`)]);
    await Promise.all([expectOk(ada, 'join', [room], { ok: true, room }), expectOk(bob, 'join', [room], { ok: true, room }), expectOk(other, 'join', [`${tag}-elsewhere`], { ok: true, room: `${tag}-elsewhere` })]);
    await say(ada, 'for the room only', room);
    await expectChat(bob, ada, { from: `${tag}-ada`, text: 'for the room only', room }, true);
    const answer = 'answer in the room, 500 characters: the longest allowed'.padEnd(500, '.');
    await say(bob, answer, room);
    await expectChat(ada, bob, { from: `${tag}-bob`, text: answer, room }, true);
    await say(out0, 'marker');
    for (const client of [out1, other]) await nextIsMarker(client, out0, 'marker', `the messages sent to the room "${room}", which it is not in (socket.to(room).emit reaches the room's members only)`);
    await say(out1, 'marker 2');
    await nextIsMarker(out0, out1, 'marker 2', `the messages sent to the room "${room}", which it is not in`);
    for (const [client, own] of [[ada, 'for the room only'], [bob, 'answer in the room, …']] as const) {
      await nextIsMarker(client, out0, 'marker', `its own message "${own}" back (a room message goes to the others in the room)`);
    }
  });

  it('a client that left a room gets no more of its messages, on either instance', async () => {
    const tag = testTag();
    const room = `${tag}-room`;
    const stays = `${tag}-stays`;
    const never = `${tag}-never-joined`;
    const [ada, bob, cy] = await Promise.all([connect(0, `${tag}-ada`), connect(1, `${tag}-bob`), connect(0, `${tag}-cy`)]);
    await Promise.all([
      ...[ada, bob, cy].map((member) => expectOk(member, 'join', [room], { ok: true, room })),
      ...[ada, bob].map((member) => expectOk(member, 'join', [stays], { ok: true, room: stays })),
    ]);
    // Leaving a room one is not in changes nothing, and is no error.
    await Promise.all([...[bob, cy].map((member) => expectOk(member, 'leave', [room], { ok: true, room })), expectOk(cy, 'leave', [never], { ok: true, room: never })]);
    await say(ada, 'to the room bob stays in', stays);
    await say(ada, 'after they left', room);
    await say(ada, 'marker');
    // bob left one room of two: the other's message comes first (a leave that left every room shows here).
    const [forStays] = (await nextMessage(bob, `the message to "${stays}", which it is still in`).catch((err: unknown) => {
      throw err instanceof GradingFailure ? new GradingFailure(`${err.message}${ADAPTER_HINT}`) : err;
    })) as [Json];
    if (forStays?.text !== 'to the room bob stays in') {
      throw new GradingFailure(`${bob.label} was in "${room}" and "${stays}" and left "${room}" only; it expected ${ada.label}'s message to "${stays}" first, but got ${show(forStays)}. leave takes one room: socket.leave(room), not every room`);
    }
    for (const client of [bob, cy]) await nextIsMarker(client, ada, 'marker', `"after they left", sent to "${room}" after it had left it (socket.leave(room))`);
    await expectWho(ada, { room }, tag, [`${tag}-ada`], `the members of "${room}" after bob and cy left`);
  });

  it('who lists everyone connected to either instance, one name per connection (names may repeat), and who with a room its members on both, asked on either instance', async () => {
    const tag = testTag();
    const room = `${tag}-room`;
    // Two connections named ada, one on each instance: names need not be unique.
    const [ada, bob, cy, dee] = await Promise.all([connect(0, `${tag}-ada`), connect(0, `${tag}-bob`), connect(1, `${tag}-cy`), connect(1, `${tag}-dee`), connect(1, `${tag}-ada`)]);
    await Promise.all([bob, dee].map((member) => expectOk(member, 'join', [room], { ok: true, room })));
    const everyone = [`${tag}-ada`, `${tag}-ada`, `${tag}-bob`, `${tag}-cy`, `${tag}-dee`];
    await expectWho(cy, {}, tag, everyone, 'everyone connected to both instances');
    await expectWho(ada, {}, tag, everyone, 'everyone connected to both instances');
    await expectWho(ada, { room }, tag, [`${tag}-bob`, `${tag}-dee`], `the members of "${room}" on both instances`);
    await expectWho(dee, { room }, tag, [`${tag}-bob`, `${tag}-dee`], `the members of "${room}" on both instances`);
  });

  it('a client that disconnects, or whose connection drops, leaves the lists of both instances', async () => {
    const tag = testTag();
    const room = `${tag}-room`;
    const [ada, bob, cy] = await Promise.all([connect(0, `${tag}-ada`), connect(1, `${tag}-bob`), connect(1, `${tag}-cy`)]);
    await Promise.all([bob, cy].map((member) => expectOk(member, 'join', [room], { ok: true, room })));
    bob.close();
    cy.dropTransport();
    // The instance hears of a dropped connection when its TCP connection closes: a moment, not a timeout.
    let last: string[] = [];
    const gone = await waitUntilAsync(async () => (last = (await whoOn(ada, {}, tag)).mine).length === 1, 1500);
    if (!gone) {
      const held = last.includes(`${tag}-ada`) ? `the list still held ${show(last)}` : `the list held ${show(last)}: the asker's own name is missing (who lists every client, the one that asks included)`;
      throw new GradingFailure(`${tag}-bob closed its connection to ${nameOf(1)} and ${tag}-cy's connection dropped; ${ada.label} sent who({}) and expected only ${show([`${tag}-ada`])} within 1.5 s, but ${held}`);
    }
    await expectWho(ada, { room }, tag, [], `the members of "${room}" after both its members went`);
  });
});

/** Polls an async condition (each poll a round trip) until it holds or `within` ms passed. */
async function waitUntilAsync(ready: () => Promise<boolean>, within: number): Promise<boolean> {
  const deadline = Date.now() + within;
  while (!(await ready())) {
    if (Date.now() >= deadline) return false;
    await sleep(20); // a poll interval, not a guess
  }
  return true;
}
