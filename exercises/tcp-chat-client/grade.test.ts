import { describe, it } from 'vitest';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  connectToReference,
  currentGrade,
  describeExit,
  expectExit,
  GradingFailure,
  onReferenceConnection,
  oncePerGrade,
  outputTail,
  referenceServers,
  startLearner,
  waitUntil,
  type TestClient,
} from '../../sandbox-server/src/grading-kit/index.ts';
import type { LearnerProcess } from '../../sandbox-server/src/runner/learner-process.ts';
import type { OutputShaper } from '../../sandbox-server/src/reference-servers/tcp-server-base.ts';

const NAME = 'learner';
const HELLO = 'Hello, everyone!';
const WHISPER_TEXT = 'Thanks for the Help, Grader!';
const WHISPER = `/whisper grader ${WHISPER_TEXT}`;
const REPLY_TEXT = 'Héllo learner, ça marche ✓ 🚀';
/** grader's message to everyone, sent in the same write as its whisper (so they arrive together). */
const GRADER_SAYS = 'Welcome aboard, learner! 👋';
/** What the program must send, in order, and the server line each one answers. */
const SCRIPT: Array<{ send: string; after: string; trigger: (line: string) => boolean }> = [
  { send: NAME, after: 'Please enter your username:', trigger: (l) => l === 'Please enter your username:' },
  { send: HELLO, after: `Welcome, ${NAME}!`, trigger: (l) => l === `Welcome, ${NAME}!` },
  { send: '/users', after: `Welcome, ${NAME}!`, trigger: (l) => l === `Welcome, ${NAME}!` },
  { send: WHISPER, after: 'Online users (…', trigger: (l) => l.startsWith('Online users (') },
  { send: '/quit', after: '[whisper from grader]: …', trigger: (l) => l.startsWith('[whisper from grader]: ') },
];
/** How long the server's writes are collected into one burst before its first piece goes out. */
const GAP_MS = 15;
/**
 * The greeting is held longer: a program that sends its name as soon as it connects must have sent
 * it before the prompt reaches it. At 15 ms, on a loaded machine, its name sometimes came after.
 */
const GREETING_GAP_MS = 100;
/**
 * The pause after a piece that completes no line. Nothing shows when the program has read it, so
 * this pause is what keeps it apart from the next piece on a loaded machine (at 15 ms, 75 grades at
 * once merged them now and then): a program that drops the unfinished rest then loses it every time.
 */
const PARTIAL_PIECE_GAP_MS = 100;
/** How long the next piece waits at most for the program to print the lines it already has. */
const MAX_WAIT_MS = 300;
/** The same, when the cut is inside a character: the split the decoding check relies on. */
const CHARACTER_CUT_WAIT_MS = 2000;
const STEP_MS = 1500;

/**
 * The server side of the program's connection, reshaped like a real network would: the greeting's
 * two lines reach the program together, in one piece (a program that handles one line per 'data'
 * event never sees the prompt). Every later burst of lines the chat server writes reaches the
 * program in pieces, cut inside the last line: in its middle, or inside each of its multi-byte
 * characters if it has any. So the program sees lines merged and lines split. When a piece ends with complete lines before the cut, the next piece
 * waits until the program has printed the last of them: then the program has certainly read the
 * first piece on its own, whatever the load on the machine. It also records how far delivery had
 * got whenever the program's bytes arrived.
 */
class ChoppyLink implements OutputShaper {
  private pending = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  private stopWatching: (() => void) | undefined;
  private midLine = false;
  /** The first burst (the greeting) goes out whole: two complete lines in one piece. */
  private firstBurst = true;
  /** Bytes of the server's output actually written to the program so far. */
  delivered = 0;
  /** Everything the program sent, chunk by chunk, with `delivered` at the moment it arrived. */
  readonly received: Array<{ bytes: Buffer; delivered: number }> = [];

  constructor(
    private readonly socket: net.Socket,
    private readonly program: () => LearnerProcess | undefined,
  ) {
    socket.setNoDelay(true); // each piece its own TCP segment
    socket.on('data', (bytes: Buffer) => this.received.push({ bytes, delivered: this.delivered }));
    socket.on('close', () => this.cancel());
  }

  /** The chat server's output to the program: held, then delivered in pieces by pump(). */
  write(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    if (!this.timer && !this.stopWatching) this.schedule(this.firstBurst ? GREETING_GAP_MS : GAP_MS);
  }

  /** Delivers the rest at once, then ends, so the server's own state stays exactly as it expects. */
  end(): void {
    this.cancel();
    if (this.pending.length && !this.socket.destroyed) this.socket.write(this.pending);
    this.delivered += this.pending.length;
    this.pending = Buffer.alloc(0);
    this.socket.end();
  }

  /** Runs pump() after `ms`, or as soon as the program's output contains `printed`. */
  private schedule(ms: number, printed?: string): void {
    const go = () => {
      this.cancel();
      this.pump();
    };
    this.timer = setTimeout(go, ms);
    const program = this.program();
    if (printed && program) this.stopWatching = program.onOutput(() => program.stdout.includes(printed) && go());
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  private pump(): void {
    if (this.pending.length === 0 || this.socket.destroyed) return;
    const cut = this.firstBurst ? this.pending.length : this.midLine ? nextCut(this.pending) : cutPoint(this.pending);
    this.firstBurst = false;
    const piece = this.pending.subarray(0, cut);
    this.socket.write(piece);
    this.delivered += cut;
    this.pending = this.pending.subarray(cut);
    this.midLine = this.pending.length > 0 && piece[piece.length - 1] !== 10;
    if (this.pending.length === 0) return;
    const lastNewline = piece.lastIndexOf(10);
    const lastLine = lastNewline <= 0 ? '' : piece.subarray(piece.lastIndexOf(10, lastNewline - 1) + 1, lastNewline).toString('utf8').replace(/\r$/, '');
    const insideCharacter = piece[piece.length - 1] >= 0x80;
    this.schedule(lastLine ? (insideCharacter ? CHARACTER_CUT_WAIT_MS : MAX_WAIT_MS) : PARTIAL_PIECE_GAP_MS, lastLine || undefined);
  }
}

/** Where to cut a burst: inside its last line, inside that line's first multi-byte character if any. */
function cutPoint(pending: Buffer): number {
  if (pending[pending.length - 1] !== 10) return pending.length;
  const start = pending.lastIndexOf(10, pending.length - 2) + 1;
  const line = pending.subarray(start, pending.length - 1);
  if (line.length < 2) return pending.length;
  const multiByte = line.findIndex((b) => b >= 0xc0);
  return start + (multiByte >= 0 ? multiByte + 1 : Math.floor(line.length / 2));
}

/** Continuing a cut line: cut again inside its next multi-byte character, or finish the line. */
function nextCut(pending: Buffer): number {
  const newline = pending.indexOf(10);
  const lead = pending.findIndex((b, i) => i > 0 && b >= 0xc0);
  if (lead !== -1 && (newline === -1 || lead < newline)) return lead + 1;
  // Lines the server wrote meanwhile are a new burst: they get cut on their own.
  return newline === -1 ? pending.length : newline + 1;
}

interface ChatRun {
  learner: LearnerProcess;
  grader: TestClient;
  links: ChoppyLink[];
  /** chat.seen 'connect' events before the program started: the program's is the next one. */
  connectsBefore: number;
  /** How many lines the program had sent when a test gave up waiting for the next one. */
  stalledAt?: number;
}

/** The program's one run in this grade, observed by every test. */
const chatRun = (): Promise<ChatRun> => oncePerGrade('chat-run', startRun);

async function startRun(): Promise<ChatRun> {
  const grader = await connectToReference('chat', 'grader');
  await grader.write('grader\n');
  await grader.expectLine('Welcome, grader!');
  const connectsBefore = referenceServers().chat.seen.filter((e) => e.type === 'connect').length;
  const links: ChoppyLink[] = [];
  let learner: LearnerProcess | undefined;
  onReferenceConnection('chat', (socket) => {
    const link = new ChoppyLink(socket, () => learner);
    links.push(link);
    return link;
  });
  learner = startLearner();
  const run: ChatRun = { learner, grader, links, connectsBefore };
  // The grader answers the program's whisper, as a person would. Reading grader.received (not
  // grader's line reader) leaves the lines for the tests. It answers once the program has printed the
  // server's confirmation of its whisper (or after a while): a "/quit" sent in answer to that
  // confirmation then reaches the server before grader's answer exists, and the failure can say so.
  const confirmation = `[whisper to grader]: ${WHISPER_TEXT}`;
  void (async () => {
    const whispered = await waitUntil(() => grader.isClosed || graderLines(run).some((l) => l.startsWith(`[whisper from ${NAME}]: `)), 10_000);
    if (!whispered) return;
    await waitUntil(() => run.learner.stdout.includes(confirmation) || run.learner.hasExited, MAX_WAIT_MS);
    if (!grader.isClosed) await grader.write(`${GRADER_SAYS}\n/whisper ${NAME} ${REPLY_TEXT}\n`).catch(() => {});
  })();
  return run;
}

function completeLines(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1).map((l) => l.replace(/\r$/, ''));
}

function graderLines(run: ChatRun): string[] {
  return completeLines(run.grader.received);
}

/** The program's connection, as the chat server numbers it (undefined until it connected). */
function programConnection(run: ChatRun): number | undefined {
  const connects = referenceServers().chat.seen.filter((e) => e.type === 'connect');
  return connects[run.connectsBefore]?.connection;
}

/** The lines the chat server read from the program, in order. */
function linesFromProgram(run: ChatRun): string[] {
  const id = programConnection(run);
  return referenceServers().chat.seen.flatMap((e) => (e.type === 'line' && e.connection === id ? [e.line] : []));
}

/** Everything the chat server sent the program (before the reshaping), as bytes. */
function bytesToProgram(run: ChatRun): Buffer {
  const id = programConnection(run);
  const events = currentGrade().session.traffic.events;
  return Buffer.concat(events.flatMap((e) => (e.endpoint === 'chat' && e.connection === id && e.event === 'data' && e.direction === 'to-learner' && e.bytes ? [e.bytes] : [])));
}

function hasLeft(run: ChatRun): boolean {
  const id = programConnection(run);
  return referenceServers().chat.seen.some((e) => e.type === 'left' && e.connection === id);
}

function shown(lines: string[]): string {
  return lines.length ? lines.map((l) => JSON.stringify(l)).join(', ') : 'nothing';
}

async function connected(): Promise<ChatRun & { link: ChoppyLink }> {
  const run = await chatRun();
  await waitUntil(() => run.links.length > 0 || run.learner.hasExited, 3000);
  const link = run.links[0];
  if (!link) {
    const why = run.learner.hasExited ? describeExit(run.learner, await run.learner.exited) : `it did not connect within 3 s.${outputTail(run.learner)}`;
    throw new GradingFailure(`your program did not connect to the chat server at process.env.HOST, port process.env.CHAT_PORT: ${why}`);
  }
  return { ...run, link };
}

/**
 * Fails unless the program sent SCRIPT[step] as its step-th line, and only after the server line it
 * answers had reached it completely.
 */
async function expectStep(step: number): Promise<void> {
  const run = await connected();
  const want = SCRIPT[step];
  // A program that already stalled at this point gets no second long wait.
  const wait = run.stalledAt === linesFromProgram(run).length ? 0 : STEP_MS + 500;
  if (!(await waitUntil(() => linesFromProgram(run).length > step || hasLeft(run), wait))) (await chatRun()).stalledAt = linesFromProgram(run).length;
  const sent = linesFromProgram(run);
  const before = step ? ` after ${shown(SCRIPT.slice(0, step).map((s) => s.send))}` : '';
  // Lines are checked by their place in the script: when an earlier one is out of place, this one fails
  // too, so say which, not what is at this place.
  const misplaced = SCRIPT.slice(0, step).findIndex((s, n) => sent[n] !== undefined && sent[n] !== s.send);
  if (sent[step] !== want.send && misplaced !== -1) {
    const belongs = SCRIPT[misplaced].send;
    throw new GradingFailure(
      `expected your program to send ${JSON.stringify(`${want.send}\n`)}${before}, but an earlier line of the script is not in its place: ` +
        `line ${misplaced + 1} it sent was ${JSON.stringify(sent[misplaced])}, where ${JSON.stringify(belongs)} belongs, and ${sent.includes(belongs) ? `it sent ${JSON.stringify(belongs)} only later` : `it never sent ${JSON.stringify(belongs)}`} ` +
        `(all it sent: ${shown(sent)}). The first failing test says more about that line.`,
    );
  }
  if (sent[step] !== want.send) {
    // Bytes after the program's last "\n": a line it wrote without ending it, which the server still waits for.
    const fromProgram = Buffer.concat(run.link.received.map((r) => r.bytes));
    const unended = fromProgram.subarray(fromProgram.lastIndexOf(10) + 1).toString('utf8');
    const got =
      sent.length > step
        ? `it sent ${JSON.stringify(sent[step])}`
        : unended
          ? `${sent.length ? `after ${shown(sent)} ` : ''}it sent ${JSON.stringify(unended)} without a "\\n" at its end, so the server is still waiting for the rest of that line`
          : sent.length
            ? `it sent nothing more (all it sent: ${shown(sent)})`
            : 'it sent nothing';
    const recased = sent[step]?.toLowerCase() === want.send.toLowerCase() ? ' Send the text exactly as given, same upper and lower case.' : '';
    const arrived = (() => {
      const lines = completeLines(bytesToProgram(run));
      const index = lines.findIndex(want.trigger);
      return index !== -1 && run.link.delivered >= Buffer.byteLength(lines.slice(0, index + 1).join('\n') + '\n');
    })();
    let pieces = '';
    if (sent.length <= step && unended) {
      pieces = ' End every line you send with "\\n": the chat server reads lines, and a line is not complete until its "\\n" arrives.';
    } else if (sent.length <= step && run.learner.hasExited) {
      pieces = ' Your program ended before the server received that line: end it only once the server has closed the connection (process.exit() right after a write can lose what was written).';
    } else if (sent.length <= step && arrived && step === 0) {
      pieces = " That server line did reach your program, together with the line before it in one 'data' event: handle every complete line a chunk holds, not only the first (a loop, not an if).";
    } else if (sent.length <= step && arrived) {
      pieces =
        " That server line did reach your program, in pieces (the grader cuts the server's output at arbitrary points, as a network may): " +
        "looking for it inside each 'data' event never finds it whole. Collect the text into complete lines first.";
    }
    throw new GradingFailure(
      `expected your program to send ${JSON.stringify(`${want.send}\n`)}${before}, once the server's line ${JSON.stringify(want.after)} has arrived, but ${got}.${recased}${pieces}` +
        `${run.learner.hasExited ? ` Meanwhile ${describeExit(run.learner, await run.learner.exited)}` : ''}`,
    );
  }
  // When did the bytes of this line reach the server, and how much of the server's output had been delivered then?
  const fromProgram = Buffer.concat(run.link.received.map((r) => r.bytes));
  /** The chunk in which the program's n-th line (from 0) began to reach the server. */
  const chunkOf = (n: number) => {
    let lineStart = 0;
    for (let i = 0; i < n; i++) lineStart = fromProgram.indexOf(10, lineStart) + 1;
    let offset = 0;
    return run.link.received.find((r) => (offset += r.bytes.length) > lineStart);
  };
  const chunk = chunkOf(step);
  const toProgram = bytesToProgram(run);
  const lines = completeLines(toProgram);
  const index = lines.findIndex(want.trigger);
  const triggerEnd = index === -1 ? Infinity : Buffer.byteLength(lines.slice(0, index + 1).join('\n') + '\n');
  if (!chunk || chunk.delivered < triggerEnd) {
    // The server lines that had reached the program between its previous line and this one.
    const arrivedBy = (c: { delivered: number } | undefined) => (c ? completeLines(toProgram.subarray(0, c.delivered)).length : 0);
    const since = chunk ? completeLines(toProgram.subarray(0, chunk.delivered)).slice(step > 0 ? arrivedBy(chunkOf(step - 1)) : 0) : [];
    const when = chunk ? ` When it sent it, the server lines that had reached it since its previous line were: ${shown(since)}.` : '';
    const upTo = chunk ? toProgram.subarray(0, chunk.delivered) : Buffer.alloc(0);
    // The start of a line that had arrived without its "\n" (complete characters only).
    const unfinished = new StringDecoder('utf8').write(upTo.subarray(upTo.lastIndexOf(10) + 1));
    const begun = unfinished ? ` The line after them had only begun to arrive: ${JSON.stringify(unfinished)}, without its "\\n".` : '';
    // Answering the confirmation shows as "/quit" arriving when the confirmation was the last line delivered.
    const own =
      want.after.startsWith('[whisper from ') && !unfinished && since.at(-1)?.startsWith('[whisper to ')
        ? ` The "[whisper to grader]: …" line is the server confirming your own whisper; grader's answer is the line that starts with "[whisper from grader]: ".`
        : '';
    throw new GradingFailure(
      `your program sent ${JSON.stringify(`${want.send}\n`)} before the server's line ${JSON.stringify(want.after)} had completely arrived ` +
        `(the grader delivers the server's lines in pieces, a few milliseconds apart, like a real network may).${when}${begun}${own} ` +
        `Send each line of the script in answer to the server's line, once that whole line is there.`,
    );
  }
}

describe('TCP chat client', () => {
  it(`connects to the chat server and answers "Please enter your username:" with "${NAME}"`, async () => {
    await expectStep(0);
    const run = await connected();
    const id = programConnection(run);
    const ok = await waitUntil(() => referenceServers().chat.seen.some((e) => e.type === 'registered' && e.connection === id), STEP_MS);
    if (!ok) throw new GradingFailure(`the chat server did not register your program as "${NAME}". It received ${shown(linesFromProgram(run))} and sent back ${shown(completeLines(bytesToProgram(run)))}`);
  });

  it(`sends "${HELLO}" once "Welcome, ${NAME}!" has arrived, and the others get it`, async () => {
    await expectStep(1);
    const run = await connected();
    const expected = `${NAME}: ${HELLO}`;
    if (!(await waitUntil(() => graderLines(run).includes(expected), STEP_MS))) {
      throw new GradingFailure(`the user "grader" expected ${JSON.stringify(expected)}, but received ${shown(graderLines(run).slice(1))}`);
    }
  });

  it('then sends "/users", and whispers to grader once the user list has arrived, keeping the text\'s case', async () => {
    await expectStep(2);
    await expectStep(3);
    const run = await connected();
    const expected = `[whisper from ${NAME}]: ${WHISPER_TEXT}`;
    if (!(await waitUntil(() => graderLines(run).includes(expected), STEP_MS))) {
      throw new GradingFailure(`the user "grader" expected the whisper ${JSON.stringify(expected)}, but received ${shown(graderLines(run).slice(1))}`);
    }
  });

  it('prints every line the server sends, whole and in order, as "< <line>" (the lines arrive in pieces)', async () => {
    const run = await connected();
    // Compare the whole conversation: wait for the program to finish (or give up after a while).
    await Promise.race([run.learner.exited, sleep(run.stalledAt === undefined ? 2 * STEP_MS : 0)]);
    const sent = completeLines(bytesToProgram(run)).map((l) => `< ${l}`);
    const printed = run.learner.stdout.split('\n').filter((l) => l.startsWith('<'));
    const i = sent.findIndex((line, n) => printed[n] !== line);
    if (i === -1) {
      if (printed.length > sent.length) throw new GradingFailure(`your program printed ${JSON.stringify(printed[sent.length])} after the last line the server sent (${JSON.stringify(sent.at(-1))})`);
      return;
    }
    const got = printed[i];
    const want = sent[i].slice(2);
    const fragments = run.learner.stdout.split('\n').filter((l) => l && !l.startsWith('<') && want.includes(l));
    let why = '';
    if (got !== undefined && got.startsWith('<') && !got.startsWith('< ') && got.replace(/^<\s*/, '') === want) {
      why = ' The text after "<" is the server\'s line, but the prefix is not "< ": print "<", one space, then the line.';
    } else if (got?.startsWith('< ') && linesFromProgram(run).includes(got.slice(2))) {
      why = ` ${JSON.stringify(got.slice(2))} is a line your program sent, not one the server sent: only the server's lines are printed with "< " in front (print your own with "> ", or not at all).`;
    } else if (got !== undefined && got.startsWith('< ') && want !== want.trim() && got.slice(2) === want.trim()) {
      why = ' That is the server\'s line with the spaces at its ends removed: print each line exactly as it came (only its "\\n" goes).';
    } else if (got?.includes('\uFFFD')) {
      why = ' "\uFFFD" is what is left of a character whose bytes were split between two chunks and decoded one chunk at a time: use socket.setEncoding(\'utf8\') (or a StringDecoder) instead of data.toString().';
    } else if ((got !== undefined && got.startsWith('< ') && got.length > 2 && want.includes(got.slice(2))) || fragments.length) {
      const also = fragments.length ? ` (your output also has ${shown(fragments)} without "< " in front)` : '';
      why =
        ` The line reached your program in pieces, or together with the line before it, and each 'data' event was printed as if it were one line${also}. ` +
        "One 'data' event is not one line: TCP is a byte stream. Collect the text and split it at each \"\\n\".";
    } else if (got === undefined && run.learner.hasExited) {
      why = ' Your program had ended before this line arrived: keep reading until the server closes the connection (after "/quit" it still sends "Goodbye!").';
    } else if (got === undefined) {
      why = ' Your program stopped printing: is it waiting for a line it missed?';
    }
    throw new GradingFailure(
      `line ${i + 1} the server sent your program was ${JSON.stringify(sent[i].slice(2))}, so line ${i + 1} starting with "<" in your output should be ${JSON.stringify(sent[i])}, ` +
        `but it was ${got === undefined ? 'missing' : JSON.stringify(got)}.${why}${i > 0 ? ` The line before it was right: ${JSON.stringify(sent[i - 1])}.` : ''}`,
    );
  });

  it('sends "/quit" once the whisper from grader has arrived, and ends with exit code 0 when the server closes the connection', async () => {
    await expectStep(4);
    const run = await connected();
    const exit = await expectExit(run.learner, STEP_MS);
    if (exit.exitCode !== 0) throw new GradingFailure(`expected exit code 0, but ${describeExit(run.learner, exit)}`);
    const sent = linesFromProgram(run);
    if (sent.length !== SCRIPT.length) {
      throw new GradingFailure(`your program should send exactly ${shown(SCRIPT.map((s) => s.send))}, but it sent ${shown(sent)}`);
    }
    if (run.links.length > 1) throw new GradingFailure(`your program opened ${run.links.length} connections to the chat server; use one`);
    if (!(await waitUntil(() => graderLines(run).includes(`* ${NAME} left the chat`), STEP_MS))) {
      throw new GradingFailure(`the user "grader" expected "* ${NAME} left the chat", but received ${shown(graderLines(run).slice(1))}`);
    }
  });
});
