// The kit's ack-reply checks against small socket.io servers: a server that emits its reply as an
// event instead of calling the callback is told so without waiting out the ack deadline, a server
// that emits such an event and acks as well passes, and askUntil stops at the first answer that holds.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { Server } from 'socket.io';
import { askUntil, request } from '../src/grading-kit/ack-replies.ts';
import { TestSocketIo } from '../src/grading-kit/test-socket-io.ts';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function clientOf(setUp: (io: Server) => void): Promise<TestSocketIo> {
  const server = http.createServer();
  const io = new Server(server);
  setUp(io);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => io.close(() => resolve())));
  const port = (server.address() as net.AddressInfo).port;
  const connector = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(socket)).once('error', reject);
    });
  const client = await TestSocketIo.open(connector, `http://127.0.0.1:${port}`, { label: 'alice' });
  closers.push(() => client.close());
  return client;
}

describe('ack replies', () => {
  it('says at once that the server emitted its reply instead of calling the callback', async () => {
    const client = await clientOf((io) => io.on('connection', (s) => s.on('list', () => s.emit('reply', { ok: true, notes: [] }))));
    await expect(request(client, 'list', [], 'the notes')).rejects.toThrow('alice sent list() with an acknowledgement callback, and your server answered by emitting reply({"ok":true,"notes":[]}) instead of calling the callback');
  });

  it('takes the acknowledgement when the server also emits an event shaped like a reply', async () => {
    const client = await clientOf((io) =>
      io.on('connection', (s) =>
        s.on('list', (ack: (reply: unknown) => void) => {
          s.emit('status', { ok: true });
          ack({ ok: true, notes: [] });
        }),
      ),
    );
    expect(await request(client, 'list', [], 'the notes')).toEqual({ ok: true, notes: [] });
  });

  it('askUntil asks again until the answer holds, and gives up after `within` saying it did not hold', async () => {
    let asked = 0;
    expect(await askUntil(async () => ++asked, (n) => n === 3)).toEqual({ answer: 3, held: true });
    expect(asked).toBe(3);
    const never = await askUntil(async () => 'no', (answer) => answer === 'yes', 50);
    expect(never).toEqual({ answer: 'no', held: false });
  });
});
