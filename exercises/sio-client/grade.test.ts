// Grades a socket.io-client program against this grade's Socket.IO reference server
// (sandbox-server/src/reference-servers/SOCKET-IO-PROTOCOL.md). The server requires a token drawn
// for this grade; the program gets it in SOCKET_IO_TOKEN. Two kit clients (grader, ada) talk to it
// through "say", and the grader cuts its connection three times: the transport, as soon as its
// first "slow" arrives (so that answer is lost and the program must ask again once reconnected);
// the transport again, with a message sent while it is away (connection state recovery must bring
// it); and a server-side disconnect, after which Socket.IO does not reconnect by itself (the server
// forgets its sessions first, so that connection is a new one and "recovered" is seen to be read,
// not assumed). Two more runs, with a wrong token and with none, must get their handshake refused
// by the server, report it and exit with code 1: they start once the first run is done, so that
// fewer programs start at once on a busy machine.
//
// Verdicts come from the server's record (seen: handshakes with their auth, events with their
// arguments and whether they carried an ack, disconnects with their reason) and from the lines the
// program printed; every wait is for an event or a line, with a deadline, never a fixed pause. The
// grader notes when each record and each line arrived, for the one rule about time: "silent" times
// out after 1 s, so its line and the "slow" after it cannot come at once (TIMEOUT_FLOOR_MS), nor
// long after the last try (LAST_TRY_WITHIN_MS); the tries themselves are counted, not timed
// (MAX_SILENT_TRIES), so a program that waits 4 tries is told so on every run.
import { describe, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  connectSocketIoToReference,
  currentGrade,
  GradingFailure,
  oncePerGrade,
  referenceServers,
  show,
  showCall,
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
const SILENT_TIMEOUT_MS = 1000;
/** The instructions: with resends, the silent line may come later, but within this of the first "silent". */
const SILENT_LINE_WITHIN_MS = 3000;
/**
 * A 1 s timeout cannot end sooner than this after the server received the "silent" it started
 * with: 400 ms left for that packet's way to the server, which a busy machine (or a polling
 * transport's upgrade) can delay. What it catches is a line, or a "slow", that comes at once.
 */
const TIMEOUT_FLOOR_MS = 600;
/** Slack for a late line on a loaded machine, past SILENT_LINE_WITHIN_MS. */
const LATE_SLACK_MS = 1000;
/** Tries of 1 s each that fit in SILENT_LINE_WITHIN_MS: the first and at most two resends. */
const MAX_SILENT_TRIES = SILENT_LINE_WITHIN_MS / SILENT_TIMEOUT_MS;
/** The line ends the last try's 1 s timeout; past this after that try reached the server, the timeout was longer (e.g. 2.5 s). */
const LAST_TRY_WITHIN_MS = SILENT_TIMEOUT_MS + LATE_SLACK_MS;
/** Says "bye" without being exactly "bye": the program must stay. */
const NOT_BYE = 'bye? no, not yet';
const SLOW_LINE = `slow: waited ${SLOW_MS}`;
/** What its own socket.disconnect() on "bye" makes the program print. */
const OWN_DISCONNECT_LINE = 'disconnected: io client disconnect';
/** The lines about connections: "connected (recovered: true|false)" is what they must say. */
const CONNECTED = /^connected\b/;

type Seen<K extends SocketIoEvent['kind']> = Extract<SocketIoEvent, { kind: K }>;

interface Run {
  token: string;
  learner: LearnerProcess;
  /** Runs that must be refused (with a wrong token, and with none), started by their tests: fewer programs starting at once. */
  refusedRuns?: RefusedRuns;
  grader: TestSocketIo;
  ada: TestSocketIo;
  /** The kit's own connections, to tell them from the program's in `seen`. */
  kitIds: Set<string>;
  /** Where in `seen` the grader dropped the program's transport at its first "slow" (-1: not yet). */
  slowDropAt: number;
  /** Texts the kit clients said, with who said them, to count the program's lines at the end. */
  said: Array<{ from: string; text: string }>;
  /** When (the grader's clock) the server recorded each event of `seen` since the run began. */
  arrivedAt: Map<SocketIoEvent, number>;
  /** When the grader read each complete line of the program's stdout, by line number. */
  lineTimes: number[];
}

interface RefusedRuns {
  /** Where in `seen` these runs began: their handshakes come after it. */
  from: number;
  wrongToken: LearnerProcess;
  noToken: LearnerProcess;
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
      arrivedAt: new Map(),
      lineTimes: [],
      learner: startLearner({ env: { SOCKET_IO_TOKEN: token } }),
    };
    const stopLines = state.learner.onOutput((stream, text) => {
      if (stream !== 'stdout') return;
      for (const char of text) if (char === '\n') state.lineTimes.push(Date.now());
    });
    // Drops the transport as soon as the first "slow" is seen, before the server answers it: that answer is lost.
    const stop = sio.onEvent((event) => {
      state.arrivedAt.set(event, Date.now());
      if (state.slowDropAt !== -1 || event.kind !== 'event' || event.event !== 'slow' || state.kitIds.has(event.id)) return;
      state.slowDropAt = sio.seen.length;
      sio.disconnect(event.id, 'transport');
    });
    currentGrade().cleanups.push(stop, stopLines);
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
const authToken = (auth: unknown): unknown => (auth as { token?: unknown } | null)?.token;

/** When the grader read the program's first line equal to `line` (undefined: not printed). */
function lineSeenAt(r: Run, line: string): number | undefined {
  const at = lines(r.learner).indexOf(line);
  return at === -1 ? undefined : r.lineTimes[at];
}

/** How long after the server recorded `event` something happened, in ms (the grader's clock). */
const msAfter = (r: Run, event: SocketIoEvent, then: number): number => then - r.arrivedAt.get(event)!;

/**
 * Engine.IO connections the server holds that no namespace accepted: a refused handshake whose
 * client never closed its connection (socket.io-client closes it after a refusal by itself).
 */
function connectionsNotAccepted(): number {
  const sio = referenceServers().socketIo;
  return sio.io.engine.clientsCount - new Set(sio.connected().map((socket) => socket.conn)).size;
}

/** The program's connections open now, as the server saw them (connects minus disconnects). */
const openProgramConnections = (r: Run): number => programEvents(r).reduce((open, { event }) => open + (event.kind === 'connect' ? 1 : event.kind === 'disconnect' ? -1 : 0), 0);

/** The token the run that must be refused with BAD_TOKEN gets. */
const wrongToken = (r: Run): string => `not-${r.token}`;

/**
 * What the program printed, each stream named (only stdout is read): the end of stdout, where its
 * latest lines are, and the start of stderr, where a crash says what was thrown and where.
 */
function outputOf(learner: LearnerProcess): string {
  const stdout = learner.stdout.trim().slice(-600);
  const stderr = learner.stderr.trim().slice(0, 800);
  return (stdout ? ` Its stdout ended with:\n${stdout}` : ' It printed nothing on stdout.') + (stderr ? `\nIts stderr (not read) began with:\n${stderr}` : '');
}

function howItEnded(learner: LearnerProcess, exit: { exitCode: number | null; signal: string | null; limit?: string }): string {
  const how = exit.limit ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`);
  return `your program ${how}.${outputOf(learner)}`;
}

/** Why a wait for the program failed: it ended, or what it printed last. */
async function ended(learner: LearnerProcess): Promise<string> {
  return learner.hasExited ? howItEnded(learner, await learner.exited) : `it is still running.${outputOf(learner)}`;
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
 * so far, and fails unless the lines of the connections made after `after` (a position in `seen`:
 * the ones this test is about; earlier ones are their own tests') say what the server saw.
 */
async function expectConnectedLines(r: Run, context: string, after = -1): Promise<void> {
  const printed = () => lines(r.learner).filter((l) => CONNECTED.test(l));
  const connects = programConnects(r);
  await waitFor(r.learner, () => printed().length >= connects.length);
  const got = printed();
  for (const [i, { at, event: connect }] of connects.entries()) {
    if (at <= after) continue;
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

/**
 * Waits for the line of `from`'s message; fails naming a line that shows the text in another form,
 * if one does. A "message from …" line with the text in another form fails at once: it is a graded line.
 */
async function expectMessageLine(r: Run, from: string, text: string, context: string): Promise<void> {
  const expected = messageLine(from, text);
  const saidLines = new Set(r.said.map((m) => messageLine(m.from, m.text)));
  const near = (graded: boolean) => lines(r.learner).find((l) => l.includes(text) && !saidLines.has(l) && (!graded || l.startsWith('message from ')));
  await waitFor(r.learner, () => count(r.learner, expected) > 0 || near(true) !== undefined);
  if (count(r.learner, expected) > 0) return;
  const shown = near(false);
  if (shown) throw new GradingFailure(`${context.replace(/; then$/, '')}; expected your program to print ${JSON.stringify(expected)}, but it printed ${JSON.stringify(shown)}`);
  throw new GradingFailure(`${context}, expected your program to print ${JSON.stringify(expected)}, but it did not: ${await ended(r.learner)}`);
}

describe('Socket.IO client', () => {
  it('connects with auth { name, token } (the token from SOCKET_IO_TOKEN) and prints "connected (recovered: false)"', { timeout: START_MS + 4000 }, async () => {
    const r = await run();
    // Every refusal so far is this program's: the kit's clients were admitted, and the refused runs start later.
    const refused = () => seen().find((e): e is Seen<'refused'> => e.kind === 'refused');
    await waitFor(r.learner, () => programConnects(r).length > 0 || refused() !== undefined, START_MS);
    const first = programConnects(r)[0]?.event;
    if (!first) {
      const no = refused();
      const url = `http://HOST:SOCKET_IO_PORT (here http://127.0.0.1:${referenceServers().ports.socketIo})`;
      if (no) {
        const advice: Record<string, string> = {
          TOKEN_REQUIRED: ' The token is in process.env.SOCKET_IO_TOKEN: send it as auth.token.',
          BAD_TOKEN: ` auth.token must be process.env.SOCKET_IO_TOKEN as it is (here ${show(r.token)}).`,
        };
        throw new GradingFailure(`your program's handshake carried auth ${show(no.auth)}, and the server refused it: ${no.code} (${no.message}).${advice[no.code] ?? ''}`);
      }
      if (r.learner.hasExited) throw new GradingFailure(`no handshake of your program reached the Socket.IO server at ${url}: ${await ended(r.learner)}`);
      throw new GradingFailure(`your program did not connect to the Socket.IO server at ${url} within ${START_MS / 1000} s: ${await ended(r.learner)}`);
    }
    const token = authToken(first.auth);
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
      if (!r.learner.hasExited) throw new GradingFailure(`the server never answers "silent", and your program did not print ${JSON.stringify(SILENT_LINE)} within ${STEP_MS / 1000} s: an emitWithAck without a timeout waits forever. Use socket.timeout(1000).emitWithAck(…), which rejects after 1 s.${outputOf(r.learner)}`);
      throw err;
    });
    const printed = lines(r.learner);
    const lineAt = printed.indexOf(SILENT_LINE);
    const cutAt = printed.findIndex((l) => l.startsWith('disconnected:'));
    if (cutAt !== -1 && cutAt < lineAt) {
      throw new GradingFailure(
        `your program printed ${JSON.stringify(printed[cutAt])} before ${JSON.stringify(SILENT_LINE)}: its "silent" was still waiting for an answer when the connection dropped (the grader drops it at your first "slow"), ` +
          `so the emitWithAck failed because the connection was lost, not because its 1 s timeout passed. Ask "slow" only once "silent" has timed out: await it first.`,
      );
    }
    const lineTime = r.lineTimes[lineAt] ?? Date.now();
    const after = msAfter(r, silent, lineTime);
    if (after < TIMEOUT_FLOOR_MS) {
      throw new GradingFailure(`your program printed ${JSON.stringify(SILENT_LINE)} ${after > 0 ? `${after} ms after the server received "silent"` : 'before the server had even received "silent"'}: a timeout of ${SILENT_TIMEOUT_MS / 1000} s cannot have passed by then. Print the line when the emitWithAck rejects (in its catch), not right after emitting.`);
    }
    // Counted, not timed: each try waits its 1 s, so the tries before the line say how long it took (a bound on the clock alone sits right where 4 tries end).
    const tries = programEmits(r, 'silent').filter((e) => r.arrivedAt.get(e.event)! <= lineTime);
    if (tries.length > MAX_SILENT_TRIES) {
      throw new GradingFailure(`the server received "silent" ${tries.length} times before your program printed ${JSON.stringify(SILENT_LINE)}: each try waits ${SILENT_TIMEOUT_MS / 1000} s, so the line came after ${tries.length} s; resend at most ${MAX_SILENT_TRIES - 1} times (e.g. retries: ${MAX_SILENT_TRIES - 1}), so that it comes within ${SILENT_LINE_WITHIN_MS / 1000} s`);
    }
    const afterLast = msAfter(r, tries.at(-1)!.event, lineTime);
    if (afterLast > LAST_TRY_WITHIN_MS) {
      const which = tries.length === 1 ? 'the server received "silent"' : `the server received the last of its ${tries.length} "silent"s`;
      throw new GradingFailure(`your program printed ${JSON.stringify(SILENT_LINE)} ${(afterLast / 1000).toFixed(1)} s after ${which}; expected a timeout of ${SILENT_TIMEOUT_MS / 1000} s (socket.timeout(${SILENT_TIMEOUT_MS}).emitWithAck(…)), so that the line comes about ${SILENT_TIMEOUT_MS / 1000} s after the try it gives up on`);
    }
    if (after > SILENT_LINE_WITHIN_MS + LATE_SLACK_MS) {
      throw new GradingFailure(`your program printed ${JSON.stringify(SILENT_LINE)} ${(after / 1000).toFixed(1)} s after the server received "silent"; expected a timeout of ${SILENT_TIMEOUT_MS / 1000} s (socket.timeout(${SILENT_TIMEOUT_MS})), so that the line comes within ${SILENT_LINE_WITHIN_MS / 1000} s, resends included`);
    }
  });

  it(`emits "slow" ${SLOW_MS} after that; the grader drops the connection before the answer: it reconnects by itself, recovered ("disconnected: transport close", then "connected (recovered: true)")`, { timeout: TEST_MS }, async () => {
    const r = await run();
    await waitFor(r.learner, () => r.slowDropAt !== -1);
    const first = programEmits(r, 'slow')[0];
    if (!first) throw new GradingFailure(`expected your program to emit "slow" with ${SLOW_MS} after "silent" timed out, but the server received no "slow": ${await ended(r.learner)}`);
    const wanted = `slow(${SLOW_MS}) with an acknowledgement`;
    if (!first.event.withAck || first.event.args.length !== 1 || first.event.args[0] !== SLOW_MS) throw new GradingFailure(`expected your program to emit ${wanted}, but the server received slow(${first.event.args.map(show).join(', ')}) ${first.event.withAck ? 'with' : 'without'} an acknowledgement`);
    const silent = programEmits(r, 'silent')[0];
    if (!silent || first.at < silent.at) throw new GradingFailure(`your program emitted "slow" before "silent"; emit "silent" first, then "slow" once silent has timed out`);
    const gap = msAfter(r, silent.event, r.arrivedAt.get(first.event)!);
    if (gap < TIMEOUT_FLOOR_MS) {
      throw new GradingFailure(`your program emitted "slow" ${gap} ms after "silent", before silent's ${SILENT_TIMEOUT_MS / 1000} s timeout could pass: the two questions go one after the other. Wait until silent's emitWithAck has timed out (await it), then emit "slow".`);
    }
    await expectLine(r.learner, 'disconnected: transport close', `the grader dropped your program's connection (its transport) when "slow" arrived; then`);
    const back = await waitFor(r.learner, () => programConnects(r, r.slowDropAt).length > 0);
    if (!back) throw new GradingFailure(`the grader dropped your program's connection (its transport, a network failure); expected socket.io-client to reconnect by itself, but your program did not connect again within ${STEP_MS / 1000} s: ${await ended(r.learner)}`);
    const again = programConnects(r, r.slowDropAt)[0].event;
    if (!again.recovered) throw new GradingFailure(`the grader dropped your program's connection; it connected again, but as a new session (not recovered): let the same socket reconnect by itself (do not call io() again), so connection state recovery keeps its id and what it missed`);
    if (authToken(again.auth) !== r.token) throw new GradingFailure(`your program reconnected with auth ${show(again.auth)}: the token must come again with every handshake`);
    await expectConnectedLines(r, 'your program reconnected and was recovered', r.slowDropAt);
  });

  it(`emits "slow" again once reconnected (the first answer was lost with the connection) and prints "${SLOW_LINE}" once`, { timeout: TEST_MS }, async () => {
    const r = await run();
    const reconnectAt = () => programConnects(r, r.slowDropAt)[0]?.at ?? Infinity;
    const retried = () => programEmits(r, 'slow').filter((e) => e.at > reconnectAt());
    const slowLines = () => lines(r.learner).filter((l) => l.startsWith('slow:'));
    await waitFor(r.learner, () => retried().length > 0 && slowLines().length > 0);
    if (r.slowDropAt === -1) throw new GradingFailure(`the server never received "slow" from your program, so this could not be tried: ${await ended(r.learner)}`);
    const lost = `the connection dropped while your program waited for the answer to slow(${SLOW_MS}), so that answer was lost`;
    const tries = retried();
    if (!tries.length) {
      const printed = slowLines()[0];
      throw new GradingFailure(
        `${lost}; expected it to emit "slow" again once reconnected, but the server received no second "slow"` +
          (printed ? ` (it printed ${JSON.stringify(printed)}). When emitWithAck rejects (a timeout, or "socket has been disconnected"), wait for the connection and send it again.` : `: ${await ended(r.learner)}`),
      );
    }
    const calls = [...new Set(tries.map((t) => showCall('slow', t.event.args)))].join(', ');
    const badArgs = tries.some((t) => t.event.args.length !== 1 || t.event.args[0] !== SLOW_MS);
    const refusedArgs = badArgs ? ` The server received ${calls}: it answers anything but a whole number of milliseconds with { ok: false, error: { code: "BAD_DELAY", … } }; send the number ${SLOW_MS}.` : '';
    const printed = slowLines();
    if (!printed.length) {
      const gaps = tries.slice(1).map((t, i) => r.arrivedAt.get(t.event)! - r.arrivedAt.get(tries[i].event)!);
      const tooSoon = gaps.length > 0 && Math.max(...gaps) < SLOW_MS;
      throw new GradingFailure(
        `${lost}; your program emitted "slow" again once reconnected (${tries.length} time${tries.length === 1 ? '' : 's'}: ${calls}), but printed no "slow: …" line within ${STEP_MS / 1000} s.` +
          (tooSoon ? ` It sent each "slow" again at most ${Math.max(...gaps)} ms after the one before, sooner than the ${SLOW_MS} ms the answer takes: each try gave up before its answer could come (an ack timeout shorter than ${SLOW_MS} ms). Give "slow" a longer timeout, e.g. 2 s.` : refusedArgs) +
          (r.learner.hasExited ? ` Then ${howItEnded(r.learner, await r.learner.exited).replace(/^your program/, 'it')}` : outputOf(r.learner)),
      );
    }
    if (printed[0] !== SLOW_LINE) throw new GradingFailure(`${lost}; after it asked again, expected your program to print ${JSON.stringify(SLOW_LINE)} (the server answers slow(${SLOW_MS}) with { ok: true, waited: ${SLOW_MS} }), but it printed ${JSON.stringify(printed[0])}.${refusedArgs}`);
    if (printed.length !== 1) throw new GradingFailure(`expected one "slow: …" line (${JSON.stringify(SLOW_LINE)}), but your program printed ${printed.length}: ${printed.map((l) => JSON.stringify(l)).join(', ')}`);
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
    const madeUp = lines(r.learner).find((l) => l.startsWith('message from ') && !r.said.some(({ from, text }) => l === messageLine(from, text)));
    if (madeUp !== undefined) {
      throw new GradingFailure(
        `your program printed ${JSON.stringify(madeUp)}, but no one said that: print a "message from …" line for each "message" event only, from its from and text ` +
          `(the server emits other events too, e.g. "welcome" { id, name } to a new connection)`,
      );
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
    await expectConnectedLines(r, 'after the second drop', droppedAt);
  });

  it('after the server disconnects it ("io server disconnect"), connects again by itself with socket.connect(), token included, and prints "connected (recovered: …)" again', { timeout: TEST_MS }, async () => {
    const r = await run();
    const id = await connectedProgram(r, 'before the server-side disconnect');
    const sio = referenceServers().socketIo;
    const cutAt = seen().length;
    // Without this, socket.io gives back the session kept since the last drop: the new connection is a new session, and its line must say so.
    sio.forgetSessions();
    sio.disconnect(id, 'server');
    await expectLine(r.learner, 'disconnected: io server disconnect', 'the server disconnected your program (socket.disconnect(true) on its side); then');
    const back = await waitFor(r.learner, () => programConnects(r, cutAt).length > 0);
    if (!back) {
      const refused = seen().slice(cutAt).find((e): e is Seen<'refused'> => e.kind === 'refused');
      if (refused) {
        throw new GradingFailure(
          `the server disconnected your program ("io server disconnect"), and it handshook again, but that handshake carried auth ${show(refused.auth)}${authToken(refused.auth) === undefined ? ', with no token,' : ''} and the server refused it: ${refused.code} (${refused.message}). ` +
            `The token goes with every handshake: keep it in io()'s auth option (socket.io-client sends the same auth again), do not remove or change it after the first connect. Then ${(await ended(r.learner)).replace(/^your program/, 'it')}`,
        );
      }
      throw new GradingFailure(`the server disconnected your program ("io server disconnect"); socket.io-client does not reconnect by itself after that, so expected your program to call socket.connect(), but it did not connect again within ${STEP_MS / 1000} s: ${await ended(r.learner)}`);
    }
    const again = programConnects(r, cutAt)[0].event;
    if (authToken(again.auth) !== r.token) throw new GradingFailure(`your program connected again with auth ${show(again.auth)}: the token must come with every handshake`);
    // socket.io-client adds the session id (pid) to the handshake of a socket that was connected before; a new io() has none.
    if (typeof (again.auth as { pid?: unknown }).pid !== 'string') {
      throw new GradingFailure(
        `your program connected again after the server's disconnect, but from a new socket: its handshake carried no session id (auth.pid, which socket.io-client adds by itself when a socket that was connected connects again). ` +
          `Call socket.connect() on the socket that was disconnected, instead of creating another with io()`,
      );
    }
    await expectConnectedLines(r, 'your program connected again after the server had disconnected it', cutAt);
    await connectedProgram(r, 'after connecting again');
    const text = 'still there?';
    await say(r, r.grader, text);
    await expectMessageLine(r, 'grader', text, `grader said ${show(text)} after your program connected again; then`);
  });

  it('on the message "bye": prints it, disconnects (the server sees "client namespace disconnect") and ends by itself with exit code 0', { timeout: TEST_MS }, async () => {
    const r = await run();
    const id = await connectedProgram(r, 'before "bye"');
    // After its latest connect: a recovered connection keeps its id, so earlier disconnects have it too.
    const latest = programConnects(r).at(-1)!.at;
    const disconnected = () => programEvents(r).find((e) => e.at > latest && e.event.kind === 'disconnect' && e.event.id === id) as { at: number; event: Seen<'disconnect'> } | undefined;
    await say(r, r.ada, NOT_BYE);
    await expectMessageLine(r, 'ada', NOT_BYE, `ada said ${show(NOT_BYE)}; then`);
    const leftTooSoon = new GradingFailure(`ada said ${show(NOT_BYE)}, and your program disconnected: leave only when a message's text is exactly "bye" (text === 'bye'), not when it contains or starts with it`);
    await say(r, r.ada, 'bye');
    const byeAt = seen().findLastIndex((e) => e.kind === 'event' && e.id === r.ada.id && e.event === 'say' && (e.args[0] as { text?: unknown })?.text === 'bye');
    // Only its own socket.disconnect() is leaving too soon; a connection lost otherwise (the program
    // ended, or was stopped) is said by the line's own failure, which tells how the program ended.
    const leftByItself = () => disconnected()?.event.reason === 'client namespace disconnect';
    await expectMessageLine(r, 'ada', 'bye', 'ada said "bye"; then').catch((err: unknown) => {
      throw leftByItself() ? leftTooSoon : err;
    });
    if (leftByItself() && disconnected()!.at < byeAt) throw leftTooSoon;
    const left = await waitFor(r.learner, () => disconnected() !== undefined, 3000);
    const reason = disconnected()?.event.reason;
    if (!left) throw new GradingFailure(`ada said "bye"; expected your program to disconnect (socket.disconnect()), but it stayed connected: ${await ended(r.learner)}`);
    const exited = await waitFor(r.learner, () => r.learner.hasExited, 3000);
    if (reason !== 'client namespace disconnect') {
      throw new GradingFailure(
        `ada said "bye"; expected your program to disconnect with socket.disconnect() (the server then sees "client namespace disconnect"), but the server saw "${reason}"` +
          (reason === 'transport close'
            ? ': the connection ended without a disconnect packet. socket.disconnect() sends one; it is lost when, for example, process.exit() right after it ends the program before the packet is written, or when the connection underneath is closed instead (socket.io.engine.close()). Call socket.disconnect() and let the program end by itself'
            : ''),
      );
    }
    if (!exited) {
      const open = openProgramConnections(r);
      const leftAt = disconnected()!.at;
      const handshookAgain = programConnects(r, leftAt).length > 0;
      throw new GradingFailure(
        `your program disconnected after "bye" (the server saw "client namespace disconnect") but was still running 3 s later: ` +
          (handshookAgain
            ? 'the server saw a new handshake from it after its own disconnect, so it connected again. Do not reconnect after your own disconnect: call socket.connect() only after "io server disconnect", not after "io client disconnect".'
            : open > 0
              ? `it still has ${open === 1 ? 'another connection' : `${open} other connections`} to the server open, made before "bye" (a second socket, from another io()?): close every socket.`
              : 'it has no connection to the server left open, so something else keeps Node running: a timer or an interval (setInterval, a setTimeout not cleared), or another handle of your own.') +
          outputOf(r.learner),
      );
    }
    const exit = await r.learner.exited;
    // Its whole stdout is in once it ended: its own disconnect fires 'disconnect' too, after the "bye" line.
    const printed = lines(r.learner);
    const byeLine = printed.indexOf(messageLine('ada', 'bye'));
    const ownLine = printed.lastIndexOf(OWN_DISCONNECT_LINE);
    if (ownLine === -1) {
      throw new GradingFailure(`your program disconnected after "bye", but did not print ${JSON.stringify(OWN_DISCONNECT_LINE)}: print a line on every 'disconnect' event, your own socket.disconnect() included (its reason is "io client disconnect").${outputOf(r.learner)}`);
    }
    if (ownLine < byeLine) {
      throw new GradingFailure(`your program printed ${JSON.stringify(OWN_DISCONNECT_LINE)} before ${JSON.stringify(messageLine('ada', 'bye'))}: it disconnected first. Print the "bye" message like any other, then call socket.disconnect().${outputOf(r.learner)}`);
    }
    if (exit.exitCode !== 0) throw new GradingFailure(`expected exit code 0 after "bye", but ${howItEnded(r.learner, exit)}`);
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

  it(`asks "slow" no more once it was answered (not again on later reconnections) and prints "${SLOW_LINE}" once in the whole run`, { timeout: TEST_MS }, async () => {
    const r = await run();
    await waitFor(r.learner, () => r.learner.hasExited, 3000); // its whole output, when it ended as told
    const answeredAt = lineSeenAt(r, SLOW_LINE);
    if (answeredAt === undefined) return; // never answered: the test above says why
    const later = programEmits(r, 'slow').filter((e) => r.arrivedAt.get(e.event)! > answeredAt);
    if (later.length) {
      throw new GradingFailure(
        `your program printed ${JSON.stringify(SLOW_LINE)} (the answer came), and then emitted "slow" ${later.length} more time${later.length === 1 ? '' : 's'}, after later reconnections: ` +
          `ask again only until an answer comes (e.g. a flag set once answered), not on every 'connect'`,
      );
    }
    const slowLines = lines(r.learner).filter((l) => l.startsWith('slow:'));
    if (slowLines.length !== 1) throw new GradingFailure(`expected one "slow: …" line in the whole run, but your program printed ${slowLines.length}: ${slowLines.map((l) => JSON.stringify(l)).join(', ')}`);
  });

  for (const [which, runName, expected, code, mine] of [
    ['a wrong token', 'the run with a wrong token', 'refused: auth.token is not valid (BAD_TOKEN)', 'BAD_TOKEN', (token: unknown, r: Run) => token === wrongToken(r)],
    ['no token (SOCKET_IO_TOKEN unset): it sends none', 'the run with SOCKET_IO_TOKEN unset', 'refused: auth.token is required by this server (TOKEN_REQUIRED)', 'TOKEN_REQUIRED', (token: unknown, r: Run) => token !== r.token && token !== wrongToken(r)],
  ] as const) {
    it(`with ${which}, prints the refusal "${expected}" and ends with exit code 1`, { timeout: START_MS + 7000 }, async () => {
      const r = await run();
      r.refusedRuns ??= { from: seen().length, wrongToken: startLearner({ env: { SOCKET_IO_TOKEN: wrongToken(r) } }), noToken: startLearner() };
      const runs = r.refusedRuns;
      const learner = code === 'BAD_TOKEN' ? runs.wrongToken : runs.noToken;
      const handshakes = () => seen().slice(runs.from).filter((e): e is Seen<'refused'> | Seen<'connect'> => (e.kind === 'refused' || e.kind === 'connect') && mine(authToken(e.auth), r));
      await waitFor(learner, () => handshakes().length > 0, START_MS);
      const handshake = handshakes()[0];
      if (!handshake) {
        const others = seen().slice(runs.from).filter((e): e is Seen<'refused'> => e.kind === 'refused');
        const wanted = code === 'BAD_TOKEN' ? `carrying the token it was given (${show(wrongToken(r))})` : 'without a token';
        throw new GradingFailure(
          `${runName}: no handshake ${wanted} reached the server, so there was nothing to refuse${others.length ? ` (the refused handshakes since these runs began carried ${others.map((e) => `auth ${show(e.auth)}`).join(', ')})` : ''}. ` +
            `Connect with the token the environment holds, even none, and print the refusal the server sends: do not check the token yourself. That run: ${await ended(learner)}`,
        );
      }
      if (handshake.kind === 'connect' || handshake.code !== code) {
        throw new GradingFailure(`${runName}: its handshake carried auth ${show(handshake.auth)}, and the server ${handshake.kind === 'connect' ? 'admitted it' : `refused it with ${handshake.code}`}; expected a handshake that the server refuses with ${code}: send process.env.SOCKET_IO_TOKEN as it is, ${code === 'TOKEN_REQUIRED' ? 'undefined here' : 'whatever it holds'}`);
      }
      const context = `${runName}: the server refused its handshake (auth ${show(handshake.auth)}) with connect_error "${handshake.message}" (data.code ${handshake.code}); then`;
      await expectLine(learner, expected, context, 3000).catch((err: unknown) => {
        const other = lines(learner).find((l) => l.startsWith('refused:'));
        if (other) throw new GradingFailure(`${context} expected that run to print ${JSON.stringify(expected)}, but it printed ${JSON.stringify(other)}`);
        if (learner.stderr.split('\n').some((l) => l.includes(expected))) {
          throw new GradingFailure(`${context} that run wrote ${JSON.stringify(expected)} to stderr (console.error?); only stdout is read: print it with console.log.`);
        }
        throw err;
      });
      if (!(await waitFor(learner, () => learner.hasExited, 3000))) {
        const tries = handshakes().length;
        const why =
          connectionsNotAccepted() > 0
            ? 'the server still holds a connection that was refused and never closed: close the socket (socket.disconnect()) or end with process.exit(1).'
            : tries > 1
              ? `it handshook ${tries} times, so it keeps trying again after the refusal (socket.connect() in 'connect_error'?): stop once refused (socket.active is false).`
              : 'the server holds no connection of it (socket.io-client closed it after the refusal), so something else keeps Node running: a timer or an interval (setInterval, a setTimeout not cleared), or another handle of your own. Clear it, or end with process.exit(1).';
        throw new GradingFailure(`${context} that run printed the refusal but was still running 3 s later: ${why}${outputOf(learner)}`);
      }
      const exit = await learner.exited;
      if (exit.exitCode !== 1) throw new GradingFailure(`${context} expected that run to end with exit code 1 (the program could not do its work), but ${howItEnded(learner, exit).replace(/^your program/, 'it')}`);
    });
  }
});
