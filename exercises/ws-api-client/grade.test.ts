// Grades a client of the WebSocket JSON API (sandbox-server/src/reference-servers/WS-API-PROTOCOL.md)
// by what this grade's wsApi server saw (the requests, their ids, the replies it could deliver, the
// close frame) and by what the program printed. The server's replies come back out of order by
// design (two slow requests), and here each one also arrives in three fragments with a ping between
// each two, cut anywhere, inside a UTF-8 character too: a client must take messages as ws hands
// them over, whole.
import { describe, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import {
  describeExit,
  GradingFailure,
  oncePerGrade,
  outputTail,
  referenceServers,
  startLearner,
  waitUntil,
  type LearnerProcess,
} from '../../sandbox-server/src/grading-kit/index.ts';
import type { WsApiEvent, WsApiReply } from '../../sandbox-server/src/reference-servers/ws-api.ts';

/** What the program must send, in this order, each plus an id of its own (instructions.md lists them). */
const REQUESTS: Array<Record<string, unknown>> = [
  { op: 'slow', ms: 400 },
  { op: 'add', a: 2, b: 40 },
  { op: 'upper', text: 'héllo, wörld ✓' },
  { op: 'time' },
  { op: 'add', a: 1, b: 'two' },
  { op: 'slow', ms: 100 },
];
const CLOSE = { code: 1000, reason: 'done' };
/** Long enough for the whole conversation (the slowest reply takes 400 ms) on a loaded machine. */
const CONVERSATION_MS = 4000;
/** Lines of the program's stdout the tests read: "<n> …" and "closed …"; others are ignored. */
const NUMBERED = /^[1-6] /;
const CLOSED = /^closed\b/;

type Seen<T extends WsApiEvent['type']> = Extract<WsApiEvent, { type: T }>;

interface Run {
  learner: LearnerProcess;
  /** Waits several tests share: once one test waited for something, the others do not wait again. */
  waits: Map<string, Promise<boolean>>;
}

/** The program's one run in this grade; the server sends its replies in fragments with pings between. */
const run = (): Run =>
  oncePerGrade('run', () => {
    referenceServers().wsApi.deliverReplies({ fragments: 3, pingBetween: true });
    return { learner: startLearner(), waits: new Map() };
  });

/** waitUntil(ready, within), once per run for each `key`. */
function waitOnce(key: string, ready: () => boolean, within: number): Promise<boolean> {
  const { waits } = run();
  let wait = waits.get(key);
  if (!wait) waits.set(key, (wait = waitUntil(ready, within)));
  return wait;
}

const seen = (): WsApiEvent[] => referenceServers().wsApi.seen;

/** The program's connection (the server's number for it); fails when it never connected, or connected more than once. */
async function connection(): Promise<number> {
  const { learner } = run();
  const connects = () => seen().filter((e): e is Seen<'connect'> => e.type === 'connect');
  await waitOnce('connect', () => connects().length > 0 || learner.hasExited, 3000);
  const [first, ...more] = connects();
  if (!first) {
    const why = learner.hasExited ? describeExit(learner, await learner.exited) : `it did not connect within 3 s.${outputTail(learner)}`;
    throw new GradingFailure(`your program did not open a WebSocket to ws://HOST:WS_API_PORT (here ws://127.0.0.1:${referenceServers().ports.wsApi}/): ${why}`);
  }
  if (more.length) throw new GradingFailure(`your program opened ${more.length + 1} WebSockets to the server; send every request over one`);
  return first.connection;
}

function eventsOf<T extends WsApiEvent['type']>(type: T, id: number): Array<Seen<T>> {
  return seen().filter((e): e is Seen<T> => e.type === type && e.connection === id);
}

/** Waits until the connection is closed (or the program ended and its connection with it). */
async function closedOrEnded(id: number): Promise<Seen<'close'> | undefined> {
  await waitOnce('close', () => eventsOf('close', id).length > 0, CONVERSATION_MS);
  return eventsOf('close', id)[0];
}

interface Sent {
  /** The requests as the server received them, in order. */
  requests: Array<Seen<'request'>>;
  /** Their ids, by position. */
  ids: unknown[];
}

/** The requests the program sent, once six arrived or the connection closed. */
async function sentRequests(): Promise<Sent> {
  const id = await connection();
  const { learner } = run();
  await waitOnce('requests', () => eventsOf('request', id).length >= REQUESTS.length || eventsOf('close', id).length > 0 || learner.hasExited, 3000);
  const requests = eventsOf('request', id);
  return { requests, ids: requests.map((r) => (r.request as { id?: unknown } | undefined)?.id) };
}

/** For the tests after the first: they judge the replies to six requests, so six must have been sent. */
function requireAllSent({ requests }: Sent): void {
  if (requests.length >= REQUESTS.length) return;
  const got = requests.length ? `only ${requests.length}: ${requests.map((r) => r.text.slice(0, 100)).join(', ')}` : 'none';
  throw new GradingFailure(`this needs the six requests, but the server received ${got} (see the first test).${outputTail(run().learner)}`);
}

/** The reply the server delivered for the request with this id, if it did. */
function deliveredReply(conn: number, requestId: unknown): WsApiReply | undefined {
  return eventsOf('reply', conn).find((e) => e.delivered && e.reply.id === requestId)?.reply;
}

/** What a line says about a reply: `ok <result as JSON>` or `error <message>`. */
function outcome(reply: WsApiReply): string {
  return reply.ok ? `ok ${JSON.stringify(reply.result)}` : `error ${reply.error}`;
}

/** The line the program should print for request n (1-based), given the server's reply. */
function expectedLine(n: number, reply: WsApiReply): string {
  return `${n} ${String(REQUESTS[n - 1].op)} ${outcome(reply)}`;
}

function describeRequest(n: number): string {
  return `request ${n} (${JSON.stringify(REQUESTS[n - 1])})`;
}

/** The program's output once it ended (or once the conversation had time to finish). */
async function finalOutput(): Promise<string[]> {
  const { learner } = run();
  await waitOnce('exit', () => learner.hasExited, CONVERSATION_MS);
  return learner.stdout.split('\n').map((l) => l.replace(/\r$/, ''));
}

describe('WebSocket API client', () => {
  it('sends the six requests in the order given, each one JSON text message with its own unique id', async () => {
    const { requests, ids } = await sentRequests();
    const { learner } = run();
    for (const [i, want] of REQUESTS.entries()) {
      const got = requests[i];
      const n = i + 1;
      if (!got) {
        const end = learner.hasExited ? ` Meanwhile ${describeExit(learner, await learner.exited)}` : '';
        const got = requests.length ? `only ${requests.length} message(s): ${requests.map((r) => r.text.slice(0, 100)).join(', ')}` : 'no message from your program';
        throw new GradingFailure(`expected ${describeRequest(n)} plus an "id", but the server received ${got}.${end}`);
      }
      if (got.request === undefined) throw new GradingFailure(`message ${n} your program sent is not JSON: ${JSON.stringify(got.text.slice(0, 200))}. Send JSON.stringify(request).`);
      const { id, ...rest } = (typeof got.request === 'object' && got.request !== null ? got.request : {}) as Record<string, unknown>;
      if (!isDeepStrictEqual(rest, want)) {
        throw new GradingFailure(`message ${n} should be ${JSON.stringify(want)} plus an "id" (the requests in the order given), but the server received ${got.text.slice(0, 200)}`);
      }
      if (typeof id !== 'string' && typeof id !== 'number') throw new GradingFailure(`request ${n} needs an "id", a string or a number, but the server received ${got.text.slice(0, 200)}`);
    }
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate !== undefined) throw new GradingFailure(`two requests have the id ${JSON.stringify(duplicate)}: then two replies carry it, and nothing tells them apart. Give each request its own id (ids: ${JSON.stringify(ids)})`);
    if (requests.length > REQUESTS.length) throw new GradingFailure(`send only the six requests; the server also received ${requests.slice(REQUESTS.length).map((r) => r.text.slice(0, 100)).join(', ')}`);
  });

  it('sends all six at once, without waiting for replies (they all arrive before the 400 ms reply)', async () => {
    const conn = await connection();
    const sent = await sentRequests();
    requireAllSent(sent);
    const { ids } = sent;
    await waitOnce('first reply', () => deliveredReply(conn, ids[0]) !== undefined || eventsOf('close', conn).length > 0, CONVERSATION_MS);
    const events = seen().filter((e) => e.connection === conn);
    const firstReply = events.findIndex((e) => e.type === 'reply' && e.reply.id === ids[0]);
    if (firstReply === -1) {
      const why = eventsOf('close', conn).length ? "your program's connection closed before it was due (400 ms after the request)" : `it did not come within ${CONVERSATION_MS / 1000} s`;
      throw new GradingFailure(`the server's reply to ${describeRequest(1)} never went out: ${why}.`);
    }
    const before = events.slice(0, firstReply).filter((e) => e.type === 'request').length;
    if (before < REQUESTS.length) {
      throw new GradingFailure(
        `when the server answered ${describeRequest(1)}, 400 ms after it arrived, it had received only ${before} request(s). ` +
          'Send all six requests right away, then collect the replies as they come: waiting for each reply before sending the next wastes the time the server could work on them together.',
      );
    }
  });

  it("prints each request's own result or error, taken from the reply with that request's id (replies come out of order, in fragments, with pings between)", async () => {
    const conn = await connection();
    const sent = await sentRequests();
    requireAllSent(sent);
    const { ids } = sent;
    const lines = (await finalOutput()).filter((l) => NUMBERED.test(l));
    for (let n = 1; n <= REQUESTS.length; n++) {
      const reply = deliveredReply(conn, ids[n - 1]);
      if (!reply) throw new GradingFailure(`the server did not get to answer ${describeRequest(n)}: your program closed the connection (or ended) before. Wait until every reply has arrived.`);
      const want = expectedLine(n, reply);
      const got = lines.filter((l) => l.startsWith(`${n} `));
      if (got.length === 1 && got[0] === want) continue;
      if (got.length > 1) throw new GradingFailure(`your program printed ${got.length} lines for ${describeRequest(n)}: ${got.map((l) => JSON.stringify(l)).join(', ')}; print exactly one, ${JSON.stringify(want)}`);
      if (got.length === 0) {
        const { learner } = run();
        const end = learner.hasExited ? ` ${describeExit(learner, await learner.exited)}` : '';
        throw new GradingFailure(`the server replied ${JSON.stringify(reply)} to ${describeRequest(n)}, so your program should print ${JSON.stringify(want)}, but it printed no line starting with "${n} ".${end}`);
      }
      // Whose reply did it print instead? A line made from another request's reply means replies were paired by position.
      const other = ids.findIndex((id, i) => {
        const theirs = i !== n - 1 ? deliveredReply(conn, id) : undefined;
        return theirs !== undefined && got[0].endsWith(` ${outcome(theirs)}`);
      });
      const hint =
        other !== -1
          ? ` That is the result of request ${other + 1}: replies arrive in the order they are ready, not the order of the requests. Match each reply to its request by the reply's "id".`
          : got[0].includes('\uFFFD')
            ? ' "\uFFFD" means bytes were decoded as text piece by piece: let ws hand you each message whole, and decode it once with data.toString().'
            : '';
      throw new GradingFailure(`the server replied ${JSON.stringify(reply)} to ${describeRequest(n)}, so your program should print ${JSON.stringify(want)}, but it printed ${JSON.stringify(got[0])}.${hint}`);
    }
  });

  it('prints the six lines in the order of the requests (1 to 6), not in the order the replies arrived', async () => {
    const lines = (await finalOutput()).filter((l) => NUMBERED.test(l));
    const order = lines.map((l) => Number(l[0]));
    if (isDeepStrictEqual(order, [1, 2, 3, 4, 5, 6])) return;
    if (order.length < REQUESTS.length) {
      throw new GradingFailure(`expected six lines numbered 1 to 6, in that order, but your program printed ${order.length ? `only the line(s) ${order.join(', ')}` : 'none'}.${outputTail(run().learner)}`);
    }
    throw new GradingFailure(
      `expected the lines in the order 1, 2, 3, 4, 5, 6 (the order of the requests), but your program printed them in the order ${order.join(', ')}. ` +
        'The replies arrive in another order (the slow ones last): keep each reply until the lines before it are printed.',
    );
  });

  it('closes the connection only after every reply has arrived', async () => {
    const conn = await connection();
    const sent = await sentRequests();
    requireAllSent(sent);
    const { ids } = sent;
    const close = await closedOrEnded(conn);
    if (!close) throw new GradingFailure(`your program did not close its connection within ${CONVERSATION_MS / 1000} s.${outputTail(run().learner)}`);
    const missing = ids.flatMap((id, i) => (deliveredReply(conn, id) ? [] : [i + 1]));
    if (missing.length) {
      throw new GradingFailure(
        `your program's connection closed before the server could send its reply to ${missing.map((n) => describeRequest(n)).join(' and ')}. ` +
          'Close only once you hold a reply for every request: count the replies (by id), not the order they arrive in.',
      );
    }
  });

  it(`closes with a close frame carrying code ${CLOSE.code} and reason "${CLOSE.reason}" (the closing handshake, not a dropped connection)`, async () => {
    const conn = await connection();
    const close = await closedOrEnded(conn);
    if (!close) throw new GradingFailure(`your program did not close its connection within ${CONVERSATION_MS / 1000} s.${outputTail(run().learner)}`);
    if (close.code === CLOSE.code && close.reason === CLOSE.reason) return;
    const why =
      close.code === 1006
        ? 'the connection ended without a close frame (ws.terminate(), process.exit() or a crash)'
        : close.code === 1005
          ? 'the close frame had no status code (ws.close() without arguments)'
          : `the close frame carried code ${close.code} and reason ${JSON.stringify(close.reason)}`;
    throw new GradingFailure(`expected your program to close with ws.close(${CLOSE.code}, '${CLOSE.reason}'), but ${why}.`);
  });

  it(`prints "closed ${CLOSE.code} ${CLOSE.reason}" once the close has completed, and ends by itself with exit code 0`, async () => {
    const { learner } = run();
    if (!(await waitOnce('exit', () => learner.hasExited, CONVERSATION_MS))) {
      throw new GradingFailure(`expected your program to end by itself within ${CONVERSATION_MS / 1000} s, but it was still running. Did it close the connection?${outputTail(learner)}`);
    }
    const exit = await learner.exited;
    const lines = learner.stdout.split('\n').map((l) => l.replace(/\r$/, ''));
    const closed = lines.filter((l) => CLOSED.test(l));
    const want = `closed ${CLOSE.code} ${CLOSE.reason}`;
    if (closed.length !== 1 || closed[0] !== want) {
      let why = '';
      if (closed.length === 0) why = " Print it in the 'close' event's handler: the program must not end before that event (no process.exit() after close(): it ends the program before the server has answered).";
      else if (closed[0].includes('<Buffer')) why = " The close event's reason is a Buffer in ws 8: turn it into text with reason.toString().";
      else if (closed.length > 1) why = ` It printed ${closed.length} of them: ${closed.map((l) => JSON.stringify(l)).join(', ')}.`;
      throw new GradingFailure(`expected your program to print ${JSON.stringify(want)} (the code and reason of the server's answer to your close), but it printed ${closed.length ? JSON.stringify(closed[0]) : 'no line starting with "closed"'}.${why}${outputTail(learner)}`);
    }
    const last = [...lines].reverse().find((l) => NUMBERED.test(l) || CLOSED.test(l));
    if (last !== want) throw new GradingFailure(`${JSON.stringify(want)} should be the last of your lines, after the six results, but ${JSON.stringify(last)} came after it`);
    if (exit.exitCode !== 0) throw new GradingFailure(`expected exit code 0, but ${describeExit(learner, exit)}`);
  });
});
