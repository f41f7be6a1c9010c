// Grading tests of a server exercise. They use vitest's API (describe, it) and the grading kit
// (sandbox-server/src/grading-kit/README.md). The grader loads this file once and runs its tests
// for every submission, each grade with its own learner process and reference servers.
import { describe, it } from 'vitest';
import { learnerServer } from '../../../sandbox-server/src/grading-kit/index.ts';

describe('line server', () => {
  it('answers a line', async () => {
    // learnerServer() starts the learner's program once per grade and resolves when it accepts
    // connections on PORT; connect() opens a new client connection to it.
    const client = await (await learnerServer()).connect();
    await client.write('hello\n');
    // expectLine() waits (2 s by default) and fails with a message saying what did arrive.
    await client.expectLine('you said: hello');
  });

  it('answers a line that arrives in three pieces', async () => {
    const client = await (await learnerServer()).connect();
    // Three separate TCP segments: code that treats one 'data' event as one line fails here.
    await client.writeInPieces('split in three pieces\n', 3);
    await client.expectLine('you said: split in three pieces', { what: 'one answer for the whole line' });
  });

  it('answers each of two lines sent in one write', async () => {
    const client = await (await learnerServer()).connect();
    await client.write('first\nsecond\n');
    await client.expectLine('you said: first');
    await client.expectLine('you said: second');
  });

  it('serves two clients at once, each with its own lines', async () => {
    const server = await learnerServer();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    await alice.write('from ali');
    await bob.write('from bob\n');
    await bob.expectLine('you said: from bob');
    await alice.write('ce\n');
    await alice.expectLine('you said: from alice', { what: "alice's line, not mixed with bob's" });
  });
});
