// Black-box tests of the delivery server (instructions.md) with socket.io-client: senders that
// retry (one after another, all at once, out of order), connections cut before an ack arrives, and
// recipients that acknowledge some messages and not others, then come back. Each test uses its own
// user names, so the server's memory of earlier tests never meets a later one.
import { describe, it as vitestIt } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeExit, explainFailures, GradingFailure, learnerServer, oncePerGrade, show, type ReceivedEvent, type TestSocketIo } from '../../sandbox-server/src/grading-kit/index.ts';

type Json = Record<string, unknown>;
type Ack = (...args: unknown[]) => void;

interface Received {
  message: Json;
  ack: Ack | undefined;
}

/** Names no earlier test of this grade used: each test starts with users the server has never seen. */
const fresh = () => oncePerGrade('fresh', () => ({ n: 0 }));
const user = (name: string) => `${name}${++fresh().n}`;

/** vitest's it(), adding how the server ended when a test failed because it stopped. */
function it(name: string, body: () => Promise<void>): void {
  vitestIt(name, explainFailures(explainCrash)(body));
}

async function explainCrash(err: unknown): Promise<unknown> {
  if (!(err instanceof GradingFailure) || /no longer running/.test(err.message)) return err;
  const server = await learnerServer().catch(() => undefined);
  if (!server) return err;
  // A connection that closed because the process died can be seen a moment before its exit is.
  if (/disconnected|ECONNREFUSED|could not connect/.test(err.message)) await Promise.race([server.process.exited, sleep(300)]);
  if (!server.process.hasExited) return err;
  const exit = describeExit(server.process, await server.process.exited).replace(/^your program/, 'your server');
  return new GradingFailure(`${err.message.replace(/\.+$/, '')}. Meanwhile ${exit} Nothing a client sends may stop the server.`);
}

/** A marker id no earlier send of this grade used. */
const markerId = () => `marker-${++fresh().n}`;

/** Fast reconnection for the tests that let socket.io-client reconnect by itself. */
const QUICK_RECONNECT = { reconnectionDelay: 1, reconnectionDelayMax: 5, randomizationFactor: 0 };

async function connect(name: string, { reconnect = false }: { reconnect?: boolean } = {}): Promise<TestSocketIo> {
  return (await learnerServer()).connectSocketIo({ label: name, auth: { user: name }, reconnection: reconnect, extra: reconnect ? QUICK_RECONNECT : {} });
}

/** A message without the acknowledgement callback socket.io-client appends, for messages. */
const payloadOf = (e: ReceivedEvent) => e.args.find((a) => typeof a !== 'function') as Json;
const showMessage = (m: Json) => show(m);

/** Emits send with an ack and returns the server's reply. */
async function send(client: TestSocketIo, request: unknown, what?: string): Promise<Json> {
  const [reply] = await client.emitWithAck('send', [request], { what });
  return reply as Json;
}

/** Sends and fails unless the reply is { ok: true, id, seq } with this seq. */
async function sendAccepted(client: TestSocketIo, request: Json, seq: number, why = ''): Promise<Json> {
  const reply = await send(client, request);
  expectAccepted(client, request, reply, seq, why);
  return reply;
}

function expectAccepted(client: TestSocketIo, request: unknown, reply: Json, seq: number, why = '', hint = ''): void {
  const r = request as Json;
  if (reply?.ok !== true || reply.id !== r.id || reply.seq !== seq) {
    throw new GradingFailure(`${client.label} sent send(${show(request)}) and expected the ack {"ok":true,"id":${show(r.id)},"seq":${seq}}${why}, but got ${show(reply)}${hint}`);
  }
}

/** Why a retry answered with another seq than the first send's was taken for a new message. */
const RETRY_TAKEN_AS_NEW =
  ': a different seq means your server took the retry for a new message. Remember each id with its sender (auth.user, not socket.id: a retry may come on another connection), and keep it after answering: the ack may have been lost on the way';

/** Sends a retry and fails unless it gets the first send's answer. */
async function sendRetry(client: TestSocketIo, request: Json, seq: number, why: string, takenAsNewHint = RETRY_TAKEN_AS_NEW): Promise<void> {
  const reply = await send(client, request);
  const takenAsNew = reply?.ok === true && reply.id === request.id && typeof reply.seq === 'number' && reply.seq !== seq;
  expectAccepted(client, request, reply, seq, why, takenAsNew ? takenAsNewHint : '');
}

/** The next message event, with its ack callback (not called yet). */
async function nextMessage(client: TestSocketIo, what: string): Promise<Received> {
  const event = await client.expectEvent((e) => e.event === 'message', { what });
  return { message: payloadOf(event), ack: event.args.find((a): a is Ack => typeof a === 'function') };
}

function ackOf(client: TestSocketIo, received: Received): Ack {
  if (!received.ack) throw new GradingFailure(`${client.label} got ${showMessage(received.message)} without an acknowledgement callback: emit it with a callback (socket.emit('message', message, () => …)), which the recipient calls to confirm it`);
  return received.ack;
}

/** Fails unless `got` is the message { seq, id, from, text } (extra fields allowed). */
function expectMessage(client: TestSocketIo, got: Json, expected: Json, when: string): void {
  const differs = Object.keys(expected).filter((k) => show(got?.[k]) !== show(expected[k]));
  if (differs.length) throw new GradingFailure(`${client.label} expected the message ${show(expected)} ${when}, but got ${show(got)} (${differs.map((k) => `"${k}"`).join(', ')} differ${differs.length === 1 ? 's' : ''})`);
}

/**
 * Everything `recipient` receives until the marker message (sent by `marker` after the events the
 * test checks): each message is acked unless `keepUnacked` says so. Since one connection gets its
 * messages in seq order, anything sent twice, or left out, shows up before the marker.
 */
async function untilMarker(recipient: TestSocketIo, marker: { from: TestSocketIo; id: string; seq?: number; why?: string }, when: string, { ack = true }: { ack?: boolean } = {}): Promise<Json[]> {
  const request = { id: marker.id, to: recipient.label, text: 'marker' };
  if (marker.seq === undefined) await sendAny(marker.from, request);
  else await sendAccepted(marker.from, request, marker.seq, marker.why);
  return readUntilMarker(recipient, marker, when, { ack });
}

/** What `recipient` got before the marker, which was sent already (to every connection of its user). */
async function readUntilMarker(recipient: TestSocketIo, marker: { from: TestSocketIo; id: string }, when: string, { ack = true }: { ack?: boolean } = {}): Promise<Json[]> {
  const got: Json[] = [];
  for (;;) {
    const before = got.length ? `before it, it had received ${got.map(showMessage).join(', ')}` : 'nothing had come before it';
    const received = await nextMessage(recipient, `the marker message ${show(marker.id)} from ${marker.from.label} (sent ${when}); ${before}`);
    if (ack) ackOf(recipient, received)();
    if (received.message?.id === marker.id) {
      if (received.message?.from === marker.from.label) return got;
      // Marker ids are used once per grade: this is the marker, with another sender.
      throw new GradingFailure(`${recipient.label} got the marker message ${showMessage(received.message)} (sent ${when}), but its "from" is ${show(received.message?.from)}, not ${show(marker.from.label)}: "from" is the sender's user (auth.user), not its socket.id`);
    }
    got.push(received.message);
  }
}

async function sendAny(client: TestSocketIo, request: Json): Promise<void> {
  const reply = await send(client, request);
  if (reply?.ok !== true) throw new GradingFailure(`${client.label} sent the valid send(${show(request)}) and expected {"ok":true,…}, but got ${show(reply)}`);
}

/** Fails unless `got` holds exactly the messages with these ids from these senders, in this order. */
function expectSequence(client: TestSocketIo, got: Json[], expected: { from: string; id: string; seq?: number }[], when: string, hint = ''): void {
  const shown = (m: { from: unknown; id: unknown; seq?: unknown }) => `${m.from}/${m.id}${m.seq !== undefined ? ` (seq ${m.seq})` : ''}`;
  const matches = (m: Json, i: number) => m?.id === expected[i]?.id && m?.from === expected[i]?.from && (expected[i]?.seq === undefined || m?.seq === expected[i]?.seq);
  if (got.length === expected.length && got.every(matches)) return;
  const list = (items: { from: unknown; id: unknown; seq?: unknown }[]) => items.length ? shownAtMost(items.map(shown)) : 'no message';
  // In a long list, say where it first went wrong.
  const firstWrong = got.findIndex((m, i) => !matches(m, i));
  const where = expected.length > LONG_LIST ? ` (${got.length} messages; the first one that differs is number ${(firstWrong === -1 ? got.length : firstWrong) + 1})` : '';
  throw new GradingFailure(`${client.label} expected ${when}: ${list(expected)}; it got ${list(got as never)}${where} (sender/id). ${hint}`.trim());
}

/** Lists longer than this are shortened in messages. */
const LONG_LIST = 8;

function shownAtMost(items: string[]): string {
  if (items.length <= LONG_LIST) return items.join(', ');
  return [...items.slice(0, 3), `… ${items.length - 6} more …`, ...items.slice(-3)].join(', ');
}

/**
 * Makes sure the server has processed everything `client` sent before (acks included): the server
 * handles one connection's packets in order, so once a later send is answered, the earlier acks
 * were read.
 */
async function settled(client: TestSocketIo): Promise<void> {
  await sendAny(client, { id: `sync-${++fresh().n}`, to: `sink${fresh().n}`, text: 'sync' });
}

/**
 * Stops reading what the server sends on `client`'s current connection, as a stalled network
 * would: an ack on its way stays in the kernel's buffer and is lost when the connection is dropped.
 */
function stallIncoming(client: TestSocketIo): void {
  const transport = client.socket.io.engine?.transport as unknown as { ws?: { _socket?: { pause(): void } } } | undefined;
  const socket = transport?.ws?._socket;
  if (!socket) throw new Error('the test client has no WebSocket transport to stall (a fault in the test)');
  socket.pause();
}

/** Ids and unacknowledged messages a server must remember at least, per sender and per recipient. */
const KEPT = 100;

/** How old an unacknowledged message must be before the grader looks for a resend on a live connection. */
const RESEND_WINDOW_MS = 300;

/**
 * A connection opened early in the grade that gets one message and never acknowledges it. The last
 * test checks it got that message once: by then a resend on a timer would have come, with no wait
 * of its own (the tests in between take longer than RESEND_WINDOW_MS).
 */
interface Watcher {
  client: TestSocketIo;
  sender: TestSocketIo;
  message: Json;
  receivedAt: number;
}

function watcher(): Promise<Watcher> {
  return oncePerGrade('watcher', () => {
    const [name, senderName] = [user('watcher'), user('alice')];
    const started = (async () => {
      const [client, sender] = await Promise.all([connect(name), connect(senderName)]);
      await sendAny(sender, { id: 'keep-me', to: name, text: 'never acknowledged' });
      const { message } = await nextMessage(client, `the message keep-me from ${senderName}`);
      return { client, sender, message, receivedAt: Date.now() };
    })();
    started.catch(() => {}); // reported by the test that awaits it
    return started;
  });
}

/** Says why a backlog came late or not at all (a hint for the tests of a connection that opens). */
const NEWER_AFTER_BACKLOG = 'Send what the user has not acknowledged as its connection opens (in the connection handler), in seq order, before any newer message: the marker, sent after it connected, is newer. Emit it plainly: socket.volatile drops what a connection that just opened cannot send yet.';

describe('delivery server', () => {
  describe('handshake', () => {
    it('refuses a connection whose auth.user is missing or not 1 to 32 letters, digits, _ or - with a connect_error (data.code "BAD_USER"), and accepts a valid one', async () => {
      const server = await learnerServer();
      const refused = [{}, { user: '' }, { user: 'x'.repeat(33) }, { user: 'two words' }, { user: 42 }, { name: 'ada' }];
      const refusals = await Promise.all(refused.map((auth) => server.connectSocketIoRefused({ label: 'newcomer', auth })));
      refusals.forEach((refusal, i) => {
        if ((refusal.data as Json | undefined)?.code !== 'BAD_USER') {
          throw new GradingFailure(`newcomer connected with auth ${show(refused[i])} and was refused with "${refusal.message}" and data ${show(refusal.data)}; expected data { code: "BAD_USER" } (an Error with err.data = { code: 'BAD_USER' }, passed to next() in io.use)`);
        }
      });
      const longest = user('ok_user-').padEnd(32, '-');
      await connect(longest).catch((err: unknown) => {
        throw err instanceof GradingFailure ? new GradingFailure(`${err.message} (auth {"user":${show(longest)}}: 32 characters, the longest allowed)`) : err;
      });
    });
  });

  describe('sending', () => {
    it('acks a send with { ok: true, id, seq } and delivers { seq, id, from, text } to the recipient; seq counts 1, 2, 3… per recipient', async () => {
      void watcher(); // started now, checked by the last test
      const [alice, carol, bob, dave] = [user('alice'), user('carol'), user('bob'), user('dave')];
      const [a, c, b, d] = await Promise.all([alice, carol, bob, dave].map((name) => connect(name)));
      const sent = [
        { from: a, request: { id: 'm1', to: bob, text: 'hello bob' }, seq: 1, why: '' },
        { from: a, request: { id: 'm2', to: bob, text: 'second' }, seq: 2, why: '' },
        { from: c, request: { id: 'c1', to: bob, text: 'from carol' }, seq: 3, why: '' },
        { from: a, request: { id: 'm3', to: dave, text: 'hello dave' }, seq: 1, why: ` (dave's first message: seq counts per recipient)` },
        { from: c, request: { id: 'an-id-of-64-characters-'.padEnd(64, '-'), to: dave, text: 'a text of 1000 characters, each é one: '.padEnd(1000, 'é') }, seq: 2, why: ' (an id of 64 characters and a text of 1000, "é" included: the longest allowed; a length counts characters, not bytes)' },
        { from: a, request: { id: 'm4', to: dave, text: ' ' }, seq: 3, why: ' (a text of one space is 1 character: valid)' },
      ];
      for (const { from, request, seq, why } of sent) await sendAccepted(from, request, seq, why);
      for (const { from, request, seq } of sent) {
        const recipient = request.to === bob ? b : d;
        const got = await nextMessage(recipient, `the message ${show(request.id)} from ${from.label}`);
        expectMessage(recipient, got.message, { seq, id: request.id, from: from.label, text: request.text }, `after ${from.label} sent ${show(request)}`);
        ackOf(recipient, got)();
      }
    });

    it('answers a malformed send with { ok: false, error: { code: "BAD_MESSAGE" } } and relays nothing; a send without an ack callback is still relayed', async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const [a, b] = await Promise.all([alice, bob].map((name) => connect(name)));
      const bad: unknown[] = [
        null,
        'hello',
        { to: bob, text: 'no id' },
        { id: '', to: bob, text: 'empty id' },
        { id: 'x'.repeat(65), to: bob, text: 'long id' },
        { id: 7, to: bob, text: 'numeric id' },
        { id: 'b1', to: 'two words', text: 'bad recipient' },
        { id: 'b2', text: 'no recipient' },
        { id: 'b3', to: bob, text: '' },
        { id: 'b4', to: bob, text: 'x'.repeat(1001) },
        { id: 'b5', to: bob },
        { id: 'b6', to: 'x'.repeat(33), text: 'recipient of 33 characters' },
        { id: 'b7', to: bob, text: 42 },
      ];
      for (const request of bad) {
        const reply = await send(a, request);
        const error = reply?.error as Json | undefined;
        if (reply?.ok !== false || error?.code !== 'BAD_MESSAGE') {
          throw new GradingFailure(`${a.label} sent send(${show(request)}) and expected {"ok":false,"error":{"code":"BAD_MESSAGE","message":…}}, but got ${show(reply)}`);
        }
      }
      await sendAccepted(a, { id: 'b3', to: bob, text: 'valid this time' }, 1, ' (b3 was refused above, and a refused send is not remembered: its id is new now)');
      const invalidRetry = { id: 'b3', to: bob, text: '' };
      const replyToInvalid = await send(a, invalidRetry);
      if (replyToInvalid?.ok !== false || (replyToInvalid.error as Json | undefined)?.code !== 'BAD_MESSAGE') {
        throw new GradingFailure(`${a.label} sent send(${show(invalidRetry)}) and expected {"ok":false,"error":{"code":"BAD_MESSAGE","message":…}}, but got ${show(replyToInvalid)}: a retry is a valid send whose id was used; an invalid one is BAD_MESSAGE whatever its id (check the send before looking its id up)`);
      }
      a.emit('send', { id: 'b1', to: bob, text: 'no callback' }); // b1 was refused above: a fresh id now
      a.emit('send', null);
      const got = await untilMarker(b, { from: a, id: markerId() }, 'after the malformed sends, a valid one and a valid one without a callback');
      expectSequence(b, got, [{ from: alice, id: 'b3', seq: 1 }, { from: alice, id: 'b1', seq: 2 }], 'before the marker: only the valid b3, then b1, sent without a callback (refused sends take no number)', 'A refused send is relayed to nobody; a valid send without a callback is relayed like any other.');
    });
  });

  describe('retries and duplicates', () => {
    it('a retried id gets the first ack again and is delivered once, even with another text or recipient; another sender may use the same id', async () => {
      const [alice, dave, bob] = [user('alice'), user('dave'), user('bob')];
      const [a, d, b] = await Promise.all([alice, dave, bob].map((name) => connect(name)));
      const first = { id: 'm1', to: bob, text: 'first try' };
      await sendAccepted(a, first, 1);
      // alice gets a message, so a retry to her taken for a new message would be her seq 2.
      await sendAccepted(d, { id: 'd0', to: alice, text: 'hi alice' }, 1);
      const retries = [
        { retry: first, why: ' again: a retry gets the answer of the first send with that id' },
        { retry: { ...first, text: 'changed on retry' }, why: ' again: a retry with another text is still a retry, and changes nothing' },
        { retry: { ...first, to: alice }, why: ' again: a retry with another "to" is still a retry, and changes nothing' },
      ];
      for (const { retry, why } of retries) await sendRetry(a, retry, 1, why);
      await sendAccepted(d, { id: 'm1', to: bob, text: 'from dave' }, 2, ` (dave's m1 is not alice's m1: ids are per sender)`);
      const got = await untilMarker(b, { from: a, id: markerId() }, 'after the retries');
      expectSequence(b, got, [{ from: alice, id: 'm1', seq: 1 }, { from: dave, id: 'm1', seq: 2 }], 'before the marker: alice/m1 once, then dave/m1', 'Remember each sender\'s ids (the key is the sender and the id) and relay a repeated one never again.');
      if (got[0].text !== 'first try') throw new GradingFailure(`bob expected alice's m1 with the text of the first send, "first try", but got ${show(got[0])}: a retry changes nothing, whatever it carries`);
    });

    it('the same id sent five times at once, before any ack: five identical acks and one delivery', async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const [a, b] = await Promise.all([alice, bob].map((name) => connect(name)));
      await sendAccepted(a, { id: 'warm-up', to: bob, text: 'seq 1' }, 1);
      const request = { id: 'burst', to: bob, text: 'sent five times' };
      // A send without a callback (malformed: answered by nobody, relayed to nobody) keeps the
      // transport busy for a moment, so the five copies leave together and arrive together.
      a.emit('send', null);
      const replies = await Promise.all(Array.from({ length: 5 }, () => send(a, request)));
      replies.forEach((reply, i) => {
        if (reply?.ok !== true || reply.id !== 'burst' || reply.seq !== 2) {
          throw new GradingFailure(`${a.label} sent send(${show(request)}) five times without waiting and expected every ack to be {"ok":true,"id":"burst","seq":2}; ack ${i + 1} was ${show(reply)} (all: ${replies.map(show).join(', ')}). A duplicate may arrive while the first is still being saved: remember the id before the first await (e.g. keep the pending promise) and answer the duplicate when it settles.`);
        }
      });
      const got = await untilMarker(b, { from: a, id: markerId() }, 'after the five sends');
      expectSequence(b, got, [{ from: alice, id: 'warm-up' }, { from: alice, id: 'burst', seq: 2 }], 'before the marker: warm-up, then burst once');
    });

    it('out-of-order retries (m1, m2, m3, then m3, m1, m2) each get their first ack; nothing is delivered twice', async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const [a, b] = await Promise.all([alice, bob].map((name) => connect(name)));
      const requests = ['m1', 'm2', 'm3'].map((id) => ({ id, to: bob, text: `text of ${id}` }));
      for (const [i, request] of requests.entries()) await sendAccepted(a, request, i + 1);
      for (const i of [2, 0, 1]) await sendRetry(a, requests[i], i + 1, ` again (retried out of order: ${requests[i].id} was first sent as seq ${i + 1})`);
      const got = await untilMarker(b, { from: a, id: markerId() }, 'after the retries');
      expectSequence(b, got, requests.map((r, i) => ({ from: alice, id: r.id, seq: i + 1 })), 'before the marker: m1, m2, m3, once each');
    });
  });

  describe('a lost connection', () => {
    it('the ack is lost (the server got the send, the connection dropped before the ack arrived): the retry on a new connection gets the first ack; delivered once', async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const [a, b] = await Promise.all([alice, bob].map((name) => connect(name)));
      const request = { id: 'lost-ack', to: bob, text: 'was the ack lost?' };
      stallIncoming(a);
      a.socket.emit('send', request, () => {});
      const got = await nextMessage(b, `the message lost-ack from alice (alice sent it, then its connection stalled)`);
      expectMessage(b, got.message, { seq: 1, id: 'lost-ack', from: alice }, 'after alice sent it');
      ackOf(b, got)();
      a.dropTransport(); // the ack never reached alice
      const again = await connect(alice);
      await sendRetry(again, request, 1, " on alice's new connection: your server relayed lost-ack already, and its ack was lost with the connection");
      // Bob's ack travels on its own connection and the marker on alice's new one: wait until the
      // server has read it, so a server that resends unacknowledged messages is not caught here by chance.
      await settled(b);
      const rest = await untilMarker(b, { from: again, id: markerId() }, 'after the retry');
      expectSequence(b, rest, [], 'no second copy of lost-ack before the marker');
    });

    it('the connection drops right after a send, arrived or not: retried on a new connection, it reaches an offline recipient exactly once, with the text of the first send', async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const a = await connect(alice);
      const request = { id: 'maybe', to: bob, text: 'sent as the line went down' };
      stallIncoming(a);
      a.socket.emit('send', request, () => {});
      a.dropTransport();
      const again = await connect(alice);
      // Once a later send is answered, the first (if it arrived) is saved too: this test is about
      // the lost connection, the one with five copies at once about sends still being saved.
      await settled(again);
      await sendRetry(again, request, 1, " (bob's first message, whether the first send arrived or not)");
      await sendRetry(again, { ...request, text: 'changed on the second retry' }, 1, ' on a second retry, with another text');
      const b = await connect(bob);
      const got = await untilMarker(b, { from: again, id: markerId() }, 'after bob connected');
      expectSequence(b, got, [{ from: alice, id: 'maybe', seq: 1 }], 'on connecting, then the marker: maybe, once', NEWER_AFTER_BACKLOG);
      if (got[0].text !== request.text) throw new GradingFailure(`${b.label} expected maybe with the text of the first send, ${show(request.text)}, but got ${show(got[0])}: a retry changes nothing, not even the text of a message still waiting for its recipient`);
    });
  });

  describe('memory', () => {
    it(`remembers a sender's ${KEPT} most recent ids and keeps a recipient's ${KEPT} most recent unacknowledged messages; past that, the oldest may go`, async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const a = await connect(alice);
      const requests = Array.from({ length: KEPT }, (_, i) => ({ id: `k${i + 1}`, to: bob, text: `message ${i + 1} of ${KEPT + 1}` }));
      // All at once, as a busy client would: the server may save them concurrently.
      const replies = await Promise.all(requests.map((request) => send(a, request)));
      const seqOf = new Map<string, number>();
      replies.forEach((reply, i) => {
        if (reply?.ok !== true || reply.id !== requests[i].id || typeof reply.seq !== 'number') throw new GradingFailure(`${a.label} sent ${KEPT} valid sends at once (k1 to k${KEPT}, to ${bob}) and expected each ack to be {"ok":true,"id":…,"seq":…}; the ack of send(${show(requests[i])}) was ${show(reply)}`);
        seqOf.set(requests[i].id, reply.seq);
      });
      const seqs = [...seqOf.values()].sort((x, y) => x - y);
      if (seqs.some((seq, i) => seq !== i + 1)) throw new GradingFailure(`${a.label} sent ${KEPT} messages to ${bob}, who had none, and expected their acks to hold each seq from 1 to ${KEPT} once; they held ${shownAtMost(seqs.map(String))}`);
      await sendRetry(a, requests[0], seqOf.get('k1')!, ` again: k1 is the oldest of only ${KEPT} ids alice used`, `: a different seq means your server forgot k1 and took the retry for a new message. Remember at least each sender's ${KEPT} most recent ids`);
      // One more: now the oldest id and the oldest message may be forgotten, the newest may not.
      const newest = { id: `k${KEPT + 1}`, to: bob, text: `message ${KEPT + 1} of ${KEPT + 1}` };
      await sendAccepted(a, newest, KEPT + 1, ` (bob's message number ${KEPT + 1})`);
      seqOf.set(newest.id, KEPT + 1);
      await sendRetry(a, newest, KEPT + 1, ` again: ${newest.id} is alice's newest id`, `: a different seq means your server forgot ${newest.id}, the newest id, and took the retry for a new message. Past ${KEPT} ids forget the oldest, never the newest`);
      const b = await connect(bob);
      const all = [...requests, newest].map((r) => ({ from: alice, id: r.id, seq: seqOf.get(r.id)! })).sort((x, y) => x.seq - y.seq);
      // The backlog is read to its last message before the marker is sent, so the marker never
      // counts as one more unacknowledged message of bob's.
      const got: Json[] = [];
      for (;;) {
        const so = got.length ? `after ${got.length} others, the last ${showMessage(got[got.length - 1])}` : 'none had come yet';
        const received = await nextMessage(b, `${newest.id}, the newest of the ${KEPT + 1} messages it had not acknowledged, on connecting (${so})`);
        ackOf(b, received)();
        got.push(received.message);
        if (received.message?.id === newest.id) break; // its sender is checked with the rest
      }
      const kept = all.slice(Math.max(0, all.length - got.length));
      const hint = `Keep at least each recipient's ${KEPT} most recent unacknowledged messages (past that you may forget the oldest, never the newest), and send them in seq order.`;
      if (got.length < KEPT) expectSequence(b, got, all.slice(1), `on connecting: at least the ${KEPT} most recent of the ${KEPT + 1} messages it had not acknowledged, in seq order`, hint);
      else expectSequence(b, got, kept, `on connecting: the ${KEPT} most recent of the ${KEPT + 1} messages it had not acknowledged (or all ${KEPT + 1}), in seq order`, hint);
      // Bob's acks travel on its own connection and the marker on alice's: wait until the server
      // has read them, so a server that resends unacknowledged messages is not caught here by chance.
      await settled(b);
      const rest = await untilMarker(b, { from: a, id: markerId() }, `after bob got ${newest.id} and acked everything`);
      expectSequence(b, rest, [], `nothing between ${newest.id} and the marker: each of its messages once`);
    });
  });

  describe('redelivery', () => {
    it('messages to a user who is not connected wait: on connecting it gets them all, in seq order, once each', async () => {
      const [alice, carol, bob] = [user('alice'), user('carol'), user('bob')];
      const [a, c] = await Promise.all([alice, carol].map((name) => connect(name)));
      await sendAccepted(a, { id: 'o1', to: bob, text: 'while you were out' }, 1);
      await sendAccepted(c, { id: 'o1', to: bob, text: 'me too' }, 2, ` (carol's o1 is not alice's: ids are per sender)`);
      await sendAccepted(a, { id: 'o3', to: bob, text: 'and again' }, 3);
      const b = await connect(bob);
      const got = await untilMarker(b, { from: a, id: markerId() }, 'after bob connected');
      expectSequence(b, got, [{ from: alice, id: 'o1', seq: 1 }, { from: carol, id: 'o1', seq: 2 }, { from: alice, id: 'o3', seq: 3 }], 'on connecting: what it missed, in seq order, then the marker', `Keep each message until its recipient acknowledges it, by seq (two senders' o1 are two messages). ${NEWER_AFTER_BACKLOG}`);
    });

    it('unacknowledged messages are not sent again on the same connection, but are after a reconnection, in seq order, before newer ones; acknowledged ones never again', async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const a = await connect(alice);
      const b = await connect(bob, { reconnect: true });
      for (const [i, id] of ['r1', 'r2', 'r3'].entries()) await sendAccepted(a, { id, to: bob, text: `text ${id}` }, i + 1);
      const first = await nextMessage(b, 'r1');
      ackOf(b, first)(); // r2 and r3 stay unacknowledged
      for (const id of ['r2', 'r3']) await nextMessage(b, id);
      const live = await untilMarker(b, { from: a, id: 'r4' }, 'after bob acked r1 only', { ack: false });
      expectSequence(b, live, [], 'nothing between r3 and r4 on the same connection (a live connection delivers each message once: no resending while it stays up)');
      await settled(b); // the server has read bob's ack of r1
      b.dropTransport();
      await b.expectDisconnect({ what: 'to notice its dropped connection' });
      await b.expectConnected({ within: 3000 });
      const resent: Json[] = [];
      for (let i = 0; i < 3; i++) {
        const so = resent.length ? `after ${resent.map(showMessage).join(', ')}` : 'none had come yet';
        resent.push((await nextMessage(b, `message ${i + 1} of the 3 it had not acknowledged (r2, r3, r4), after it reconnected (${so})`)).message);
      }
      expectSequence(b, resent, [{ from: alice, id: 'r2', seq: 2 }, { from: alice, id: 'r3', seq: 3 }, { from: alice, id: 'r4', seq: 4 }], 'after reconnecting: the unacknowledged r2, r3, r4 in seq order (not r1, which it acked)');
      const after = await untilMarker(b, { from: a, id: 'r5' }, 'after the redelivery', { ack: false });
      expectSequence(b, after, [], 'nothing more before r5');
      b.close();
      const third = await connect(bob);
      const last = await untilMarker(third, { from: a, id: markerId() }, "once bob's third connection was open");
      expectSequence(third, last, [{ from: alice, id: 'r2', seq: 2 }, { from: alice, id: 'r3', seq: 3 }, { from: alice, id: 'r4', seq: 4 }, { from: alice, id: 'r5', seq: 5 }], 'on its third connection: r2 to r5, still unacknowledged, then the marker', NEWER_AFTER_BACKLOG);
      await settled(third); // the server has read the third connection's acks
      const fourth = await connect(bob);
      const none = await untilMarker(fourth, { from: a, id: markerId() }, "once bob's fourth connection was open, after bob had acked everything on the third");
      expectSequence(fourth, none, [], 'nothing before the marker: every earlier message was acknowledged');
    });

    it('a user with two connections gets each new message on both; an ack from either one is enough', async () => {
      const [alice, bob] = [user('alice'), user('bob')];
      const [a, phone, laptop] = await Promise.all([alice, bob, bob].map((name) => connect(name)));
      await sendAccepted(a, { id: 'both', to: bob, text: 'to both devices' }, 1);
      const onPhone = await nextMessage(phone, 'the message "both" on bob\'s first connection');
      const onLaptop = await nextMessage(laptop, 'the message "both" on bob\'s second connection (a message goes to every connection of its recipient)');
      expectMessage(laptop, onLaptop.message, { seq: 1, id: 'both', from: alice }, 'on bob\'s second connection');
      ackOf(phone, onPhone)();
      await settled(phone);
      const tablet = await connect(bob);
      const got = await untilMarker(tablet, { from: a, id: markerId(), seq: 2, why: ` (bob's second message: seq keeps counting once everything is acknowledged)` }, 'once a third connection of bob was open, after the first one had acked "both"');
      expectSequence(tablet, got, [], 'nothing before the marker: "both" was acknowledged on another connection of bob');
    });

    it('a connection that stays up gets each message once, acknowledged or not; when its user opens another, only the new one gets the backlog', async () => {
      const { client: open, sender, message, receivedAt } = await watcher();
      // In a whole grade the tests before this one took longer than the window: no wait.
      const age = Date.now() - receivedAt;
      if (age < RESEND_WINDOW_MS) await sleep(RESEND_WINDOW_MS - age);
      const resent = open.pending.filter((e) => e.event === 'message').map(payloadOf);
      if (resent.length) {
        throw new GradingFailure(`${open.label} got ${showMessage(message)} early in the grading and did not acknowledge it; ${Date.now() - receivedAt} ms later its connection, up all along, had received ${shownAtMost(resent.map(showMessage))} as well. On one connection send each message at most once: a connection that stays up loses nothing, so do not resend on a timer; send what is not acknowledged again only on a new connection.`);
      }
      const second = await connect(open.label);
      const marker = { from: sender, id: markerId() };
      await sendAny(sender, { id: marker.id, to: open.label, text: 'marker' });
      const backlog = await readUntilMarker(second, marker, `once ${open.label}'s second connection was open`);
      expectSequence(second, backlog, [{ from: sender.label, id: 'keep-me', seq: 1 }], 'on its second connection: keep-me, which its first connection had not acknowledged, then the marker', `${NEWER_AFTER_BACKLOG} The 100 unacknowledged messages you keep are counted per recipient: others' messages must not push out this one.`);
      const onOpen = await readUntilMarker(open, marker, `once ${open.label}'s second connection was open`, { ack: false });
      expectSequence(open, onOpen, [], 'on its first connection, which had keep-me already: nothing before the marker', 'When a connection opens, send the backlog on that connection only: the connections already open have had it.');
    });
  });
});
