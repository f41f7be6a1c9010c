// Grades a socket.io-client program against this grade's Socket.IO reference server
// (sandbox-server/src/reference-servers/SOCKET-IO-PROTOCOL.md). The server requires a token drawn
// for this grade; the program gets it in SOCKET_IO_TOKEN. Two kit clients (grader, ada) talk to it
// through "say", and the grader cuts its connection three times: the transport, as soon as its
// first "slow" arrives (so that answer is lost and the program must ask again once reconnected);
// the transport again, with a message sent while it is away (connection state recovery must bring
// it); and a server-side disconnect, after which Socket.IO does not reconnect by itself. Two more
// runs, with a wrong token and with none, must report the refusal and exit with code 1: they start
// once the first run is done, so that fewer programs start at once on a busy machine.
//
// Verdicts come from the server's record (seen: handshakes with their auth, events with their
// arguments and whether they carried an ack, disconnects with their reason) and from the lines the
// program printed; every wait is for an event or a line, with a deadline, never a fixed pause.
import { describe, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  connectSocketIoToReference,
  currentGrade,
  describeExit,
  GradingFailure,
  oncePerGrade,
  outputTail,
  referenceServers,
  show,
  startLearner,
  waitUntil,
  type LearnerProcess,
  type TestSocketIo,
} from '../../sandbox-server/src/grading-kit/index.ts';
import type { SocketIoEvent } from '../../sandbox-server/src/reference-servers/socket-io.ts';

const SLOW_MS = 300;
/** How long one step may take on a loaded machine (a reconnection with its back-off, a program's end). */
const STEP_MS = 6000;
const TEST_MS = STEP_MS + 4000;
/** How long a program may take to start and connect, when many grades start programs at once. */
const START_MS = 15_000;
const SILENT_LINE = 'silent: timed out';
const SLOW_LINE = `slow: waited ${SLOW_MS}`;
/** The lines about connections: "connected (recovered: true|false)" is what they must say. */
const CONNECTED = /^connected\b/;

type Seen<K extends SocketIoEvent['kind']> = Extract<SocketIoEvent, { kind: K }>;

interface Run {
  token: string;
  learner: LearnerProcess;
  /** Runs that must be refused (with a wrong token, and with none), started by their tests: fewer programs starting at once. */
  refusedRuns?: { wrongToken: LearnerProcess; noToken: LearnerProcess };
  grader: TestSocketIo;
  ada: TestSocketIo;
  /** The kit's own connections, to tell them from the program's in `seen`. */
  kitIds: Set<string>;
  /** Where in `seen` the grader dropped the program's transport at its first "slow" (-1: not yet). */
  slowDropAt: number;
  /** Texts the kit clients said, with who said them, to count the program's lines at the end. */
  said: Array<{ from: string; text: string }>;
}

/** The grade's run: the token required, two kit clients connected first, then the three programs. */
const run = (): Promise<Run> =>
  oncePerGrade('run', async () => {
    const sio = referenceServers().socketIo;
    const token = `t-${randomUUID()}`;
    sio.requireToken(token);
    const grader = await connectSocketIoToReference({ label: 'grader', auth: { name: 'grader', token } });
    const ada = await connectSocketIoToReference({ label: 'ada', auth: { name: 'ada', token } });
    const state: Run = {
      token,
      kitIds: new Set([grader.id!, ada.id!]),
      grader,
      ada,
      slowDropAt: -1,
      said: [],
      learner: startLearner({ env: { SOCKET_IO_TOKEN: token } }),
    };
    // Drops the transport as soon as the first "slow" is seen, before the server answers it: that answer is lost.
    const stop = sio.onEvent((event) => {
      if (state.slowDropAt !== -1 || event.kind !== 'event' || event.event !== 'slow' || state.kitIds.has(event.id)) return;
      state.slowDropAt = sio.seen.length;
      sio.disconnect(event.id, 'transport');
    });
    currentGrade().cleanups.push(stop);
    return state;
  });

const seen = (): SocketIoEvent[] => referenceServers().socketIo.seen;

/** The program's events in `seen` (anything on a connection that is not the kit's), with their positions. */
function programEvents(r: Run): Array<{ at: number; event: Exclude<SocketIoEvent, Seen<'refused'>> }> {
  return seen().flatMap((event, at) => (event.kind !== 'refused' && !r.kitIds.has(event.id) ? [{ at, event }] : []));
}

function programConnects(r: Run, after = -1): Array<{ at: number; event: Seen<'connect'> }> {
  return programEvents(r).filter((e): e is { at: number; event: Seen<'connect'> } => e.event.kind === 'connect' && e.at > after);
}

function programEmits(r: Run, name: string): Array<{ at: number; event: Seen<'event'> }> {
  return programEvents(r).filter((e): e is { at: number; event: Seen<'event'> } => e.event.kind === 'event' && e.event.event === name);
}

const lines = (learner: LearnerProcess): string[] => learner.stdout.split('\n');
const count = (learner: LearnerProcess, line: string): number => lines(learner).filter((l) => l === line).length;

/** Why a wait for the program failed: it ended, or what it printed last. */
async function ended(learner: LearnerProcess): Promise<string> {
  return learner.hasExited ? describeExit(learner, await learner.exited) : `it is still running.${outputTail(learner)}`;
}

/** Waits until `ready` holds (or the program ended), for at most `within` ms. */
async function waitFor(learner: LearnerProcess, ready: () => boolean, within = STEP_MS): Promise<boolean> {
  await waitUntil(() => ready() || learner.hasExited, within);
  return ready();
}

/** Waits until the program printed `line`; fails saying what it printed. */
async function expectLine(learner: LearnerProcess, line: string, context: string, within = STEP_MS): Promise<void> {
  if (await waitFor(learner, () => count(learner, line) > 0, within)) return;
  throw new GradingFailure(`${context}, expected your program to print ${JSON.stringify(line)}, but it did not: ${await ended(learner)}`);
}

/**
 * Waits until the program printed a "connected (recovered: …)" line for each of its connections
 * so far, and fails unless each line says what the server saw (a recovered session or a new one).
 */
async function expectConnectedLines(r: Run, context: string): Promise<void> {
  const printed = () => lines(r.learner).filter((l) => CONNECTED.test(l));
  const connects = programConnects(r).map((c) => c.event);
  await waitFor(r.learner, () => printed().length >= connects.length);
  const got = printed();
  for (const [i, connect] of connects.entries()) {
    const expected = `connected (recovered: ${connect.recovered})`;
    if (got[i] === undefined) throw new GradingFailure(`${context}, your program's connection ${i + 1} was made (${connect.recovered ? 'a recovered session' : 'a new session'}); expected it to print ${JSON.stringify(expected)}, but it printed ${got.length} "connected (recovered: …)" line${got.length === 1 ? '' : 's'} for ${connects.length} connections: ${await ended(r.learner)}`);
    if (got[i] !== expected) throw new GradingFailure(`${context}, expected your program's line for its connection ${i + 1} to be ${JSON.stringify(expected)} (the server ${connect.recovered ? 'recovered its session' : 'started a new session'}), but it printed ${JSON.stringify(got[i])}: print socket.recovered as it is in the 'connect' handler`);
  }
}

/** The socket id of the program's connection now (its latest connect), once it is connected. */
async function connectedProgram(r: Run, context: string): Promise<string> {
  const isUp = () => {
    const events = programEvents(r);
    return events.length > 0 && events.findLast((e) => e.event.kind === 'connect' || e.event.kind === 'disconnect')?.event.kind === 'connect';
  };
  if (!(await waitFor(r.learner, isUp))) throw new GradingFailure(`${context}, your program should be connected, but it is not: ${await ended(r.learner)}`);
  return programConnects(r).at(-1)!.event.id;
}

/** A kit client says `text` to everyone connected; returns once the server took it. */
async function say(r: Run, client: TestSocketIo, text: string): Promise<void> {
  const [answer] = await client.emitWithAck('say', [{ text }]);
  if ((answer as { ok?: unknown })?.ok !== true) throw new Error(`test bug: the reference server refused say ${show(text)}: ${show(answer)}`);
  r.said.push({ from: client.label, text });
}

const messageLine = (from: string, text: string) => `message from ${from}: ${text}`;

/** Waits for the line of `from`'s message; fails naming a line that shows the text in another form, if one does. */
async function expectMessageLine(r: Run, from: string, text: string, context: string): Promise<void> {
  const expected = messageLine(from, text);
  await expectLine(r.learner, expected, context).catch((err: unknown) => {
    const near = lines(r.learner).find((l) => l.includes(text));
    throw near ? new GradingFailure(`${context.replace(/; then$/, '')}; expected your program to print ${JSON.stringify(expected)}, but it printed ${JSON.stringify(near)}`) : err;
  });
}

describe('Socket.IO client', () => {
  it('connects with auth { name, token } (the token from SOCKET_IO_TOKEN) and prints "connected (recovered: false)"', { timeout: START_MS + 4000 }, async () => {
    const r = await run();
    const mine = () => seen().find((e) => e.kind === 'refused' && (e.auth as { token?: unknown } | null)?.token === r.token) as Seen<'refused'> | undefined;
    await waitFor(r.learner, () => programConnects(r).length > 0 || mine() !== undefined, START_MS);
    const refused = mine();
    const first = programConnects(r)[0]?.event;
    if (!first) {
      if (refused) throw new GradingFailure(`your program's handshake carried auth ${show(refused.auth)}, and the server refused it: ${refused.code} (${refused.message})`);
      throw new GradingFailure(`your program did not connect to the Socket.IO server at http://HOST:SOCKET_IO_PORT (here http://127.0.0.1:${referenceServers().ports.socketIo}) within ${START_MS / 1000} s: ${await ended(r.learner)}`);
    }
    const token = (first.auth as { token?: unknown } | null)?.token;
    if (token !== r.token) throw new GradingFailure(`your program connected with auth ${show(first.auth)}; expected auth.token to be the token in SOCKET_IO_TOKEN (${show(r.token)})`);
    await expectConnectedLines(r, 'your program connected');
  });

  it(`emits "silent" with an acknowledgement and a timeout, and prints "${SILENT_LINE}" when no answer came`, { timeout: TEST_MS }, async () => {
    const r = await run();
    await waitFor(r.learner, () => programEmits(r, 'silent').length > 0);
    const silent = programEmits(r, 'silent')[0]?.event;
    if (!silent) throw new GradingFailure(`expected your program to emit "silent" once connected, but the server received no "silent": ${await ended(r.learner)}`);
    if (!silent.withAck) throw new GradingFailure(`your program emitted silent(${silent.args.map(show).join(', ')}) without an acknowledgement callback: use socket.timeout(1000).emitWithAck('silent', …), which waits for an answer, at most 1 s`);
    await expectLine(r.learner, SILENT_LINE, 'the server never answers "silent"; once the timeout passed').catch(async (err: unknown) => {
      const other = lines(r.learner).find((l) => l.startsWith('silent:'));
      if (other) throw new GradingFailure(`the server never answers "silent"; expected your program to print ${JSON.stringify(SILENT_LINE)}, but it printed ${JSON.stringify(other)}`);
      if (!r.learner.hasExited) throw new GradingFailure(`the server never answers "silent", and your program did not print ${JSON.stringify(SILENT_LINE)} within ${STEP_MS / 1000} s: an emitWithAck without a timeout waits forever. Use socket.timeout(1000).emitWithAck(…), which rejects after 1 s.${outputTail(r.learner)}`);
      throw err;
    });
  });

  it(`emits "slow" ${SLOW_MS} after that; the grader drops the connection before the answer: it reconnects by itself, recovered ("disconnected: transport close", then "connected (recovered: true)")`, { timeout: TEST_MS }, async () => {
    const r = await run();
    await waitFor(r.learner, () => r.slowDropAt !== -1);
    const first = programEmits(r, 'slow')[0];
    if (!first) throw new GradingFailure(`expected your program to emit "slow" with ${SLOW_MS} after "silent" timed out, but the server received no "slow": ${await ended(r.learner)}`);
    const wanted = `slow(${SLOW_MS}) with an acknowledgement`;
    if (!first.event.withAck || first.event.args.length !== 1 || first.event.args[0] !== SLOW_MS) throw new GradingFailure(`expected your program to emit ${wanted}, but the server received slow(${first.event.args.map(show).join(', ')}) ${first.event.withAck ? 'with' : 'without'} an acknowledgement`);
    const silentAt = programEmits(r, 'silent')[0]?.at ?? Infinity;
    if (first.at < silentAt) throw new GradingFailure(`your program emitted "slow" before "silent"; emit "silent" first, then "slow" once silent has timed out`);
    await expectLine(r.learner, 'disconnected: transport close', `the grader dropped your program's connection (its transport) when "slow" arrived; then`);
    const back = await waitFor(r.learner, () => programConnects(r, r.slowDropAt).length > 0);
    if (!back) throw new GradingFailure(`the grader dropped your program's connection (its transport, a network failure); expected socket.io-client to reconnect by itself, but your program did not connect again within ${STEP_MS / 1000} s: ${await ended(r.learner)}`);
    const again = programConnects(r, r.slowDropAt)[0].event;
    if (!again.recovered) throw new GradingFailure(`the grader dropped your program's connection; it connected again, but as a new session (not recovered): let the same socket reconnect by itself (do not call io() again), so connection state recovery keeps its id and what it missed`);
    if ((again.auth as { token?: unknown } | null)?.token !== r.token) throw new GradingFailure(`your program reconnected with auth ${show(again.auth)}: the token must come again with every handshake`);
    await expectConnectedLines(r, 'your program reconnected and was recovered');
  });

  it(`emits "slow" again once reconnected (the first answer was lost with the connection) and prints "${SLOW_LINE}" once`, { timeout: TEST_MS }, async () => {
    const r = await run();
    const reconnectAt = () => programConnects(r, r.slowDropAt)[0]?.at ?? Infinity;
    const retried = () => programEmits(r, 'slow').filter((e) => e.at > reconnectAt());
    await waitFor(r.learner, () => retried().length > 0 && count(r.learner, SLOW_LINE) > 0);
    if (r.slowDropAt === -1) throw new GradingFailure(`the server never received "slow" from your program, so this could not be tried: ${await ended(r.learner)}`);
    if (!retried().length) {
      const printed = lines(r.learner).find((l) => l.startsWith('slow:'));
      throw new GradingFailure(
        `the connection dropped while your program waited for the answer to slow(${SLOW_MS}), so that answer was lost; expected it to emit "slow" again once reconnected, but the server received no second "slow"` +
          (printed ? ` (it printed ${JSON.stringify(printed)}). When emitWithAck rejects (a timeout, or "socket has been disconnected"), wait for the connection and send it again.` : `: ${await ended(r.learner)}`),
      );
    }
    await expectLine(r.learner, SLOW_LINE, `the server answered the second slow(${SLOW_MS}) with { ok: true, waited: ${SLOW_MS} }; then`);
    const slowLines = lines(r.learner).filter((l) => l.startsWith('slow:'));
    if (slowLines.length !== 1) throw new GradingFailure(`expected one "slow: …" line (${JSON.stringify(SLOW_LINE)}), but your program printed ${slowLines.length}: ${slowLines.map((l) => JSON.stringify(l)).join(', ')}`);
  });

  it('prints each message the server sends as "message from <from>: <text>"', { timeout: TEST_MS }, async () => {
    const r = await run();
    await connectedProgram(r, 'after its reconnection');
    for (const [client, text] of [
      [r.grader, 'hello, scout'],
      [r.ada, 'a colon: fine — and ünïcode ✓'],
    ] as const) {
      await say(r, client, text);
      await expectMessageLine(r, client.label, text, `${client.label} said ${show(text)} (your program got the event message ${show({ from: client.label, text })}); then`);
    }
  });

  it('prints a message sent while its connection was down: after another dropped transport, the recovered connection delivers what it missed', { timeout: TEST_MS }, async () => {
    const r = await run();
    const id = await connectedProgram(r, 'before the second drop');
    const droppedAt = seen().length;
    referenceServers().socketIo.disconnect(id, 'transport');
    const text = 'sent while you were away';
    await say(r, r.grader, text);
    const back = await waitFor(r.learner, () => programConnects(r, droppedAt).length > 0);
    if (!back) throw new GradingFailure(`the grader dropped your program's connection again; expected it to reconnect by itself, but it did not within ${STEP_MS / 1000} s: ${await ended(r.learner)}`);
    const again = programConnects(r, droppedAt)[0].event;
    const missed = messageLine('grader', text);
    if (!again.recovered && count(r.learner, missed) === 0) {
      throw new GradingFailure(`grader said ${show(text)} while your program was disconnected; it reconnected as a new session (not recovered), so the message was lost: let the same socket reconnect by itself (do not create another with io()), and connection state recovery delivers what it missed`);
    }
    await expectMessageLine(r, 'grader', text, `grader said ${show(text)} while your program was disconnected, and it reconnected${again.recovered ? ' (recovered)' : ''}; then`);
    await expectConnectedLines(r, 'after the second drop');
  });

  it('after the server disconnects it ("io server disconnect"), connects again by itself with socket.connect(), token included, and prints "connected (recovered: …)" again', { timeout: TEST_MS }, async () => {
    const r = await run();
    const id = await connectedProgram(r, 'before the server-side disconnect');
    const cutAt = seen().length;
    referenceServers().socketIo.disconnect(id, 'server');
    await expectLine(r.learner, 'disconnected: io server disconnect', 'the server disconnected your program (socket.disconnect(true) on its side); then');
    const back = await waitFor(r.learner, () => programConnects(r, cutAt).length > 0);
    if (!back) {
      throw new GradingFailure(`the server disconnected your program ("io server disconnect"); socket.io-client does not reconnect by itself after that, so expected your program to call socket.connect(), but it did not connect again within ${STEP_MS / 1000} s: ${await ended(r.learner)}`);
    }
    const again = programConnects(r, cutAt)[0].event;
    if ((again.auth as { token?: unknown } | null)?.token !== r.token) throw new GradingFailure(`your program connected again with auth ${show(again.auth)}: the token must come with every handshake`);
    await expectConnectedLines(r, 'your program connected again after the server had disconnected it');
    await connectedProgram(r, 'after connecting again');
    const text = 'still there?';
    await say(r, r.grader, text);
    await expectMessageLine(r, 'grader', text, `grader said ${show(text)} after your program connected again; then`);
  });

  it('on the message "bye": prints it, disconnects (the server sees "client namespace disconnect") and ends by itself with exit code 0', { timeout: TEST_MS }, async () => {
    const r = await run();
    const id = await connectedProgram(r, 'before "bye"');
    await say(r, r.ada, 'bye');
    await expectMessageLine(r, 'ada', 'bye', 'ada said "bye"; then');
    // After its latest connect: a recovered connection keeps its id, so earlier disconnects have it too.
    const since = programConnects(r).at(-1)!.at;
    const disconnect = () => programEvents(r).find((e) => e.at > since && e.event.kind === 'disconnect' && e.event.id === id)?.event as Seen<'disconnect'> | undefined;
    const left = await waitFor(r.learner, () => disconnect() !== undefined, 3000);
    const reason = disconnect()?.reason;
    if (!left) throw new GradingFailure(`ada said "bye"; expected your program to disconnect (socket.disconnect()), but it stayed connected: ${await ended(r.learner)}`);
    const exited = await waitFor(r.learner, () => r.learner.hasExited, 3000);
    if (reason !== 'client namespace disconnect') {
      throw new GradingFailure(`ada said "bye"; expected your program to disconnect with socket.disconnect() (the server then sees "client namespace disconnect"), but the server saw "${reason}"${reason === 'transport close' ? ': the connection just ended. process.exit() right after socket.disconnect() ends the program before the disconnect packet is written; let the program end by itself' : ''}`);
    }
    if (!exited) throw new GradingFailure(`your program disconnected after "bye" but was still running 3 s later: something is still open (a timer, another socket?).${outputTail(r.learner)}`);
    const exit = await r.learner.exited;
    if (exit.exitCode !== 0) throw new GradingFailure(`expected exit code 0 after "bye", but ${describeExit(r.learner, exit)}`);
  });

  it('prints every message once and keeps one connection at a time (no listener added again on reconnection, no second socket)', { timeout: TEST_MS }, async () => {
    const r = await run();
    await waitFor(r.learner, () => r.learner.hasExited, 3000); // its whole output, when it ended as told
    for (const { from, text } of r.said) {
      const n = count(r.learner, messageLine(from, text));
      if (n > 1) throw new GradingFailure(`${from} said ${show(text)} once, and your program printed ${JSON.stringify(messageLine(from, text))} ${n} times: a listener added in the 'connect' handler is added again on every reconnection (add listeners once, outside it), or a second socket gets the message too`);
    }
    let open = 0;
    for (const { event } of programEvents(r)) {
      if (event.kind === 'connect') open++;
      if (event.kind === 'disconnect') open--;
      if (open > 1) throw new GradingFailure(`your program had ${open} connections to the server at once; keep one socket and let it reconnect (io() again opens another connection while the first one still reconnects)`);
    }
  });

  for (const [which, expected, learnerOf] of [
    ['a wrong token', 'refused: auth.token is not valid (BAD_TOKEN)', (runs: NonNullable<Run['refusedRuns']>) => runs.wrongToken],
    ['no token (SOCKET_IO_TOKEN unset): it sends none', 'refused: auth.token is required by this server (TOKEN_REQUIRED)', (runs: NonNullable<Run['refusedRuns']>) => runs.noToken],
  ] as const) {
    it(`with ${which}, prints the refusal "${expected}" and ends with exit code 1`, { timeout: START_MS + 4000 }, async () => {
      const r = await run();
      r.refusedRuns ??= { wrongToken: startLearner({ env: { SOCKET_IO_TOKEN: `not-${r.token}` } }), noToken: startLearner() };
      const learner = learnerOf(r.refusedRuns);
      const context = `this run got ${which.replace(/:.*/, '')}, and the server refused its handshake with connect_error "${expected.replace(/^refused: | \(.*$/g, '')}" (data.code ${expected.match(/\((\w+)\)$/)![1]}); then`;
      await expectLine(learner, expected, context, START_MS).catch((err: unknown) => {
        const other = lines(learner).find((l) => l.startsWith('refused:'));
        throw other ? new GradingFailure(`${context} expected your program to print ${JSON.stringify(expected)}, but it printed ${JSON.stringify(other)}`) : err;
      });
      if (!(await waitFor(learner, () => learner.hasExited, 3000))) {
        throw new GradingFailure(`${context} your program printed the refusal but was still running 3 s later: close the socket (socket.disconnect()) or end with process.exit(1).${outputTail(learner)}`);
      }
      const exit = await learner.exited;
      if (exit.exitCode !== 1) throw new GradingFailure(`${context} expected exit code 1 (the program could not do its work), but ${describeExit(learner, exit)}`);
    });
  }
});
