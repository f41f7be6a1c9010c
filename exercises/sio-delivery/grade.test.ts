// Black-box tests of the delivery server (instructions.md) with socket.io-client: senders that
// retry (one after another, all at once, out of order), connections cut before an ack arrives, and
// recipients that acknowledge some messages and not others, then come back. Each test uses its own
// user names, so the server's memory of earlier tests never meets a later one.
import { describe, it as vitestIt } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeExit, GradingFailure, learnerServer, oncePerGrade, show, type ReceivedEvent, type TestSocketIo } from '../../sandbox-server/src/grading-kit/index.ts';

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
  vitestIt(name, async () => {
    try {
      await body();
    } catch (err) {
      throw await explainCrash(err);
    }
  });
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

function expectAccepted(client: TestSocketIo, request: unknown, reply: Json, seq: number, why = ''): void {
  const r = request as Json;
  if (reply?.ok !== true || reply.id !== r.id || reply.seq !== seq) {
    throw new GradingFailure(`${client.label} sent send(${show(request)}) and expected the ack {"ok":true,"id":${show(r.id)},"seq":${seq}}${why}, but got ${show(reply)}`);
  }
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
async function untilMarker(recipient: TestSocketIo, marker: { from: TestSocketIo; id: string }, when: string, { ack = true }: { ack?: boolean } = {}): Promise<Json[]> {
  await sendAny(marker.from, { id: marker.id, to: recipient.label, text: 'marker' });
  const got: Json[] = [];
  for (;;) {
    const received = await nextMessage(recipient, `the marker message (id ${show(marker.id)}, sent by ${marker.from.label} ${when}); it received before it: ${got.map(showMessage).join(', ') || 'nothing'}`);
    if (ack) ackOf(recipient, received)();
    if (received.message?.id === marker.id && received.message?.from === marker.from.label) return got;
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
  const same = got.length === expected.length && got.every((m, i) => m.id === expected[i].id && m.from === expected[i].from && (expected[i].seq === undefined || m.seq === expected[i].seq));
  if (!same) {
    throw new GradingFailure(
      `${client.label} expected ${when}: ${expected.map(shown).join(', ') || 'no message'}; it got ${got.map((m) => shown(m as never)).join(', ') || 'no message'} (sender/id). ${hint}`.trim(),
    );
  }
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
      await connect(user('ok_user-'));
    });
  });

  describe('sending', () => {
    it('acks a send with { ok: true, id, seq } and delivers { seq, id, from, text } to the recipient; seq counts 1, 2, 3… per recipient', async () => {
      const [alice, carol, bob, dave] = [user('alice'), user('carol'), user('bob'), user('dave')];
      const [a, c, b, d] = await Promise.all([alice, carol, bob, dave].map((name) => connect(name)));
      const sent = [
        { from: a, request: { id: 'm1', to: bob, text: 'hello bob' }, seq: 1 },
        { from: a, request: { id: 'm2', to: bob, text: 'second' }, seq: 2 },
        { from: c, request: { id: 'c1', to: bob, text: 'from carol' }, seq: 3 },
        { from: a, request: { id: 'm3', to: dave, text: 'hello dave' }, seq: 1 },
      ];
      for (const { from, request, seq } of sent) {
        await sendAccepted(from, request, seq, request.to === dave ? ` (dave's first message: seq counts per recipient)` : '');
      }
      for (const { from, request, seq } of sent) {
        const recipient = request.to === bob ? b : d;
        const got = await nextMessage(recipient, `the message ${request.id} from ${from.label}`);
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
      ];
      for (const request of bad) {
        const reply = await send(a, request);
        const error = reply?.error as Json | undefined;
        if (reply?.ok !== false || error?.code !== 'BAD_MESSAGE') {
          throw new GradingFailure(`${a.label} sent send(${show(request)}) and expected {"ok":false,"error":{"code":"BAD_MESSAGE","message":…}}, but got ${show(reply)}`);
        }
      }
      a.emit('send', { id: 'b1', to: bob, text: 'no callback' }); // b1 was refused above: a fresh id now
      a.emit('send', null);
      const got = await untilMarker(b, { from: a, id: markerId() }, 'after the malformed sends and one valid send without a callback');
      expectSequence(b, got, [{ from: alice, id: 'b1', seq: 1 }], 'before the marker: only the valid send without a callback (seq 1: refused sends take no number)', 'A refused send is relayed to nobody; a valid send without a callback is relayed like any other (check typeof ack === "function" before calling it).');
    });
  });

  describe('retries and duplicates', () => {
    it('a retried id gets the first ack again and is delivered once, even with another text; another sender may use the same id', async () => {
      const [alice, dave, bob] = [user('alice'), user('dave'), user('bob')];
      const [a, d, b] = await Promise.all([alice, dave, bob].map((name) => connect(name)));
      const first = { id: 'm1', to: bob, text: 'first try' };
      await sendAccepted(a, first, 1);
      for (const retry of [first, first, { ...first, text: 'changed on retry' }]) {
        await sendAccepted(a, retry, 1, ' again: a retry gets the answer of the first send with that id');
      }
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
      for (const i of [2, 0, 1]) await sendAccepted(a, requests[i], i + 1, ` again (retried out of order: ${requests[i].id} was first sent as seq ${i + 1})`);
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
      await sendAccepted(again, request, 1, ' on alice\'s new connection: the retry of an id your server already relayed gets the first answer, though another connection sent it (the identity is auth.user, not socket.id)');
      const rest = await untilMarker(b, { from: again, id: markerId() }, 'after the retry');
      expectSequence(b, rest, [], 'no second copy of lost-ack before the marker');
    });

    it('the connection drops right after a send, arrived or not: retried on a new connection, it reaches an offline recipient exactly once', async () => {
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
      await sendAccepted(again, request, 1, ' (bob\'s first message, whether the first send arrived or not)');
      await sendAccepted(again, request, 1, ' on a second retry');
      const b = await connect(bob);
      const got = await untilMarker(b, { from: again, id: markerId() }, 'after bob connected');
      expectSequence(b, got, [{ from: alice, id: 'maybe', seq: 1 }], 'on connecting, then the marker: maybe, once');
    });
  });

  describe('redelivery', () => {
    it('messages to a user who is not connected wait: on connecting it gets them all, in seq order, once each', async () => {
      const [alice, carol, bob] = [user('alice'), user('carol'), user('bob')];
      const [a, c] = await Promise.all([alice, carol].map((name) => connect(name)));
      await sendAccepted(a, { id: 'o1', to: bob, text: 'while you were out' }, 1);
      await sendAccepted(c, { id: 'o2', to: bob, text: 'me too' }, 2);
      await sendAccepted(a, { id: 'o3', to: bob, text: 'and again' }, 3);
      const b = await connect(bob);
      const got = await untilMarker(b, { from: a, id: markerId() }, 'after bob connected');
      expectSequence(b, got, [{ from: alice, id: 'o1', seq: 1 }, { from: carol, id: 'o2', seq: 2 }, { from: alice, id: 'o3', seq: 3 }], 'on connecting: what it missed, in seq order, then the marker', 'Keep each message until its recipient acknowledges it, and send what is kept when the recipient connects.');
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
      for (let i = 0; i < 3; i++) resent.push((await nextMessage(b, `the messages bob had not acknowledged (r2, r3, r4) after it reconnected; got so far: ${resent.map(showMessage).join(', ') || 'nothing'}`)).message);
      expectSequence(b, resent, [{ from: alice, id: 'r2', seq: 2 }, { from: alice, id: 'r3', seq: 3 }, { from: alice, id: 'r4', seq: 4 }], 'after reconnecting: the unacknowledged r2, r3, r4 in seq order (not r1, which it acked)');
      const after = await untilMarker(b, { from: a, id: 'r5' }, 'after the redelivery', { ack: false });
      expectSequence(b, after, [], 'nothing more before r5');
      b.close();
      const third = await connect(bob);
      const last = await untilMarker(third, { from: a, id: markerId() }, 'on bob\'s third connection');
      expectSequence(third, last, [{ from: alice, id: 'r2', seq: 2 }, { from: alice, id: 'r3', seq: 3 }, { from: alice, id: 'r4', seq: 4 }, { from: alice, id: 'r5', seq: 5 }], 'on its third connection: r2 to r5, still unacknowledged, then the marker');
      await settled(third); // the server has read the third connection's acks
      const fourth = await connect(bob);
      const none = await untilMarker(fourth, { from: a, id: markerId() }, 'on bob\'s fourth connection, after it had acked everything on the third');
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
      const got = await untilMarker(tablet, { from: a, id: markerId() }, 'on a third connection of bob, after the first one acked "both"');
      expectSequence(tablet, got, [], 'nothing before the marker: "both" was acknowledged on another connection of bob');
    });
  });
});
