// For graders of Socket.IO servers whose events answer through the client's callback with
// { ok: true, … } or { ok: false, error: { code, message } } (sio-event-server, sio-rooms): one reply
// object expected, refusals checked by code with a message for people, a server that emits its
// reply as an event instead of calling the callback told so at once, and a failure after which the
// learner's server turns out to have stopped says so, once, with how it ended.
import { setTimeout as sleep } from 'node:timers/promises';
import { GradingFailure } from './context.ts';
import { describeExit, learnerServer, waitUntil } from './learner.ts';
import { show, showCall, type ReceivedEvent, type TestSocketIo } from './test-socket-io.ts';

export type Reply = Record<string, unknown>;

const CRASH_ADVICE =
  'An exception in a Socket.IO handler (a throw of your own, or a TypeError such as reading a property of null or calling something that is not a function) ' +
  'crashes the whole server: check what arrived, and answer a bad request with { ok: false, error: { code, message } } through the callback';
const TIME_LIMIT_ADVICE = 'It did not crash: the grader stops every program at its time limit, and requests left unanswered each wait for their deadline, which uses the time up';
/** How long the callback may still take once the server emitted an event that looks like the reply. */
const ACK_AFTER_EMITTED_REPLY_MS = 300;
/** How long a request is repeated until its answer shows the effect of an unanswered event. */
const EFFECT_WITHIN_MS = 1000;

/** A failure that says all there is to say: no need to look whether the server stopped. */
class Explained extends GradingFailure {}
/** A failure that already says the server stopped, and how. */
class ServerStopped extends Explained {}
/** The server emitted its reply instead of calling the callback: it is running. */
class ReplyEmitted extends Explained {}

/** A failure after which the server turns out to have stopped says so, with how it ended (once). */
export async function explainCrash(err: unknown, when: string): Promise<never> {
  if (!(err instanceof GradingFailure) || err instanceof Explained) throw err;
  const server = await learnerServer();
  if (await waitUntil(() => server.process.hasExited, 1000)) {
    const exit = await server.process.exited;
    const how = describeExit(server.process, exit).replace(/^your program /, '');
    // Only a program that ended by itself crashed; one the grader stopped at a limit did not.
    const message = err.message.replace(/\.+$/, '');
    if (exit.timedOut) throw new ServerStopped(`${message}. By then the grader had stopped your server at its time limit: ${how} ${TIME_LIMIT_ADVICE}.`);
    throw new ServerStopped(`${message}. Your server stopped ${when}: ${how}${exit.limit ? '' : ` ${CRASH_ADVICE}.`}`);
  }
  throw err;
}

/** An event argument shaped like a reply: an object with a boolean `ok`. */
const looksLikeReply = (args: unknown[]) => args.some((arg) => typeof arg === 'object' && arg !== null && typeof (arg as Reply).ok === 'boolean');

/**
 * The acknowledgement's arguments. A server that emits its reply as an event instead of calling the
 * callback would make every request wait for its whole deadline: once such an event arrives, the
 * callback gets a short grace, then the failure says what came instead.
 */
async function acknowledgement(client: TestSocketIo, event: string, args: unknown[]): Promise<unknown[]> {
  const ack = client.emitWithAck(event, args);
  ack.catch(() => {}); // awaited below, or abandoned once the emitted reply decided
  let listener: ((name: string, ...received: unknown[]) => void) | undefined;
  const emitted = new Promise<ReceivedEvent>((resolve) => {
    listener = (name, ...received) => {
      if (looksLikeReply(received)) resolve({ event: name, args: received });
    };
    client.socket.onAny(listener);
  });
  try {
    const first = await Promise.race([ack, emitted]);
    if (Array.isArray(first)) return first;
    const late = await Promise.race([ack, sleep(ACK_AFTER_EMITTED_REPLY_MS).then(() => undefined)]);
    if (late) return late;
    throw new ReplyEmitted(
      `${client.label} sent ${showCall(event, args)} with an acknowledgement callback, and your server answered by emitting ${showCall(first.event, first.args)} instead of calling the callback: ` +
        'Socket.IO hands your handler the callback as its last argument; answer with callback(reply), not socket.emit(…)',
    );
  } finally {
    client.socket.offAny(listener);
  }
}

/** Emits `event` with a callback and resolves with the one object the server called it with. */
export async function request(client: TestSocketIo, event: string, args: unknown[], what: string): Promise<Reply> {
  const call = showCall(event, args);
  const reply = await acknowledgement(client, event, args).catch((err: unknown) => explainCrash(err, `after ${client.label} sent ${call} (${what})`));
  const [first] = reply;
  if (reply.length !== 1 || typeof first !== 'object' || first === null || Array.isArray(first)) {
    throw new GradingFailure(
      `${client.label} sent ${call} (${what}), and your server called the callback with ${reply.length === 0 ? 'no arguments' : reply.map(show).join(', ')}: ` +
        'expected one argument, the reply object ({ ok: true, … } or { ok: false, error })',
    );
  }
  return first as Reply;
}

/** Expects { ok: true, … } and returns it. */
export async function expectOk(client: TestSocketIo, event: string, args: unknown[], what: string): Promise<Reply> {
  const reply = await request(client, event, args, what);
  if (reply.ok !== true) throw new GradingFailure(`${client.label} sent ${showCall(event, args)} (${what}) and expected { ok: true, … }, but your server answered ${show(reply)}`);
  return reply;
}

/** Expects { ok: false, error: { code, message } } with this code and a message for people. */
export async function expectRefused(client: TestSocketIo, event: string, args: unknown[], code: string, why: string): Promise<void> {
  const reply = await request(client, event, args, why);
  const error = reply.error as { code?: unknown; message?: unknown } | undefined;
  if (reply.ok === false && error?.code === code) {
    if (typeof error.message === 'string' && error.message.trim() !== '') return;
    throw new GradingFailure(`${client.label} sent ${showCall(event, args)} (${why}) and got ${show(reply)}: the code is right, but error.message must be a sentence for people (a non-empty string)`);
  }
  throw new GradingFailure(`${client.label} sent ${showCall(event, args)} (${why}) and expected { ok: false, error: { code: "${code}", message } }, but your server answered ${show(reply)}`);
}

/**
 * Asks (`ask`, e.g. a list request) again until the answer `holds`, for at most `within` ms, and
 * returns the last answer with whether it held. The effect of an event sent without a callback
 * may come after the answer to a later request (a handler may await before it acts), so a test
 * waits for it instead of assuming it came in order; the first answer that holds ends the wait.
 */
export async function askUntil<T>(ask: () => Promise<T>, holds: (answer: T) => boolean, within = EFFECT_WITHIN_MS): Promise<{ answer: T; held: boolean }> {
  const deadline = Date.now() + within;
  for (;;) {
    const answer = await ask();
    if (holds(answer)) return { answer, held: true };
    if (Date.now() >= deadline) return { answer, held: false };
    await sleep(10); // a retry interval, not a guess
  }
}
