// Grades a client of the WebSocket JSON API (sandbox-server/src/reference-servers/WS-API-PROTOCOL.md)
// by what this grade's wsApi server saw (the requests, the replies it could deliver, the close
// frame) and by what the program printed. The server's replies come back out of order by design
// (two slow requests), each one arrives in three fragments with a ping between each two, cut
// anywhere, inside a UTF-8 character too, and the slow ones come seconds late, so that a client
// closing after a set time instead of once every reply is in closes too early.
//
// Requests are paired with the table by what they carry (op and arguments), and replies with
// requests by the server's own record of which message each answers: never by position or by the
// program's ids, so a mistake in the requests is reported once, by the first test, and does not
// turn into false comparisons in the later ones.
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
/** How much later than asked the server answers "slow" (instructions.md says so): past any timer a client might close on. */
const SLOW_EXTRA_MS = 2000;
/** How long the program may take to start and connect. */
const CONNECT_MS = 3000;
/**
 * From the program's connection, long enough for the whole conversation (the slowest reply: 400 ms +
 * SLOW_EXTRA_MS) on a loaded machine, and for one sent a request at a time (both slow replies in a
 * row). Counted from the connection, not the start: starting takes longest when the machine is busy.
 */
const CONVERSATION_MS = 6000;
/** Each test may wait for the connection, then for the conversation's end (the waits share one deadline). */
const TEST_TIMEOUT_MS = CONNECT_MS + CONVERSATION_MS + 3000;
/** Lines of the program's stdout the tests read: "<n> …" and "closed …"; others are ignored. */
const NUMBERED = /^[1-6] /;
const CLOSED = /^closed\b/;
/** A line that starts like a numbered one but with another number: named when the numbering is off. */
const OTHER_NUMBER = /^(\d+) /;

type Seen<T extends WsApiEvent['type']> = Extract<WsApiEvent, { type: T }>;
type Request = Seen<'request'>;

interface Run {
  learner: LearnerProcess;
  startedAt: number;
  /** When the grader saw the program's connection (undefined: not yet, or never). */
  connectedAt?: number;
  /** Waits several tests share: once one test waited for something, the others do not wait again. */
  waits: Map<string, Promise<boolean>>;
}

/** The program's one run in this grade; the server sends its replies in fragments with pings between, the slow ones late. */
const run = (): Run =>
  oncePerGrade('run', () => {
    referenceServers().wsApi.deliverReplies({ fragments: 3, pingBetween: true, slowExtraMs: SLOW_EXTRA_MS });
    return { learner: startLearner(), startedAt: Date.now(), waits: new Map() };
  });

/**
 * Waits until `ready`, at most until `within` ms after `since` (by default the program's connection,
 * or its start when it never connected); once per run for each `key`.
 */
function waitOnce(key: string, ready: () => boolean, within = CONVERSATION_MS, since = conversationStart()): Promise<boolean> {
  const { waits } = run();
  let wait = waits.get(key);
  if (!wait) waits.set(key, (wait = waitUntil(ready, Math.max(0, since + within - Date.now()))));
  return wait;
}

/** What the conversation's deadline counts from. */
function conversationStart(): number {
  const { connectedAt, startedAt } = run();
  return connectedAt ?? startedAt;
}

/** The conversation's deadline in words: "6 s of connecting". */
function conversationDeadline(): string {
  return `${CONVERSATION_MS / 1000} s of ${run().connectedAt === undefined ? 'starting' : 'connecting'}`;
}

const seen = (): WsApiEvent[] => referenceServers().wsApi.seen;
const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** The program's connection (the server's number for it); fails when it never connected, or connected more than once. */
async function connection(): Promise<number> {
  const { learner } = run();
  const connects = () => seen().filter((e): e is Seen<'connect'> => e.type === 'connect');
  await waitOnce('connect', () => connects().length > 0 || learner.hasExited, CONNECT_MS, run().startedAt);
  const [first, ...more] = connects();
  if (first) run().connectedAt ??= Date.now();
  if (!first) {
    const why = learner.hasExited ? describeExit(learner, await learner.exited) : `it did not connect within ${CONNECT_MS / 1000} s.${outputTail(learner)}`;
    throw new GradingFailure(`your program did not open a WebSocket to ws://HOST:WS_API_PORT (here ws://127.0.0.1:${referenceServers().ports.wsApi}/): ${why}`);
  }
  if (more.length) throw new GradingFailure(`your program opened ${more.length + 1} WebSockets to the server; send every request over one`);
  return first.connection;
}

function eventsOf<T extends WsApiEvent['type']>(type: T, id: number): Array<Seen<T>> {
  return seen().filter((e): e is Seen<T> => e.type === type && e.connection === id);
}

const isClosed = (conn: number): boolean => eventsOf('close', conn).length > 0;

/** Waits until the connection is closed (or the program ended and its connection with it). */
async function closedOrEnded(conn: number): Promise<Seen<'close'> | undefined> {
  await waitOnce('close', () => isClosed(conn));
  return eventsOf('close', conn)[0];
}

/** A message's fields when it was a JSON object. */
function fieldsOf(message: Request): Record<string, unknown> | undefined {
  const { request } = message;
  return typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Record<string, unknown>) : undefined;
}

/** Whether a message carries a request of the table: its op and arguments (other fields do not change the reply). */
function carries(message: Request, want: Record<string, unknown>): boolean {
  const fields = fieldsOf(message);
  return fields !== undefined && Object.entries(want).every(([key, value]) => isDeepStrictEqual(fields[key], value));
}

const idOf = (message: Request): unknown => fieldsOf(message)?.id;

interface Sent {
  /** The messages as the server received them, in order. */
  messages: Request[];
  /** For each request of the table, the one message that carried it, if exactly one did. */
  matched: Array<Request | undefined>;
  /** Why the replies to the six cannot be judged (one missing, sent twice, without a usable or unique id), if they cannot. */
  problem?: string;
}

/** Whether `message` has an id (a string or a number) that no other message has. */
function uniqueId(messages: Request[], message: Request): boolean {
  const id = idOf(message);
  return (typeof id === 'string' || typeof id === 'number') && messages.every((m) => m === message || idOf(m) !== id);
}

/** "1 and 2", "1, 2 and 3". */
function listed(items: unknown[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${String(items.at(-1))}` : String(items[0]);
}

function describeRequest(n: number): string {
  return `request ${n} (${JSON.stringify(REQUESTS[n - 1])})`;
}

/** Pairs the table's requests with the messages that carried them, whatever their order. */
function pair(messages: Request[]): Sent {
  const problems: string[] = [];
  const missing: number[] = [];
  const matched = REQUESTS.map((want, i) => {
    const carriers = messages.filter((m) => carries(m, want));
    if (carriers.length === 0) missing.push(i + 1);
    // A later message like it with an id no other message has is an extra request (the first test
    // reports it), not a resend: the first one still carries this request and its reply can be judged.
    const resends = carriers.slice(1).filter((m) => !uniqueId(messages, m));
    if (resends.length) problems.push(`${describeRequest(i + 1)} came ${resends.length + 1} times (messages ${[carriers[0], ...resends].map((m) => m.message).join(', ')})`);
    return carriers.length > 0 && !resends.length ? carriers[0] : undefined;
  });
  if (missing.length) {
    const binary = messages.some((m) => m.binary) ? ': your program sent binary messages, which the server does not read as requests' : '';
    const which = missing.length === REQUESTS.length ? 'any of the six requests' : missing.length === 1 ? describeRequest(missing[0]) : `request ${listed(missing)}`;
    problems.unshift(`no message carried ${which}${binary}`);
  }
  const ids = matched.map((m) => (m ? idOf(m) : undefined));
  matched.forEach((m, i) => {
    const id = ids[i];
    if (m && typeof id !== 'string' && typeof id !== 'number') problems.push(`request ${i + 1} had no "id", a string or a number`);
  });
  const shared = ids.find((id, i) => id !== undefined && ids.indexOf(id) !== i);
  if (shared !== undefined) {
    const which = ids.flatMap((id, i) => (id === shared ? [i + 1] : []));
    problems.push(`requests ${listed(which)} share the id ${JSON.stringify(shared)}, so their replies cannot be told apart`);
  }
  return { messages, matched, problem: problems.length ? problems.join('; ') : undefined };
}

/** The messages the program sent, once six arrived or the connection closed. */
async function sentRequests(): Promise<Sent> {
  const conn = await connection();
  const { learner } = run();
  // Not a short wait: a program that waits for each reply sends its last requests seconds late, and the first test must see them.
  await waitOnce('requests', () => eventsOf('request', conn).length >= REQUESTS.length || isClosed(conn) || learner.hasExited);
  return pair(eventsOf('request', conn));
}

/** For the tests that judge replies: the six requests must each have come once, with an id of their own. */
function requireSix(sent: Sent): Request[] {
  if (!sent.problem) return sent.matched as Request[];
  throw new GradingFailure(`this test judges the replies to the six requests of the table, each sent once with its own id, but ${sent.problem} (see the first test).`);
}

/** The reply the server delivered to this message, if it did. */
function deliveredReply(conn: number, message: Request): WsApiReply | undefined {
  return eventsOf('reply', conn).find((e) => e.delivered && e.inReplyTo === message.message)?.reply;
}

/** Why the server never sent its replies to these requests (numbers from 1): the connection closed first, or they were not due yet. */
function undelivered(conn: number, ns: number[]): string {
  const closedFirst = isClosed(conn) || eventsOf('reply', conn).some((e) => !e.delivered);
  const slow = ns.some((n) => REQUESTS[n - 1].op === 'slow') ? ` (the grader's server answers "slow" requests ${SLOW_EXTRA_MS / 1000} s later than asked)` : '';
  const why = closedFirst ? `your program's connection closed before ${ns.length > 1 ? 'they were' : 'it was'} ready${slow}` : `not out ${CONVERSATION_MS / 1000} s after your program ${run().connectedAt === undefined ? 'started' : 'connected'}`;
  return `the server never sent its ${ns.length > 1 ? 'replies' : 'reply'} to ${ns.map(describeRequest).join(' and ')}: ${why}`;
}

/** What a line says about a reply: `ok <result as JSON>` or `error <message>`. */
function outcome(reply: WsApiReply): string {
  return reply.ok ? `ok ${JSON.stringify(reply.result)}` : `error ${reply.error}`;
}

/** The line the program should print for request n (1-based), given the server's reply, without its number. */
function expectedRest(n: number, reply: WsApiReply): string {
  return `${String(REQUESTS[n - 1].op)} ${outcome(reply)}`;
}

/** The program's stdout lines once it ended (or once the conversation had time to finish). */
async function finalOutput(): Promise<string[]> {
  const { learner } = run();
  await waitOnce('exit', () => learner.hasExited);
  return learner.stdout.split('\n').map((l) => l.replace(/\r$/, ''));
}

/** Says what is off in lines numbered otherwise than 1 to 6: from 0, or with the requests' ids. */
function numberingHint(lines: string[], ids: unknown[]): string {
  const others = lines.filter((l) => OTHER_NUMBER.test(l) && !NUMBERED.test(l));
  if (!others.length) return '';
  const numbers = others.map((l) => Number(OTHER_NUMBER.exec(l)![1]));
  const quoted = others.slice(0, 3).map((l) => JSON.stringify(l)).join(', ');
  if (numbers.includes(0)) return ` It printed ${quoted}: its lines are numbered from 0. <n> is the request's number in the table, 1 to 6.`;
  const idIndex = ids.findIndex((id) => numbers.includes(Number(id)));
  if (idIndex !== -1) return ` It printed ${quoted}: ${numbers[0]} is the id of a request, not its number. <n> is the request's number in the table, 1 to 6, whatever id you gave it.`;
  return ` It printed ${quoted}: <n> is the request's number in the table, 1 to 6.`;
}

function exitNote(learner: LearnerProcess, exit: { exitCode: number | null; signal: string | null; limit?: string } | undefined): string {
  return exit ? ` ${capitalized(describeExit(learner, exit))}` : '';
}

describe('WebSocket API client', () => {
  it('sends the six requests in the order given, each one JSON text message with its own unique id', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { messages } = await sentRequests();
    const { learner } = run();
    const count = messages.length > REQUESTS.length ? ` (the server received ${messages.length} messages, not six)` : '';
    for (const [i, want] of REQUESTS.entries()) {
      const got = messages[i];
      const n = i + 1;
      if (!got) {
        const end = learner.hasExited ? ` Meanwhile ${describeExit(learner, await learner.exited)}` : '';
        const received = messages.length ? `only ${messages.length} message(s): ${messages.map((r) => r.text.slice(0, 100)).join(', ')}` : 'no message from your program';
        throw new GradingFailure(`expected ${describeRequest(n)} plus an "id", but the server received ${received}.${end}`);
      }
      const text = got.text.slice(0, 200);
      if (got.binary) {
        throw new GradingFailure(
          `message ${n} your program sent is a binary message (its bytes read ${JSON.stringify(text)}); the server takes only text messages. ` +
            'ws sends a string as a text message and a Buffer or typed array as a binary one: send the string JSON.stringify(request) itself.',
        );
      }
      if (got.request === undefined) throw new GradingFailure(`message ${n} your program sent is not JSON: ${JSON.stringify(text)}. Send JSON.stringify(request).`);
      const fields = fieldsOf(got);
      if (!fields) throw new GradingFailure(`message ${n} should be a JSON object, ${JSON.stringify(want)} plus an "id", but the server received ${text}${count}.`);
      const { id, ...rest } = fields;
      if (!isDeepStrictEqual(rest, want)) {
        const other = REQUESTS.findIndex((r) => isDeepStrictEqual(rest, r));
        const missing = Object.keys(want).filter((k) => !(k in rest));
        const extra = Object.keys(rest).filter((k) => !(k in want));
        const changed = Object.keys(want).filter((k) => k in rest && !isDeepStrictEqual(rest[k], want[k]));
        const what =
          other !== -1
            ? messages.length > REQUESTS.length
              ? `that is request ${other + 1} of the table, and the server received ${messages.length} messages: send the six requests, in the table's order, and nothing else`
              : `that is request ${other + 1} of the table: send them in the table's order`
            : [
                ...missing.map((k) => `it has no "${k}"`),
                ...changed.map((k) => `its "${k}" is ${JSON.stringify(rest[k])}, not ${JSON.stringify(want[k])}`),
                ...(extra.length ? [`it has ${extra.map((k) => `"${k}"`).join(', ')}, which the table does not give (send the object plus "id", nothing else)`] : []),
              ].join('; ');
        throw new GradingFailure(`message ${n} should be ${JSON.stringify(want)} plus an "id" (the requests in the order given), but the server received ${text}: ${what}${other === -1 ? count : ''}.`);
      }
      if (typeof id !== 'string' && typeof id !== 'number') throw new GradingFailure(`request ${n} needs an "id", a string or a number, but the server received ${text}`);
    }
    const ids = messages.slice(0, REQUESTS.length).map(idOf);
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate !== undefined) throw new GradingFailure(`two requests have the id ${JSON.stringify(duplicate)}: then two replies carry it, and nothing tells them apart. Give each request its own id (ids: ${JSON.stringify(ids)})`);
    if (messages.length > REQUESTS.length) throw new GradingFailure(`send only the six requests; the server also received ${messages.slice(REQUESTS.length).map((r) => r.text.slice(0, 100)).join(', ')}`);
  });

  it('sends all six at once, without waiting for replies (they all arrive before the 400 ms reply)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const conn = await connection();
    const requests = requireSix(await sentRequests());
    const first = requests[0];
    await waitOnce('first reply', () => deliveredReply(conn, first) !== undefined || isClosed(conn));
    // The reply to the slow first request, or the close if it came first: all six must have arrived by then.
    const events = seen().filter((e) => e.connection === conn);
    const cut = events.findIndex((e) => (e.type === 'reply' && e.inReplyTo === first.message) || e.type === 'close');
    if (cut === -1) throw new GradingFailure(`${capitalized(undelivered(conn, [1]))}.`);
    const arrived = events.slice(0, cut);
    const late = requests.flatMap((r, i) => (arrived.includes(r) ? [] : [i + 1]));
    if (late.length) {
      const when = events[cut].type === 'close' ? 'when your program closed its connection' : `when the server answered ${describeRequest(1)}, ${(400 + SLOW_EXTRA_MS) / 1000} s after it arrived,`;
      throw new GradingFailure(
        `${capitalized(when)} it had received only ${REQUESTS.length - late.length} of the six requests (not yet request ${listed(late)}). ` +
          'Send all six requests right away, then collect the replies as they come: waiting for each reply before sending the next wastes the time the server could work on them together.',
      );
    }
  });

  it("prints each request's own result or error, taken from the reply with that request's id (replies come out of order, in fragments, with pings between)", { timeout: TEST_TIMEOUT_MS }, async () => {
    const conn = await connection();
    const requests = requireSix(await sentRequests());
    const ids = requests.map(idOf);
    const all = await finalOutput();
    const lines = all.filter((l) => NUMBERED.test(l));
    const { learner } = run();
    const replies = requests.map((r) => deliveredReply(conn, r));
    const never = replies.flatMap((r, i) => (r ? [] : [i + 1]));
    if (never.length) {
      throw new GradingFailure(
        `${capitalized(undelivered(conn, never))}, so your program could not print ${never.length > 1 ? 'their lines' : 'its line'} (see the test "closes the connection only after every reply has arrived").`,
      );
    }
    for (let n = 1; n <= REQUESTS.length; n++) {
      const reply = replies[n - 1]!;
      const want = `${n} ${expectedRest(n, reply)}`;
      const got = lines.filter((l) => l.startsWith(`${n} `));
      if (got.length === 1 && got[0] === want) continue;
      if (got.length > 1) throw new GradingFailure(`your program printed ${got.length} lines for ${describeRequest(n)}: ${got.map((l) => JSON.stringify(l)).join(', ')}; print exactly one, ${JSON.stringify(want)}`);
      const said = `the server replied ${JSON.stringify(reply)} to ${describeRequest(n)}, so your program should print ${JSON.stringify(want)}`;
      if (got.length === 0) {
        const exit = learner.hasExited ? await learner.exited : undefined;
        throw new GradingFailure(`${said}, but it printed no line starting with "${n} ".${numberingHint(all, ids)}${exitNote(learner, exit)}`);
      }
      // Whose reply did it print instead? Another request's whole line under this number means the
      // numbering is off; this request's op with another one's result means replies were paired by position.
      const printed = got[0].slice(`${n} `.length);
      const otherLine = replies.findIndex((r, i) => i !== n - 1 && r !== undefined && printed === expectedRest(i + 1, r));
      const otherResult = replies.findIndex((r, i) => i !== n - 1 && r !== undefined && printed === `${String(REQUESTS[n - 1].op)} ${outcome(r)}`);
      const hint =
        otherLine !== -1
          ? ` That is the line of request ${otherLine + 1} (its op and its reply) under the number ${n}.${numberingHint(all, ids) || ` <n> is the request's number in the table: request ${otherLine + 1}'s line starts with "${otherLine + 1} ".`}`
          : otherResult !== -1
            ? ` That is the result of request ${otherResult + 1} (the reply with the id ${JSON.stringify(ids[otherResult])}): replies arrive in the order they are ready, not the order of the requests. Match each reply to its request by the reply's "id".`
            : got[0].includes('\uFFFD')
              ? ' "\uFFFD" means bytes were decoded as text piece by piece: let ws hand you each message whole, and decode it once with data.toString().'
              : '';
      throw new GradingFailure(`${said}, but it printed ${JSON.stringify(got[0])}.${hint}`);
    }
  });

  it('prints the six lines in the order of the requests (1 to 6), not in the order the replies arrived', { timeout: TEST_TIMEOUT_MS }, async () => {
    const all = await finalOutput();
    const lines = all.filter((l) => NUMBERED.test(l));
    const numbers = lines.map((l) => Number(l[0]));
    if (isDeepStrictEqual(numbers, [1, 2, 3, 4, 5, 6])) return;
    // A number's second line is an extra line (a debug line starting with a digit), judged apart from the order.
    const extra = lines.filter((_, i) => numbers.indexOf(numbers[i]) !== i);
    const order = numbers.filter((n, i) => numbers.indexOf(n) === i);
    const extraNote = extra.length
      ? ` Besides, it printed ${listed(extra.map((l) => JSON.stringify(l)))} after a line with the same number: print one line per request, and no other line starting with a digit 1 to 6 and a space (the grader reads those as results).`
      : '';
    if (extra.length && isDeepStrictEqual(order, [1, 2, 3, 4, 5, 6])) {
      throw new GradingFailure(`your program printed its six lines in the order 1 to 6, as it should, but also ${listed(extra.map((l) => JSON.stringify(l)))}: print one line per request, and no other line starting with a digit 1 to 6 and a space (the grader reads those as results).`);
    }
    if (order.length < REQUESTS.length) {
      const conn = await connection();
      const sent = pair(eventsOf('request', conn));
      const ids = sent.matched.map((m) => (m ? idOf(m) : undefined));
      // Lines the program could not print because their replies never came: say so, and why.
      const never = sent.problem ? [] : sent.matched.flatMap((m, i) => (deliveredReply(conn, m!) ? [] : [i + 1]));
      const cause = never.length ? ` ${capitalized(undelivered(conn, never))}.` : '';
      throw new GradingFailure(
        `expected six lines numbered 1 to 6, in that order, but your program printed ${order.length ? `only the line(s) ${order.join(', ')}` : 'none'}.${numberingHint(all, ids)}${cause}${extraNote}${outputTail(run().learner)}`,
      );
    }
    throw new GradingFailure(
      `expected the lines in the order 1, 2, 3, 4, 5, 6 (the order of the requests), but your program printed them in the order ${order.join(', ')}. ` +
        `The replies arrive in another order (the slow ones last): keep each reply until the lines before it are printed.${extraNote}`,
    );
  });

  it('closes the connection only after every reply has arrived', { timeout: TEST_TIMEOUT_MS }, async () => {
    const conn = await connection();
    const requests = requireSix(await sentRequests());
    const close = await closedOrEnded(conn);
    if (!close) throw new GradingFailure(`your program did not close its connection within ${conversationDeadline()}.${outputTail(run().learner)}`);
    const missing = requests.flatMap((r, i) => (deliveredReply(conn, r) ? [] : [i + 1]));
    if (missing.length) {
      throw new GradingFailure(
        `your program's connection closed before the server could send its reply to ${missing.map((n) => describeRequest(n)).join(' and ')}. ` +
          `The grader's server answers "slow" requests ${SLOW_EXTRA_MS / 1000} s later than they ask, as a busy server may: ` +
          'close only once you hold a reply for every request (count the replies by id), not after a set time nor when the reply to the last request sent arrives.',
      );
    }
  });

  it(`closes with a close frame carrying code ${CLOSE.code} and reason "${CLOSE.reason}" (the closing handshake, not a dropped connection)`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const conn = await connection();
    const close = await closedOrEnded(conn);
    if (!close) throw new GradingFailure(`your program did not close its connection within ${conversationDeadline()}.${outputTail(run().learner)}`);
    if (close.code === CLOSE.code && close.reason === CLOSE.reason) return;
    const why =
      close.code === 1006
        ? 'the connection ended without a close frame (ws.terminate(), process.exit() or a crash)'
        : close.code === 1005
          ? 'the close frame had no status code (ws.close() without arguments)'
          : `the close frame carried code ${close.code} and reason ${JSON.stringify(close.reason)}`;
    throw new GradingFailure(`expected your program to close with ws.close(${CLOSE.code}, '${CLOSE.reason}'), but ${why}.`);
  });

  // Only the line and its place can be checked: a program that prints it right after close() looks
  // the same from outside (instructions.md says so). The line's code and reason still come from the
  // 'close' event in every program that gets them right without hard-coding them.
  it(`prints "closed ${CLOSE.code} ${CLOSE.reason}" as its last line, and ends by itself with exit code 0`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const { learner } = run();
    if (!(await waitOnce('exit', () => learner.hasExited))) {
      const closed = seen().find((e): e is Seen<'close'> => e.type === 'close');
      const state = closed
        ? ` Its connection had closed (code ${closed.code}), so something else keeps Node running: a timer still set (setInterval, a setTimeout not cleared), another socket or an open handle. Clear it, or do not start it, so the program ends once the connection is closed.`
        : seen().some((e) => e.type === 'connect')
          ? ' Its connection was still open: close it once every reply is in.'
          : '';
      throw new GradingFailure(`expected your program to end by itself within ${conversationDeadline()}, but it was still running.${state}${outputTail(learner)}`);
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
