// For graders of Socket.IO servers whose events answer through the client's callback with
// { ok: true, … } or { ok: false, error: { code, message } } (sio-event-server, sio-rooms): one reply
// object expected, refusals checked by code with a message for people, and a failure after which
// the learner's server turns out to have crashed says so, once, with how it ended.
import { GradingFailure } from './context.ts';
import { describeExit, learnerServer, waitUntil } from './learner.ts';
import { show, showCall, type TestSocketIo } from './test-socket-io.ts';

export type Reply = Record<string, unknown>;

const CRASH_ADVICE =
  'An exception in a Socket.IO handler (a throw of your own, or a TypeError such as reading a property of null or calling something that is not a function) ' +
  'crashes the whole server: check what arrived, and answer a bad request with { ok: false, error: { code, message } } through the callback';

/** A failure that already says the server stopped, and how. */
class ServerStopped extends GradingFailure {}

/** A failure after which the server turns out to have stopped says so, with how it ended (once). */
export async function explainCrash(err: unknown, when: string): Promise<never> {
  const server = await learnerServer();
  if (err instanceof GradingFailure && !(err instanceof ServerStopped) && (await waitUntil(() => server.process.hasExited, 1000))) {
    throw new ServerStopped(`${err.message.replace(/\.+$/, '')}. Your server stopped ${when}: ${describeExit(server.process, await server.process.exited).replace(/^your program /, '')}. ${CRASH_ADVICE}.`);
  }
  throw err;
}

/** Emits `event` with a callback and resolves with the one object the server called it with. */
export async function request(client: TestSocketIo, event: string, args: unknown[], what: string): Promise<Reply> {
  const call = showCall(event, args);
  const reply = await client.emitWithAck(event, args).catch((err: unknown) => explainCrash(err, `after ${client.label} sent ${call} (${what})`));
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
