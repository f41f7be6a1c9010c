import { describe, it } from 'vitest';
import { describeBytes, describeExit, GradingFailure, learnerServer, oncePerGrade, expectSameBytes as expectEcho, waitUntil, type TestClient } from '../../sandbox-server/src/grading-kit/index.ts';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** U+FFFD in UTF-8: what a byte that is not UTF-8 becomes when a chunk is decoded as text. */
const REPLACEMENT_BYTES = Buffer.from('\uFFFD');
/**
 * A client connected before the first test that sends nothing until "keeps echoing": it stays
 * quiet while the other tests run (so the check costs the grading almost no time), at least this long.
 */
const QUIET_MS = 150;

/** How long to wait for the echo of one piece before sending the next anyway (a correct server echoes it at once). */
const PIECE_ECHO_MS = 500;

/**
 * Writes `sent` cut at `cuts`, each piece once the echo of everything before it is back: the server
 * has then read that piece on its own, so its chunks end at the cuts however loaded the machine is
 * (pieces written a few milliseconds apart can reach a busy server in one read).
 */
async function writePiecesAfterEchoes(client: TestClient, sent: Buffer, cuts: number[]): Promise<void> {
  const before = client.received.length;
  let start = 0;
  for (const cut of [...cuts, sent.length]) {
    await client.write(sent.subarray(start, cut));
    start = cut;
    if (cut < sent.length) await waitUntil(() => client.received.length - before >= cut || client.isClosed, PIECE_ECHO_MS);
  }
}

/** The quiet client, connected once per grade when the first test starts. */
function quietClient(): Promise<{ client: TestClient; since: number }> {
  return oncePerGrade('quiet-client', async () => ({ client: await (await learnerServer()).connect('a quiet client'), since: Date.now() }));
}

/** Reads what comes back for `sent` and fails unless it is exactly the same bytes. */
async function expectEchoed(client: TestClient, sent: Buffer, what: string, within?: number): Promise<void> {
  const got = await client.readBytes(sent.length, within).catch((err: Error) => {
    throw new GradingFailure(`${what}: sent ${describeBytes(sent, 48)}, ${err.message}`);
  });
  expectEcho(what, sent, got);
}

/** Sends `sent` in one write and fails unless exactly the same bytes come back. */
async function roundTrip(client: TestClient, sent: Buffer, what: string, within?: number): Promise<void> {
  await client.write(sent);
  await expectEchoed(client, sent, what, within);
}

/** A failed binary round trip, with the likely cause when the bytes that came back show one. */
function explainBinaryEcho(err: GradingFailure, sent: Buffer, got: Buffer): GradingFailure {
  const said = err.message.replace(/\.?$/, '.');
  // Only bytes decoded as UTF-8 come back as ef bf bd (U+FFFD): name the decoding then, and only
  // then (and once: a comparison that reached them has said so already).
  if (got.includes(REPLACEMENT_BYTES) && !sent.includes(REPLACEMENT_BYTES) && !said.includes('replacement character')) {
    return new GradingFailure(`${said} What came back holds ef bf bd (U+FFFD, the replacement character): your server decoded the chunks as text. Write each chunk back as the Buffer it came in.`);
  }
  if (got.length < sent.length && got.at(-1) === 10 && sent.subarray(0, got.length).equals(got)) {
    return new GradingFailure(`${said} Everything up to the last "\\n" came back and nothing after it: echo each chunk as it arrives, not only whole lines (binary data need not end in "\\n").`);
  }
  return err;
}

describe('TCP echo server', () => {
  it('echoes text: several lines in one write', async () => {
    await quietClient();
    const client = await (await learnerServer()).connect();
    await roundTrip(client, Buffer.from('hello, echo\nsecond line\n\n  last line  \n'), 'four lines in one write');
  });

  it('echoes data sent in several pieces', async () => {
    const client = await (await learnerServer()).connect();
    const sent = Buffer.from('split across three writes\n');
    await client.writeInPieces(sent, 3);
    await expectEchoed(client, sent, 'three writes');
  });

  it('echoes binary data unchanged', async () => {
    const client = await (await learnerServer()).connect();
    const sent = Buffer.concat([Buffer.from([0, 255, 1, 254, 10, 13, 0x80, 0xc3]), randomBytes(4096)]);
    await roundTrip(client, sent, 'binary data').catch((err: unknown) => {
      throw err instanceof GradingFailure ? explainBinaryEcho(err, sent, client.received) : err;
    });
  });

  it('echoes multi-byte UTF-8 split inside a character', async () => {
    const client = await (await learnerServer()).connect();
    const sent = Buffer.from('héllo wörld ✓ 🚀\n');
    await writePiecesAfterEchoes(client, sent, [2, 14, 19]);
    await expectEchoed(client, sent, 'UTF-8 split mid-character');
  });

  it('serves several clients at once, each getting only its own bytes', async () => {
    const server = await learnerServer();
    const clients = await Promise.all([1, 2, 3, 4, 5].map((n) => server.connect(`client ${n}`)));
    const messages = clients.map((_, i) => Buffer.from(`message from client ${i + 1}: ${'x'.repeat(i * 7)}\n`));
    await Promise.all(clients.map((c, i) => c.write(messages[i])));
    for (const [i, c] of clients.entries()) await expectEchoed(c, messages[i], `client ${i + 1}`);
  });

  it('keeps echoing for as long as a client stays connected', async () => {
    const client = await (await learnerServer()).connect();
    for (let round = 1; round <= 6; round++) await roundTrip(client, Buffer.from(`round ${round}\n`), `round ${round}`);
    // A client that sends nothing for a while is still connected: the server must not drop it.
    const quiet = await quietClient();
    const quietFor = Date.now() - quiet.since;
    if (quietFor < QUIET_MS) await sleep(QUIET_MS - quietFor);
    const seconds = `${((Date.now() - quiet.since) / 1000).toFixed(1)} s`;
    try {
      await roundTrip(quiet.client, Buffer.from('after a quiet while\n'), `a client that had sent nothing for ${seconds}`);
    } catch (err) {
      if (quiet.client.isClosed) {
        throw new GradingFailure(
          `your server closed the connection of a client that had sent nothing for ${seconds}. ` +
            'A quiet client is still connected: keep serving it until it disconnects (no setTimeout() that ends idle sockets).',
        );
      }
      throw err;
    }
  });

  it('echoes a large burst (64 KiB) completely', async () => {
    const client = await (await learnerServer()).connect();
    await roundTrip(client, randomBytes(64 * 1024), '64 KiB in one write', 4000);
  });

  // Last: a server that this test crashes could not serve the tests after it.
  it('keeps serving others after a client disconnects abruptly', async () => {
    const server = await learnerServer();
    const staying = await server.connect('staying client');
    const leaving = await server.connect('leaving client');
    // Its echo shows the server accepted this connection and reads it: the reset will reach a
    // socket the server is using (a reset before that would go unnoticed).
    await roundTrip(leaving, Buffer.from('bye\n'), 'the leaving client, before it resets');
    leaving.socket.resetAndDestroy();
    // Closed here means the reset has been sent (in a pod the reset is made inside, on request).
    await waitUntil(() => leaving.isClosed, 2000);
    try {
      // The reset reached the server before these bytes did: by the second echo it has handled it.
      await roundTrip(staying, Buffer.from('still there? (1)\n'), 'a client connected before another one reset its connection');
      await roundTrip(staying, Buffer.from('still there? (2)\n'), 'a client connected before another one reset its connection');
      await roundTrip(await server.connect('new client'), Buffer.from('hello after the reset\n'), 'a client that connected after another one reset its connection');
    } catch (err) {
      if (await waitUntil(() => server.process.hasExited, 1000)) {
        throw new GradingFailure(
          "your server stopped when a client reset its connection. A reset makes that client's socket emit 'error' (ECONNRESET), and an 'error' event " +
            "with no listener crashes the whole server, dropping every other client: add socket.on('error', …) for each client's socket. " +
            `How it ended: ${describeExit(server.process, await server.process.exited)}`,
        );
      }
      throw err;
    }
  });
});
