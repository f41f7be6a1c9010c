// Grading tests of a client exercise. They use vitest's API (describe, it) and the grading kit
// (sandbox-server/src/grading-kit/README.md). The grader loads this file once and runs its tests
// for every submission; each grade has its own reference servers (echo, chat, UDP echo) on fresh
// ports, given to the learner's program as ECHO_PORT, CHAT_PORT and UDP_ECHO_PORT.
import { describe, it } from 'vitest';
import {
  describeBytes,
  describeExit,
  expectExit,
  expectOutputLine,
  GradingFailure,
  oncePerGrade,
  onReferenceConnection,
  outputTail,
  referenceServers,
  startLearner,
  waitUntil,
} from '../../../sandbox-server/src/grading-kit/index.ts';
import type { LearnerProcess } from '../../../sandbox-server/src/runner/learner-process.ts';

interface Run {
  learner: LearnerProcess;
  /** Every byte this grade's echo server received from the program. */
  received: Buffer[];
}

/**
 * One run of the learner's program per grade, observed by every test below. This file is loaded
 * once and serves every grade, so per-grade state lives in oncePerGrade(), never in a module-level
 * variable (that would be shared by every learner).
 */
const run = (): Run =>
  oncePerGrade('run', () => {
    const received: Buffer[] = [];
    // Sees the server side of each connection to this grade's echo server, before the server does.
    onReferenceConnection('echo', (socket) => {
      socket.on('data', (chunk: Buffer) => received.push(chunk));
    });
    return { learner: startLearner(), received };
  });

describe('echo client', () => {
  it('sends "ping\\n" to the echo server at HOST, port ECHO_PORT', async () => {
    const { learner, received } = run();
    const sent = () => Buffer.concat(received);
    await waitUntil(() => sent().includes(10) || learner.hasExited, 2000);
    if (sent().toString() !== 'ping\n') {
      throw new GradingFailure(
        `the echo server (port ${referenceServers().ports.echo}) expected to receive "ping\\n" from your program, but it received ${describeBytes(sent())}.${outputTail(learner)}`,
      );
    }
  });

  it('prints "got: ping" once the reply arrived', async () => {
    // Waits for a line of the program's stdout (3 s by default); fails with what it printed instead.
    const line = await expectOutputLine(run().learner, /^got: /, 'a line starting with "got: "');
    if (line !== 'got: ping') throw new GradingFailure(`expected your program to print "got: ping", but it printed ${JSON.stringify(line)}`);
  });

  it('closes the connection and ends by itself with exit code 0', async () => {
    const { learner } = run();
    const exit = await expectExit(learner);
    if (exit.exitCode !== 0) throw new GradingFailure(`expected exit code 0, but ${describeExit(learner, exit)}`);
  });
});
