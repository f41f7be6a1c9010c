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
} from '../../sandbox-server/src/grading-kit/index.ts';
import type { LearnerProcess } from '../../sandbox-server/src/runner/learner-process.ts';
import type { TrafficEvent } from '../../sandbox-server/src/traffic/traffic-log.ts';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long the echo server sits on the program's bytes before reading them (a slow network). */
const HOLD_MS = 300;
const PREFIX = 'received: ';
/** How long a correct program needs at most for each step, once the reply is released. */
const STEP_MS = 1500;

/** One run of the learner's program per grade; every test below looks at a different side of it. */
interface EchoRun {
  learner: LearnerProcess;
  /** The client ports of the connections the echo server accepted, in order. */
  clientPorts: number[];
  /** What the echo server had sent back at the moment the program first printed "received: ". */
  replyWhenPrinted?: Buffer;
  /** What the echo server had sent back when the program ended. */
  replyAtExit?: Buffer;
}

/** The program's one run in this grade, observed by every test. */
const echoRun = (): EchoRun => oncePerGrade('echo-run', startRun);

function startRun(): EchoRun {
  const clientPorts: number[] = [];
  onReferenceConnection('echo', (socket) => {
    clientPorts.push(socket.remotePort ?? 0);
    // Hold the program's bytes back for HOLD_MS after they arrive, before the server reads them:
    // the reply cannot come sooner. (A paused socket still collects bytes: readableLength.)
    socket.pause();
    const since = Date.now();
    const watch = setInterval(() => {
      if (socket.readableLength === 0 && !socket.destroyed && Date.now() - since < 1000) return;
      clearInterval(watch);
      setTimeout(() => socket.resume(), HOLD_MS);
    }, 5);
  });
  const learner = startLearner();
  const record: EchoRun = { learner, clientPorts };
  const stop = learner.onOutput(() => {
    if (!learner.stdout.split('\n').some((l) => l.startsWith(PREFIX))) return;
    record.replyWhenPrinted = echoed('to-learner');
    stop();
  });
  void learner.exited.then(() => (record.replyAtExit = echoed('to-learner')));
  return record;
}

/** The echo server's record of the program's connection(s). */
function echoEvents(): TrafficEvent[] {
  return currentGrade().session.traffic.events.filter((e) => e.endpoint === 'echo');
}

/** Bytes the echo server received ('from-learner') or sent back ('to-learner'). */
function echoed(direction: 'from-learner' | 'to-learner'): Buffer {
  return Buffer.concat(echoEvents().flatMap((e) => (e.event === 'data' && e.direction === direction && e.bytes ? [e.bytes] : [])));
}

/** Polls `ready` every 10 ms (a retry interval, not a guess) until it holds or `within` passes. */
async function until(ready: () => boolean, within: number): Promise<void> {
  const deadline = Date.now() + within;
  while (!ready() && Date.now() < deadline) await sleep(10);
}

async function startAndConnect(): Promise<EchoRun> {
  const run = echoRun();
  await until(() => run.clientPorts.length > 0 || run.learner.hasExited, 3000);
  if (run.clientPorts.length === 0) {
    if (run.learner.hasExited) {
      throw new GradingFailure(`your program did not connect to the echo server at process.env.HOST, port process.env.ECHO_PORT: ${describeExit(run.learner, await run.learner.exited)}`);
    }
    throw new GradingFailure(`your program did not connect to the echo server within 3 s. Connect with net.connect({ host: process.env.HOST, port: Number(process.env.ECHO_PORT) }).${outputTail(run.learner)}`);
  }
  return run;
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
    await until(() => echoed('from-learner').includes(10) || closed(), HOLD_MS + STEP_MS);
    const got = echoed('from-learner');
    if (got.toString('utf8') === expected) return;
    let why = '';
    if (got.length === 0) why = closed() ? ' The connection was closed before anything was sent.' : ' Nothing arrived: did you call socket.write()?';
    else if (!got.includes(10)) why = ' The line must end with "\\n": that is how the other side knows it is complete.';
    else if (/^hello from port \d+\n$/.test(got.toString('utf8'))) why = ` Your connection's local port (socket.localPort) is ${run.clientPorts[0]}.`;
    throw new GradingFailure(`the echo server expected to receive ${describeBytes(expected)} from your program, but it received ${describeBytes(got)}.${why}`);
  });

  it('prints "received: <the line the server sent back>" after the reply arrived', async () => {
    const run = await startAndConnect();
    const line = await expectOutputLine(run.learner, /^received: /, 'a line starting with "received: "', HOLD_MS + STEP_MS).catch((err: Error) => {
      if (run.replyAtExit?.length === 0) {
        throw new GradingFailure(
          `your program ended before the echo server's reply arrived (the grader held it back ${HOLD_MS} ms, like a slow network), so it never printed "received: …". ` +
            `Keep the connection open until the whole reply line is there; do not end the program right after write().${outputTail(run.learner)}`,
        );
      }
      throw err;
    });
    const printed = line.slice(PREFIX.length);
    const replyThen = run.replyWhenPrinted ?? Buffer.alloc(0);
    if (replyThen.length === 0) {
      throw new GradingFailure(
        `your program printed ${JSON.stringify(line)} before the echo server had sent anything back (the grader held the reply back ${HOLD_MS} ms, like a slow network). ` +
          `Print the text that arrives in the 'data' event, once the whole line is there, not the text you sent.`,
      );
    }
    const reply = echoed('to-learner').toString('utf8');
    const firstLine = reply.split('\n')[0];
    if (printed !== firstLine) {
      const hint = printed.includes('<Buffer') ? ' That is how console.log shows a Buffer: call socket.setEncoding(\'utf8\') or .toString() first.' : '';
      throw new GradingFailure(`the echo server sent back ${describeBytes(reply)}, so your program should print ${JSON.stringify(PREFIX + firstLine)}, but it printed ${JSON.stringify(line)}.${hint}`);
    }
  });

  it('closes the connection and ends by itself with exit code 0', async () => {
    const run = await startAndConnect();
    const exit = await expectExit(run.learner, HOLD_MS + STEP_MS);
    if (exit.exitCode !== 0) throw new GradingFailure(`expected exit code 0, but ${describeExit(run.learner, exit)}`);
    if (run.clientPorts.length > 1) {
      throw new GradingFailure(`your program opened ${run.clientPorts.length} connections to the echo server; open one, and send and receive over it`);
    }
    // The server may still be holding the last bytes back: wait for its side to close.
    await until(() => echoEvents().some((e) => e.event === 'close'), HOLD_MS + STEP_MS);
    if (!echoEvents().some((e) => e.event === 'end')) {
      throw new GradingFailure(
        'the echo server never saw your program end the connection properly: it was reset, not closed. ' +
          'Close it with socket.end() (and let pending data be read) rather than socket.destroy() or process.exit() with data still unread.',
      );
    }
  });
});
