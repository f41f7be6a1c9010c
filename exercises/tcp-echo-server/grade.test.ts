import { describe, it } from 'vitest';
import { learnerServer, expectSameBytes as expectEcho } from '../../sandbox-server/src/grading-kit/index.ts';
import { randomBytes } from 'node:crypto';

describe('TCP echo server', () => {
  it('echoes a line of text', async () => {
    const client = await (await learnerServer()).connect();
    const sent = Buffer.from('hello, echo\n');
    await client.write(sent);
    expectEcho('one write', sent, await client.readBytes(sent.length));
  });

  it('echoes data sent in several pieces', async () => {
    const client = await (await learnerServer()).connect();
    const sent = Buffer.from('split across three writes\n');
    await client.writeInPieces(sent, 3);
    expectEcho('three writes', sent, await client.readBytes(sent.length));
  });

  it('echoes binary data unchanged', async () => {
    const client = await (await learnerServer()).connect();
    const sent = Buffer.concat([Buffer.from([0, 255, 1, 254, 10, 13, 0x80, 0xc3]), randomBytes(4096)]);
    await client.write(sent);
    expectEcho('binary data (did you convert chunks to strings?)', sent, await client.readBytes(sent.length));
  });

  it('echoes multi-byte UTF-8 split inside a character', async () => {
    const client = await (await learnerServer()).connect();
    const sent = Buffer.from('héllo wörld ✓ 🚀\n');
    await client.writeInPieces(sent, [2, 14, 19]);
    expectEcho('UTF-8 split mid-character', sent, await client.readBytes(sent.length));
  });

  it('serves several clients at once, each getting only its own bytes', async () => {
    const server = await learnerServer();
    const clients = await Promise.all([1, 2, 3, 4, 5].map((n) => server.connect(`client ${n}`)));
    const messages = clients.map((_, i) => Buffer.from(`message from client ${i + 1}: ${'x'.repeat(i * 7)}\n`));
    await Promise.all(clients.map((c, i) => c.write(messages[i])));
    for (const [i, c] of clients.entries()) expectEcho(`client ${i + 1}`, messages[i], await c.readBytes(messages[i].length));
  });

  it('keeps echoing for as long as a client stays connected', async () => {
    const client = await (await learnerServer()).connect();
    for (let round = 1; round <= 5; round++) {
      const sent = Buffer.from(`round ${round}\n`);
      await client.write(sent);
      expectEcho(`round ${round}`, sent, await client.readBytes(sent.length));
    }
  });

  it('keeps serving others after a client disconnects abruptly', async () => {
    const server = await learnerServer();
    const leaving = await server.connect('leaving client');
    await leaving.write('bye');
    leaving.socket.resetAndDestroy();
    const staying = await server.connect('new client');
    const sent = Buffer.from('still there?\n');
    await staying.write(sent);
    expectEcho('after another client reset its connection', sent, await staying.readBytes(sent.length));
  });

  it('echoes a large burst (64 KiB) completely', async () => {
    const client = await (await learnerServer()).connect();
    const sent = randomBytes(64 * 1024);
    await client.write(sent);
    expectEcho('64 KiB', sent, await client.readBytes(sent.length, 4000));
  });
});
