import { describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeBytes,
  describeExit,
  expectSameBytes,
  firstDifference,
  GradingFailure,
  learnerServer,
  oncePerGrade,
  waitUntil,
  type TestWebSocket,
  type WebSocketMessage,
} from '../../sandbox-server/src/grading-kit/index.ts';

/** What a test sends: a string is a text message, a Buffer a binary one (unless `asText`). */
interface Sent {
  data: string | Buffer;
  /** A Buffer sent as a text message (e.g. text cut inside a character). */
  asText?: boolean;
}

const isTextMessage = (sent: Sent) => typeof sent.data === 'string' || sent.asText === true;
const bytesOf = (sent: Sent) => (typeof sent.data === 'string' ? Buffer.from(sent.data) : sent.data);

function describeSent(sent: Sent): string {
  const kind = isTextMessage(sent) ? 'text' : 'binary';
  const bytes = bytesOf(sent);
  return `a ${kind} message of ${bytes.length} bytes (${describeBytes(bytes, 48)})`;
}

const TEXT_AS_BINARY =
  'ws 8 hands your "message" listener every message as a Buffer, and ws.send(buffer) sends a binary message: ' +
  'send a text message back as a string (data.toString()), using the isBinary argument to tell which it was';
const BINARY_AS_TEXT = 'a binary message must come back binary: when isBinary is true, send the Buffer itself, not a string made from it';

/** Where a message sits among everything its client sent, to recognise echoes out of order or merged. */
interface SentInOrder {
  all: Sent[];
  index: number;
}

const isEchoOf = (sent: Sent, got: WebSocketMessage) => got.isBinary !== isTextMessage(sent) && bytesOf(sent).equals(got.data);

/**
 * Reads the next message and fails unless it is `sent` again: same type, same bytes, whole.
 * `othersSent`: what other clients sent meanwhile, to recognise an echo that went to the wrong client.
 */
async function expectEcho(client: TestWebSocket, sent: Sent, what: string, othersSent: Sent[] = [], order?: SentInOrder): Promise<void> {
  const got = await client.nextMessage({ what: `the echo of ${describeSent(sent)} (${what})` });
  if (isEchoOf(sent, got)) return;
  const text = isTextMessage(sent);
  const theirs = othersSent.find((other) => bytesOf(other).equals(got.data));
  if (theirs && !bytesOf(sent).equals(got.data)) {
    throw new GradingFailure(
      `${client.label} sent ${describeSent(sent)} (${what}) and expected it back, but got ${describeSent(theirs)} that another client had sent: echo each message to its sender only (the ws of that connection), not to wss.clients`,
    );
  }
  const overtaken = order?.all.findIndex((other, i) => i !== order.index && isEchoOf(other, got)) ?? -1;
  if (order && overtaken >= 0) {
    throw new GradingFailure(
      `${client.label} sent ${describeSent(sent)} (${what}) and expected its echo next, but got the echo of message ${overtaken + 1}, ${describeSent(order.all[overtaken])}, ` +
        `which it sent ${overtaken > order.index ? 'after' : 'before'} it: the echoes came back out of order. Send each echo as its message comes, in the 'message' listener itself (a timer or an await per message lets one overtake another)`,
    );
  }
  if (got.isBinary === text) {
    const same = bytesOf(sent).equals(got.data) ? ' (with the same bytes)' : '';
    throw new GradingFailure(
      `${client.label} sent ${describeSent(sent)} (${what}) and got back a ${got.isBinary ? 'binary' : 'text'} message${same}: ${text ? TEXT_AS_BINARY : BINARY_AS_TEXT}`,
    );
  }
  const sentBytes = bytesOf(sent);
  const next = order?.all[order.index + 1];
  if (got.data.length < sentBytes.length) await explainShort(client, sent, what, got, next);
  // Merged: the extra bytes hold a message the client sent later (perhaps decoded as text on the way).
  const extra = got.data.subarray(sentBytes.length);
  const mergedWith = order?.all.findIndex((later, i) => i > order.index && bytesOf(later).length > 0 && extra.includes(bytesOf(later))) ?? -1;
  try {
    expectSameBytes(`${client.label}, ${what}`, sentBytes, got.data);
  } catch (err) {
    const prefix = got.data.subarray(0, sentBytes.length).equals(sentBytes);
    const why = !prefix
      ? ''
      : mergedWith >= 0
        ? ` The extra bytes hold message ${mergedWith + 1}, sent after it: messages came back merged into one. Each message must come back on its own, with one ws.send per message.`
        : ' Nothing may be added to an echo: send back exactly what came.';
    throw new GradingFailure(`${(err as Error).message}.${why}`);
  }
}

/** How long a short echo's missing part may take to come, as more messages, before the test calls it cut. */
const MORE_PIECES_WITHIN_MS = 300;

/** Whether `got` could be the start of the echo of `sent` (same type, and what both have agrees). */
function startsLike(sent: Sent, got: WebSocketMessage): boolean {
  const bytes = bytesOf(sent);
  const n = Math.min(bytes.length, got.data.length);
  return got.isBinary !== isTextMessage(sent) && bytes.subarray(0, n).equals(got.data.subarray(0, n));
}

/**
 * Fails for an echo shorter than `sent`, saying whether the rest came as more messages (split) or never (cut).
 * `next`: the message the client sent after it, whose echo is not a piece of this one.
 */
async function explainShort(client: TestWebSocket, sent: Sent, what: string, first: WebSocketMessage, next?: Sent): Promise<never> {
  const sentBytes = bytesOf(sent);
  const pieces = [first.data];
  let total = first.data.length;
  while (total < sentBytes.length) {
    const more = await client.nextMessage({ within: MORE_PIECES_WITHIN_MS }).catch(() => undefined);
    if (!more || (next && startsLike(next, more))) break;
    pieces.push(more.data);
    total += more.data.length;
  }
  const together = firstDifference(sentBytes, Buffer.concat(pieces));
  if (pieces.length > 1) {
    throw new GradingFailure(
      `${client.label} sent ${describeSent(sent)} (${what}) and got it back split into ${pieces.length} messages (of ${pieces.map((p) => p.length).join(', ')} bytes): ` +
        `one message must come back as one message, sent with one ws.send${together ? `. Put together, ${together}` : ''}`,
    );
  }
  throw new GradingFailure(
    `${client.label} sent ${describeSent(sent)} (${what}) and got back a shorter message, of ${first.data.length} bytes, and nothing more within ${MORE_PIECES_WITHIN_MS} ms: ${together}`,
  );
}

async function roundTrip(client: TestWebSocket, sent: Sent, what: string, othersSent: Sent[] = []): Promise<void> {
  await client.send(sent.data, { binary: !isTextMessage(sent) });
  await expectEcho(client, sent, what, othersSent);
}

/** Fails if anything but the pong comes before the answer to a ping: the server sent `client` something unasked. */
async function expectNothingElse(client: TestWebSocket, what: string): Promise<void> {
  client.ping();
  await client.expectPong({ what: 'the pong to a ping the test sent to see whether anything else had arrived' });
  await client.expectNoMessage(0, what);
}

/**
 * A client connected before the first test that sends nothing until the closing-handshake test: it
 * stays quiet while the other tests run (so the check costs the grading almost no time), at least
 * this long; it answers pings meanwhile.
 */
const QUIET_MS = 150;

/** The quiet client, connected once per grade when the first test starts. */
function quietClient(): Promise<{ client: TestWebSocket; since: number }> {
  return oncePerGrade('quiet-client', async () => ({
    client: await (await learnerServer()).connectWebSocket({ label: 'a client closing with 4001 and "done here ✓" (quiet since the first test)' }),
    since: Date.now(),
  }));
}

/** Fails if the server closed the quiet client, and checks it is still served. */
async function expectStillOpenAfterQuiet({ client, since }: { client: TestWebSocket; since: number }): Promise<void> {
  if (Date.now() - since < QUIET_MS) await sleep(QUIET_MS - (Date.now() - since));
  const seconds = `${((Date.now() - since) / 1000).toFixed(1)} s`;
  if (client.isClosed) {
    const { code, reason } = await client.expectClose();
    const how = code === 1006 ? 'without a close frame' : code === 1005 ? 'with a close frame without a code' : `with code ${code}${reason ? ` and reason ${JSON.stringify(reason)}` : ''}`;
    throw new GradingFailure(
      `${client.label} sent nothing for ${seconds} (it answered every ping), and your server closed its connection ${how}: ` +
        'the server never closes a connection on its own; a quiet client is still a client',
    );
  }
  await roundTrip(client, { data: `one message after ${seconds} of quiet` }, `after ${seconds} without a message`);
}

/**
 * Turns a failure after a server crash into one that says so; a refused connection to a server that
 * still runs, into one that says it stopped listening. `when`: what a client had just done; `crashHint`: the usual cause of a crash then.
 */
async function explainCrash(err: unknown, when: string, crashHint = ''): Promise<never> {
  const server = await learnerServer();
  if (err instanceof GradingFailure && (await waitUntil(() => server.process.hasExited, 1000))) {
    throw new GradingFailure(`your server stopped ${when}${crashHint ? `. ${crashHint}` : ''}. ${describeExit(server.process, await server.process.exited).replace(/^your program/, 'It')}`);
  }
  if (err instanceof GradingFailure && /ECONNREFUSED/.test(err.message)) {
    throw new GradingFailure(
      `${err.message}. Your server's process is still running, but it stopped accepting connections ${when}, as wss.close() (closing the WebSocketServer) does. ` +
        "A client's 'error' or 'close' concerns that client's connection only: the server goes on serving everyone else.",
    );
  }
  throw err;
}

describe('WebSocket echo server', () => {
  it('echoes text messages as text, with the same text (multi-byte UTF-8 and an empty message included)', async () => {
    await quietClient();
    const client = await (await learnerServer()).connectWebSocket({ label: 'a text client' });
    await roundTrip(client, { data: 'hello, echo' }, 'plain ASCII text');
    await roundTrip(client, { data: 'héllo wörld ✓ 🚀 — ünïcödé' }, 'multi-byte UTF-8 text');
    await roundTrip(client, { data: '' }, 'an empty text message');
  });

  it('echoes binary messages as binary, with the same bytes (bytes that are not valid UTF-8 included)', async () => {
    const client = await (await learnerServer()).connectWebSocket({ label: 'a binary client' });
    await roundTrip(client, { data: Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x0a, 0xed, 0xa0, 0x80]) }, 'bytes that are not valid UTF-8');
    await roundTrip(client, { data: Buffer.concat([Buffer.from([0x80]), randomBytes(1000)]) }, '1001 random bytes');
    await roundTrip(client, { data: Buffer.from('looks like text, sent as binary') }, 'binary bytes that happen to be valid UTF-8');
    await roundTrip(client, { data: Buffer.alloc(0) }, 'an empty binary message');
  });

  it('echoes a message of about 60 KB whole, as one message (text and binary)', async () => {
    const client = await (await learnerServer()).connectWebSocket({ label: 'a client sending 60 KB' });
    await roundTrip(client, { data: 'ab✓'.repeat(12_000) }, 'a 60 000-byte text message');
    await roundTrip(client, { data: randomBytes(60_000) }, '60 000 random bytes as one binary message');
  });

  it('puts a message sent in fragments back together, and answers the pings sent between the fragments', async () => {
    const client = await (await learnerServer()).connectWebSocket({ label: 'a fragmenting client' });
    // Cut inside "✓" (e2 9c 93): only the whole message is valid UTF-8.
    const text = Buffer.from('fragments ✓ of one text message');
    const pieces = [text.subarray(0, 5), text.subarray(5, 12), text.subarray(12)];
    await client.sendFragments(pieces, { binary: false, pingBetween: true });
    for (let i = 1; i <= 2; i++) await client.expectPong({ what: `the pong to ping ${i} of 2, sent between the fragments of a message (ws answers pings by itself)` });
    await expectEcho(client, { data: text, asText: true }, 'a text message sent as 3 fragments with pings between them');
    const binary = randomBytes(3000);
    await client.sendFragments([binary.subarray(0, 1000), binary.subarray(1000, 2000), binary.subarray(2000)], { binary: true, pingBetween: true });
    for (let i = 1; i <= 2; i++) await client.expectPong({ what: `the pong to ping ${i} of 2, sent between the fragments of a binary message` });
    await expectEcho(client, { data: binary }, 'a binary message sent as 3 fragments with pings between them');
  });

  it('keeps the boundaries and the order of 200 messages sent in quick succession', async () => {
    const client = await (await learnerServer()).connectWebSocket({ label: 'a fast client' });
    const messages: Sent[] = Array.from({ length: 200 }, (_, i) => (i % 2 ? { data: Buffer.from([i, 0xff, i]) } : { data: `message ${i + 1} ✓` }));
    // Sent one after another without waiting for echoes: they reach the server in few TCP segments.
    for (const sent of messages) await client.send(sent.data);
    for (const [i, sent] of messages.entries()) await expectEcho(client, sent, `message ${i + 1} of 200, all sent without waiting`, [], { all: messages, index: i });
  });

  it('serves several clients at once, each getting only its own messages back', async () => {
    const server = await learnerServer();
    const clients = await Promise.all([1, 2, 3, 4, 5].map((n) => server.connectWebSocket({ label: `client ${n}` })));
    const messages = clients.map((c, i) => ({ data: `from ${c.label}: ${'x'.repeat(i * 5)}` }));
    await Promise.all(clients.map((c, i) => c.send(messages[i].data)));
    for (const [i, c] of clients.entries()) await expectEcho(c, messages[i], 'its only message', messages);
    // Every message has been handled now: anything sent to another client is already on its way.
    for (const c of clients) await expectNothingElse(c, "an echo of another client's message (echo only to the sender)");
  });

  it('keeps a quiet connection open, and completes the closing handshake with the code and reason the client closed with', async () => {
    const server = await learnerServer();
    for (const [code, reason] of [[4001, 'done here ✓'], [1000, '']] as const) {
      let client: TestWebSocket;
      if (code === 4001) {
        const quiet = await quietClient();
        await expectStillOpenAfterQuiet(quiet);
        client = quiet.client;
      } else {
        client = await server.connectWebSocket({ label: `a client closing with ${code}${reason ? ` and ${JSON.stringify(reason)}` : ''}` });
        await roundTrip(client, { data: 'one message before closing' }, 'before closing');
      }
      client.close(code, reason);
      const got = await client.expectClose({ what: `your server's close frame in answer to its own (code ${code})` });
      if (got.code === 1006) throw new GradingFailure(`${client.label} started the closing handshake, but your server dropped the connection without answering with a close frame`);
      if (got.code !== code || got.reason !== reason) {
        throw new GradingFailure(
          `${client.label} and expected your server's close frame to carry the same code and reason (${code}, ${JSON.stringify(reason)}), ` +
            `but it carried ${got.code === 1005 ? 'no code' : `code ${got.code}`} and reason ${JSON.stringify(got.reason)}. ` +
            'ws answers a close frame with its code and reason by itself: do not close the connection yourself.',
        );
      }
    }
  });

  it('keeps serving others after a client drops its connection without a closing handshake', async () => {
    const server = await learnerServer();
    const staying = await server.connectWebSocket({ label: 'a staying client' });
    const leaving = await server.connectWebSocket({ label: 'a client that vanishes' });
    await roundTrip(leaving, { data: 'about to vanish' }, 'before vanishing');
    leaving.terminate();
    await leaving.expectClose();
    try {
      await roundTrip(staying, { data: 'still there? (1)' }, 'after another client vanished', [{ data: 'about to vanish' }]);
      await roundTrip(staying, { data: Buffer.from([1, 2, 0xff]) }, 'after another client vanished');
      const newcomer = await server.connectWebSocket({ label: 'a client connecting afterwards' });
      await roundTrip(newcomer, { data: 'hello after' }, 'a new client after another one vanished');
    } catch (err) {
      await explainCrash(err, 'when a client dropped its connection without a closing handshake');
    }
  });

  // Last: a server that this test crashes could not serve the tests after it.
  it('keeps serving others after a client sends a text message that is not valid UTF-8', async () => {
    const server = await learnerServer();
    const staying = await server.connectWebSocket({ label: 'a staying client' });
    const breaking = await server.connectWebSocket({ label: 'a client breaking the protocol' });
    await breaking.send(Buffer.from([0x68, 0x69, 0xc3, 0x28]), { binary: false }); // "hi" then a broken two-byte sequence
    try {
      // ws closes such a connection with 1007 (invalid data); the test only needs it not to be echoed.
      const got = await breaking.nextMessage({ what: 'the connection to close' }).catch(() => undefined);
      if (got) throw new GradingFailure(`${breaking.label} sent a text message that is not valid UTF-8 (68 69 c3 28) and got a message back (${describeBytes(got.data)}); ws rejects such a message by itself`);
      await roundTrip(staying, { data: 'still there?' }, 'after another client broke the protocol');
      const newcomer = await server.connectWebSocket({ label: 'a client connecting afterwards' });
      await roundTrip(newcomer, { data: 'hello after' }, 'a new client after another one broke the protocol');
    } catch (err) {
      await explainCrash(
        err,
        'when a client sent a text message that is not valid UTF-8',
        "ws closes such a connection (code 1007) and emits 'error' on its WebSocket; " +
          "an 'error' event with no listener crashes the whole server: add ws.on('error', …) for every connection",
      );
    }
  });
});
