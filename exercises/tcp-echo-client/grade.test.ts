import { describe, it } from 'vitest';
import {
  currentGrade,
  describeBytes,
  describeExit,
  expectExit,
  expectOutputLine,
  GradingFailure,
  onReferenceConnection,
  oncePerGrade,
  outputTail,
  startLearner,
  waitUntil,
} from '../../sandbox-server/src/grading-kit/index.ts';
import type { LearnerProcess } from '../../sandbox-server/src/runner/learner-process.ts';
import type { OutputShaper } from '../../sandbox-server/src/reference-servers/tcp-server-base.ts';
import type { TrafficEvent } from '../../sandbox-server/src/traffic/traffic-log.ts';
import type net from 'node:net';

/** How long the echo server sits on the program's bytes before reading them (a slow network). */
const HOLD_MS = 300;
/**
 * Longest pause between two pieces of the reply. The next piece goes earlier if the program
 * prints its "received: " line: then it has certainly read the pieces before on their own.
 */
const PIECE_GAP_MS = 400;
/** The reply line reaches the program in three pieces: its first bytes, its middle, its last bytes with the "\n". */
const EDGE_PIECE_BYTES = 3;
const PREFIX = 'received: ';
/** How long a correct program needs at most for each step, once the reply is there. */
const STEP_MS = 1500;
/** How long the echo server may still see a connection arrive after the program has exited. */
const ACCEPT_AFTER_EXIT_MS = 1000;
/** From the program's line reaching the echo server until the whole reply has been delivered. */
const DELIVERY_MS = HOLD_MS + 2 * PIECE_GAP_MS;

/**
 * The echo server's output to the program, delivered the way a network may deliver it: each
 * burst of bytes it writes arrives in three pieces with pauses between, so a program that takes
 * one 'data' event for the whole reply prints a fragment. Records what was delivered when.
 */
class ReplyInPieces implements OutputShaper {
  private readonly queue: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopWatching: (() => void) | undefined;
  private endAfterQueue = false;
  /** A delivery is scheduled (immediate, timer or output watch). */
  private due = false;
  /** Every byte written to the program so far. */
  delivered = Buffer.alloc(0);

  constructor(
    private readonly socket: net.Socket,
    private readonly learner: LearnerProcess,
  ) {
    socket.setNoDelay(true); // each piece its own TCP segment
    // A program may half-close right after sending (socket.end()); the echo server still owes it
    // the reply. Node would end this side at once when the program's end arrives, cutting off the
    // pieces still queued; end() below ends it after the last one instead.
    socket.allowHalfOpen = true;
    socket.on('close', () => this.cancel());
  }

  write(bytes: Buffer): void {
    this.queue.push(...inPieces(bytes));
    this.start();
  }

  end(): void {
    this.endAfterQueue = true;
    this.start();
  }

  /**
   * Starts delivering unless a delivery is already due. Not in this tick: when the program's end
   * came right behind its bytes, the server then reads (and records) that end before the first
   * piece goes out, as it would have before its reply reached a closed peer.
   */
  private start(): void {
    if (this.due) return;
    this.due = true;
    setImmediate(() => this.deliverNext());
  }

  private deliverNext(): void {
    this.cancel();
    if (this.socket.destroyed) return;
    const piece = this.queue.shift();
    if (piece) {
      this.socket.write(piece);
      this.delivered = Buffer.concat([this.delivered, piece]);
    }
    if (this.queue.length === 0) {
      if (this.endAfterQueue) this.socket.end();
      return;
    }
    this.due = true;
    if (printedReceived(this.learner)) return void setImmediate(() => this.deliverNext());
    this.timer = setTimeout(() => this.deliverNext(), PIECE_GAP_MS);
    this.stopWatching = this.learner.onOutput(() => printedReceived(this.learner) && this.deliverNext());
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.due = false;
  }
}

/** A burst cut in three: its first bytes, its middle, its last bytes (a short burst stays whole). */
function inPieces(bytes: Buffer): Buffer[] {
  if (bytes.length <= 3 * EDGE_PIECE_BYTES) return [bytes];
  const lastCut = bytes.length - EDGE_PIECE_BYTES;
  return [bytes.subarray(0, EDGE_PIECE_BYTES), bytes.subarray(EDGE_PIECE_BYTES, lastCut), bytes.subarray(lastCut)];
}

function printedReceived(learner: LearnerProcess): boolean {
  return learner.stdout.split('\n').some((l) => l.startsWith(PREFIX));
}

/** One run of the learner's program per grade; every test below looks at a different side of it. */
interface EchoRun {
  learner: LearnerProcess;
  /** The client ports of the connections the echo server accepted, in order. */
  clientPorts: number[];
  /** The server side of each of those connections. */
  links: ReplyInPieces[];
  /** What had been delivered to the program when its first "received: " line reached the grader. */
  deliveredWhenPrinted?: Buffer;
  /** What had been delivered to the program when it ended. */
  deliveredAtExit?: Buffer;
}

/** The program's one run in this grade, observed by every test. */
const echoRun = (): EchoRun => oncePerGrade('echo-run', startRun);

function startRun(): EchoRun {
  const clientPorts: number[] = [];
  const links: ReplyInPieces[] = [];
  const learner = startLearner();
  // Its connection can only be accepted in a later turn of the event loop: the hook is in place.
  onReferenceConnection('echo', (socket) => {
    clientPorts.push(socket.remotePort ?? 0);
    holdBack(socket);
    const link = new ReplyInPieces(socket, learner);
    links.push(link);
    return link;
  });
  const run: EchoRun = { learner, clientPorts, links };
  // Watching from the start: the program may print before its connection has been accepted.
  const stopWatching = learner.onOutput(() => {
    if (!printedReceived(learner)) return;
    run.deliveredWhenPrinted = links[0]?.delivered ?? Buffer.alloc(0);
    stopWatching();
  });
  void learner.exited.then(() => (run.deliveredAtExit = links[0]?.delivered ?? Buffer.alloc(0)));
  return run;
}

/**
 * Holds the program's bytes back for HOLD_MS after they arrive, before the server reads them: the
 * reply cannot come sooner. (A paused socket still collects bytes: readableLength.)
 */
function holdBack(socket: net.Socket): void {
  socket.pause();
  const since = Date.now();
  const watch = setInterval(() => {
    if (socket.readableLength === 0 && !socket.destroyed && Date.now() - since < 1000) return;
    clearInterval(watch);
    setTimeout(() => socket.resume(), HOLD_MS);
  }, 5);
}

/** The echo server's record of the program's connection(s). */
function echoEvents(): TrafficEvent[] {
  return currentGrade().session.traffic.events.filter((e) => e.endpoint === 'echo');
}

/** Bytes the echo server received ('from-learner') or sent back ('to-learner'). */
function echoed(direction: 'from-learner' | 'to-learner'): Buffer {
  return Buffer.concat(echoEvents().flatMap((e) => (e.event === 'data' && e.direction === direction && e.bytes ? [e.bytes] : [])));
}

async function startAndConnect(): Promise<EchoRun> {
  const run = echoRun();
  await waitUntil(() => run.clientPorts.length > 0 || run.learner.hasExited, 3000);
  // A connection the program made and closed at once reaches the echo server after the program
  // may already have exited: give it that moment before calling it no connection at all.
  if (run.learner.hasExited) await waitUntil(() => run.clientPorts.length > 0, ACCEPT_AFTER_EXIT_MS);
  if (run.clientPorts.length === 0) {
    if (run.learner.hasExited) {
      throw new GradingFailure(`your program did not connect to the echo server at process.env.HOST, port process.env.ECHO_PORT: ${describeExit(run.learner, await run.learner.exited)}`);
    }
    throw new GradingFailure(`your program did not connect to the echo server within 3 s. Connect with net.connect({ host: process.env.HOST, port: Number(process.env.ECHO_PORT) }).${outputTail(run.learner)}`);
  }
  return run;
}

/** How the reply reached the program, for messages: `"hel", then "lo from port 4", then "21\n"`. */
function describePieces(reply: Buffer): string {
  return inPieces(reply)
    .map((p) => describeBytes(p, 40))
    .join(', then ');
}

describe('TCP echo client', () => {
  it('connects to the echo server at HOST, port ECHO_PORT', async () => {
    await startAndConnect();
  });

  it('sends exactly one line: "hello from port <its local port>\\n"', async () => {
    const run = await startAndConnect();
    const expected = `hello from port ${run.clientPorts[0]}\n`;
    const closed = () => echoEvents().some((e) => e.event === 'close' || e.event === 'end');
    // Not "until the program exits": the bytes it sent may still be held back on the server's side.
    await waitUntil(() => echoed('from-learner').includes(10) || closed(), HOLD_MS + STEP_MS);
    const got = echoed('from-learner');
    if (got.toString('utf8') === expected) return;
    let why = '';
    if (got.length === 0) why = closed() ? ' The connection was closed before anything was sent.' : ' Nothing arrived: did you call socket.write()?';
    else if (!got.includes(10)) why = ' The line must end with "\\n": that is how the other side knows it is complete.';
    else if (/^hello from port \d+\n$/.test(got.toString('utf8'))) why = ` Your connection's local port (socket.localPort) is ${run.clientPorts[0]}.`;
    throw new GradingFailure(`the echo server expected to receive ${describeBytes(expected)} from your program, but it received ${describeBytes(got)}.${why}`);
  });

  it('prints "received: <the line the server sent back>" once the whole line has arrived', async () => {
    const run = await startAndConnect();
    const line = await expectOutputLine(run.learner, /^received: /, 'a line starting with "received: "', DELIVERY_MS + STEP_MS).catch((err: Error) => {
      const onStderr = run.learner.stderr.split('\n').find((l) => l.startsWith(PREFIX));
      if (onStderr !== undefined) {
        throw new GradingFailure(
          `your program printed ${JSON.stringify(onStderr)} to stderr (console.error), not to its output: print it with console.log, which writes to stdout.`,
        );
      }
      if (run.deliveredAtExit?.length === 0) {
        throw new GradingFailure(
          `your program ended before the echo server's reply arrived (the grader held it back ${HOLD_MS} ms, like a slow network), so it never printed "received: …". ` +
            `Keep the connection open until the whole reply line is there; do not end the program right after write().${outputTail(run.learner)}`,
        );
      }
      if (run.links[0]?.delivered.includes(10) && !run.learner.hasExited) {
        throw new GradingFailure(
          `the whole reply line (${describeBytes(run.links[0].delivered)}) reached your program, but it printed no "received: …" line. ` +
            `Print it as soon as the "\\n" is there; waiting for the server's 'end' only works once your program has ended its own side with socket.end().${outputTail(run.learner)}`,
        );
      }
      throw err;
    });
    const printed = line.slice(PREFIX.length);
    const deliveredThen = run.deliveredWhenPrinted ?? Buffer.alloc(0);
    if (deliveredThen.length === 0) {
      throw new GradingFailure(
        `your program printed ${JSON.stringify(line)} before the echo server had sent anything back (the grader held the reply back ${HOLD_MS} ms, like a slow network). ` +
          `Print the text that arrives in the 'data' events, once the whole line is there, not the text you sent.`,
      );
    }
    const reply = echoed('to-learner');
    const firstLine = reply.toString('utf8').split('\n')[0];
    if (printed === firstLine) return;
    let hint = '';
    if (printed.includes('<Buffer')) hint = " That is how console.log shows a Buffer: call socket.setEncoding('utf8') or .toString() first.";
    else if (printed.length > 0 && firstLine.startsWith(printed.trimEnd())) {
      hint =
        ` The reply reached your program in pieces (${describePieces(reply)}), with pauses between, as a network may deliver it: one 'data' event is not the whole line. ` +
        `Add each chunk to what you have until it contains "\\n".`;
    }
    throw new GradingFailure(`the echo server sent back ${describeBytes(reply)}, so your program should print ${JSON.stringify(PREFIX + firstLine)}, but it printed ${JSON.stringify(line)}.${hint}`);
  });

  it('closes the connection and ends by itself with exit code 0', async () => {
    const run = await startAndConnect();
    // The time to end counts from the moment the whole reply line has reached the program.
    const replied = await waitUntil(() => run.learner.hasExited || (run.links[0]?.delivered.includes(10) ?? false), DELIVERY_MS + STEP_MS);
    const exit = await expectExit(run.learner, STEP_MS).catch((err: Error) => {
      if (!replied) throw err;
      throw new GradingFailure(
        `expected your program to end by itself within ${STEP_MS / 1000} s after the whole reply line reached it, but it was still running. ` +
          `Close the connection with socket.end(): once the server has closed its side too, Node ends the program.${outputTail(run.learner)}`,
      );
    });
    if (exit.exitCode !== 0) throw new GradingFailure(`expected exit code 0, but ${describeExit(run.learner, exit)}`);
    if (run.clientPorts.length > 1) {
      throw new GradingFailure(`your program opened ${run.clientPorts.length} connections to the echo server; open one, and send and receive over it`);
    }
    // The server may still be holding the last bytes back: wait for its side to close.
    await waitUntil(() => echoEvents().some((e) => e.event === 'close'), DELIVERY_MS + STEP_MS);
    if (!echoEvents().some((e) => e.event === 'end')) {
      throw new GradingFailure(
        'the echo server never saw your program end the connection properly: it was reset, not closed. ' +
          'Close it with socket.end() (and let pending data be read) rather than socket.destroy() or process.exit() with data still unread.',
      );
    }
  }, 3000 + 2 * (DELIVERY_MS + STEP_MS) + STEP_MS + 1000);
});
