// Grades a Socket.IO server whose /secure namespace checks auth.token in its middleware: refusals
// are read from the client's connect_error (message and data.code, exactly as instructions.md
// lists them), identities from whoami's acknowledgement, with several connections open at once so
// that an identity kept anywhere but on the connection shows. The main namespace must stay open.
// Every wait is for an event (a connect, a connect_error, an ack): no fixed pauses.
import { describe, it } from 'vitest';
import { GradingFailure, learnerServer, show, showCall, type LearnerServer, type TestSocketIo } from '../../sandbox-server/src/grading-kit/index.ts';

const SECURE = '/secure';
/** The valid tokens and who they are (instructions.md's table). */
const USERS = {
  ada: { token: 's3cret-ada', identity: { user: 'ada', role: 'admin' } },
  bob: { token: 's3cret-bob', identity: { user: 'bob', role: 'member' } },
  cy: { token: 's3cret-cy', identity: { user: 'cy', role: 'member' } },
} as const;
const REFUSALS = {
  NO_TOKEN: 'token required',
  BAD_TOKEN_TYPE: 'token must be a string',
  UNKNOWN_TOKEN: 'unknown token',
} as const;
type Code = keyof typeof REFUSALS;
/** Which tokens each refusal is for (instructions.md's table), for messages. */
const REFUSED_FOR: Record<Code, string> = {
  NO_TOKEN: 'a missing (or null) token',
  BAD_TOKEN_TYPE: 'a token that is not a string',
  UNKNOWN_TOKEN: 'a string that is not a valid token',
};
const isCode = (value: unknown): value is Code => typeof value === 'string' && Object.hasOwn(REFUSALS, value);

const authText = (auth: Record<string, unknown> | undefined) => (auth === undefined ? 'no auth at all' : `auth ${show(auth)}`);

/** How a server that stopped ended, from the start of its error output (where a crash says what was thrown and where). */
async function howItStopped(server: LearnerServer): Promise<string> {
  const exit = await server.process.exited;
  const how = exit.limit ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`);
  const output = (server.process.stderr.trim() || server.process.stdout.trim()).slice(0, 800);
  return `Your server ${how}.${output ? ` Its output began with:\n${output}` : ' It printed nothing.'}`;
}

/**
 * A handshake that stops the server gets no answer: fail with how it stopped as soon as it has,
 * rather than after the client's wait for a connect_error runs out.
 */
async function unlessItStops<T>(server: LearnerServer, attempt: Promise<T>, sent: string): Promise<T> {
  if (server.process.hasExited) return attempt; // it stopped before: the kit says it is no longer running
  const stopped = server.process.exited.then(async () => {
    throw new GradingFailure(
      `${sent}, and your server stopped while handling that handshake. An exception thrown in the middleware (or in anything it calls) ` +
        `is not caught by Socket.IO and stops the whole server: refuse with next(err) instead of throwing. ${await howItStopped(server)}`,
    );
  });
  // Whichever ends first decides; the other one's outcome is dropped (no unhandled rejection).
  stopped.catch(() => {});
  attempt.catch(() => {});
  return Promise.race([attempt, stopped]);
}

/** Connects to /secure expecting a refusal with `code` and its message; fails saying what came instead. */
async function expectRefused(label: string, auth: Record<string, unknown> | undefined, code: Code): Promise<void> {
  const server = await learnerServer();
  const sent = `${label} connected to ${SECURE} with ${authText(auth)}`;
  const refusal = await unlessItStops(server, server.connectSocketIoRefused({ label, namespace: SECURE, auth }), sent).catch(async (err: unknown) => {
    if (!(err instanceof GradingFailure && /accepted/.test(err.message))) throw err;
    const expected = `${sent}, and your server let it connect; expected a connect_error "${REFUSALS[code]}" with data.code ${code} (${REFUSED_FOR[code]}).`;
    // A middleware on the wrong namespace refuses there: the same handshake on "/" says so.
    const onMain = await server.connectSocketIoRefused({ label: `${label} on "/"`, auth }).catch(() => undefined);
    if (onMain) {
      throw new GradingFailure(
        `${expected} The same handshake on the main namespace "/" was refused (connect_error "${onMain.message}"): the check runs on "/" instead of ${SECURE}. ` +
          `io.use(…) is the main namespace's middleware; ${SECURE}'s is io.of('${SECURE}').use((socket, next) => …).`,
      );
    }
    throw new GradingFailure(
      `${expected} Either the middleware let this token through, or the token is checked in the 'connection' handler, which is too late ` +
        `(the client is connected by then): check it in io.of('${SECURE}').use((socket, next) => …) and refuse with next(err).`,
    );
  });
  const gotCode = typeof refusal.data === 'object' && refusal.data !== null ? (refusal.data as { code?: unknown }).code : undefined;
  const expected = `connect_error "${REFUSALS[code]}" with data.code "${code}"`;
  const got = `connect_error "${refusal.message}" with ${refusal.data === undefined ? 'no data' : `data ${show(refusal.data)}`}`;
  if (gotCode !== code || refusal.message !== REFUSALS[code]) {
    const why =
      refusal.data === undefined
        ? ' The error passed to next() needs a data property: Object.assign(new Error(message), { data: { code } }).'
        : isCode(gotCode) && gotCode !== code && refusal.message === REFUSALS[gotCode]
          ? ` That is the refusal for ${REFUSED_FOR[gotCode]}; this is ${REFUSED_FOR[code]}.`
          : '';
    throw new GradingFailure(`${sent}; expected ${expected}, but got ${got}.${why}`);
  }
}

type Case = readonly [label: string, auth: Record<string, unknown> | undefined, code: Code];

/** Several refusals at once (independent handshakes); the first failure in the list's order is the one reported. */
async function expectAllRefused(cases: readonly Case[], explain?: (failure: GradingFailure, auth: Record<string, unknown> | undefined) => GradingFailure): Promise<void> {
  const outcomes = await Promise.allSettled(cases.map(([label, auth, code]) => expectRefused(label, auth, code)));
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') return;
    const err = outcome.reason as unknown;
    throw explain && err instanceof GradingFailure ? explain(err, cases[i][1]) : err;
  });
}

/** Connects to /secure with a good token and asks whoami. */
async function admitted(name: keyof typeof USERS, label: string = name): Promise<TestSocketIo> {
  const server = await learnerServer();
  const auth = { token: USERS[name].token };
  return server.connectSocketIo({ label, namespace: SECURE, auth }).catch((err: unknown) => {
    throw new GradingFailure(`${label} connected to ${SECURE} with ${authText(auth)}, a valid token (${name}'s): expected it to be admitted. ${(err as Error).message}`);
  });
}

/** Fails unless whoami's acknowledgement is exactly `name`'s identity. */
async function expectIdentity(client: TestSocketIo, name: keyof typeof USERS, context = ''): Promise<void> {
  const expected = USERS[name].identity;
  const [got] = await client.emitWithAck('whoami', [], { what: `emit whoami on ${SECURE}` }).catch((err: unknown) => {
    const instead = client.received.at(-1);
    if (!instead) throw err;
    throw new GradingFailure(`${(err as Error).message}; it got the event ${showCall(instead.event, instead.args)} instead. Answer through the acknowledgement: the handler's last argument is a function, call it with the identity.`);
  });
  const fields = typeof got === 'object' && got !== null ? (got as Record<string, unknown>) : undefined;
  if (fields?.user !== expected.user || fields?.role !== expected.role) {
    throw new GradingFailure(`${client.label} (connected with ${name}'s token ${show(USERS[name].token)}) sent whoami${context}; expected the ack ${show(expected)}, but got ${show(got)}`);
  }
}

describe('a namespace that checks tokens at the handshake', () => {
  it('keeps the main namespace "/" open: clients with no auth, a wrong token or a good one connect, and ping is acknowledged with "pong"', async () => {
    const server = await learnerServer();
    // Names, not descriptions: the kit's messages say "<label>'s connection".
    const guests = [
      ['guest', undefined],
      ['eve', { token: 'nope' }],
      ['ada', { token: USERS.ada.token }],
    ] as const;
    const clients = await Promise.allSettled(guests.map(([label, auth]) => server.connectSocketIo({ label, auth })));
    for (const [i, [label, auth]] of guests.entries()) {
      const outcome = clients[i];
      if (outcome.status === 'rejected') {
        throw new GradingFailure(`${label} connected to the main namespace "/" with ${authText(auth)}: it needs no token, but ${(outcome.reason as Error).message}. The middleware belongs to ${SECURE} only (io.of('${SECURE}').use(…)), not io.use(…).`);
      }
      const [answer] = await outcome.value.emitWithAck('ping', [], { what: 'emit ping on "/"' });
      if (answer !== 'pong') throw new GradingFailure(`${label} sent ping on "/" with an ack callback; expected the ack "pong", but got ${show(answer)}`);
      outcome.value.close();
    }
  });

  it('refuses /secure without a token (no auth, auth {}, a token of null) with connect_error "token required", data.code NO_TOKEN', async () => {
    await expectAllRefused([
      ['nobody', undefined, 'NO_TOKEN'],
      ['a client with an empty auth', {}, 'NO_TOKEN'],
      ['a client with a null token', { token: null }, 'NO_TOKEN'],
      ['a client with a user but no token', { user: 'ada' }, 'NO_TOKEN'],
    ]);
  });

  it('refuses a token that is not a string (a number, an array holding a valid token, an object) with "token must be a string", BAD_TOKEN_TYPE', async () => {
    await expectAllRefused([
      ['a client with an array', { token: [USERS.ada.token] }, 'BAD_TOKEN_TYPE'],
      ['a client with a number', { token: 42 }, 'BAD_TOKEN_TYPE'],
      ['a client with an object', { token: { token: USERS.ada.token } }, 'BAD_TOKEN_TYPE'],
      ['a client with true', { token: true }, 'BAD_TOKEN_TYPE'],
    ]);
  });

  it('refuses a string that is no valid token (a made-up one, "") with "unknown token", UNKNOWN_TOKEN', async () => {
    await expectAllRefused([
      ['mallory', { token: 's3cret-mallory' }, 'UNKNOWN_TOKEN'],
      ['a client with an empty token', { token: '' }, 'UNKNOWN_TOKEN'],
    ]);
  });

  it('compares tokens exactly: a valid token in capitals, with a space before or after, or with more after it, and "toString", "constructor", "__proto__", are unknown tokens', async () => {
    await expectAllRefused([
      ['a client shouting', { token: USERS.ada.token.toUpperCase() }, 'UNKNOWN_TOKEN'],
      ['a client with a space', { token: ` ${USERS.bob.token}` }, 'UNKNOWN_TOKEN'],
      ['a client with a space after', { token: `${USERS.ada.token} ` }, 'UNKNOWN_TOKEN'],
      ['a client with more after the token', { token: `${USERS.ada.token}x` }, 'UNKNOWN_TOKEN'],
    ], (failure) => new GradingFailure(`${failure.message} A token is valid only when the whole string equals one in the table: no trimming, no change of case, no prefix match (USERS.get(token) on a Map).`));
    const inherited = ['toString', 'constructor', '__proto__', 'hasOwnProperty'];
    await expectAllRefused(
      inherited.map((token) => [`a client with the token ${show(token)}`, { token }, 'UNKNOWN_TOKEN'] as const),
      (failure, auth) =>
        new GradingFailure(`${failure.message} A plain object used as a table finds the properties every object inherits (${show(auth?.token)} among them); use a Map (USERS.get(token)) or Object.hasOwn.`),
    );
  });

  it('admits each valid token on /secure, and whoami acknowledges its user and role', async () => {
    const names = ['ada', 'bob', 'cy'] as const;
    const clients = await Promise.all(names.map((name) => admitted(name)));
    for (const [i, name] of names.entries()) {
      await expectIdentity(clients[i], name);
      clients[i].close();
    }
  });

  it("keeps each connection's own identity: ada, bob and a second ada connected at once each get their own from whoami", async () => {
    const [ada, bob, ada2] = await Promise.all([admitted('ada'), admitted('bob'), admitted('ada', 'ada (a second tab)')]);
    const others = ' with bob and a second ada connected too (an identity kept in a variable shared by all connections shows here)';
    await expectIdentity(ada, 'ada', others);
    await expectIdentity(bob, 'bob', ' with two connections of ada open too');
    await expectIdentity(ada2, 'ada');
    // A refusal in between must not change who the others are.
    await expectRefused('mallory', { token: 's3cret-mallory' }, 'UNKNOWN_TOKEN');
    await expectIdentity(bob, 'bob', ' after a refused handshake');
  });
});
