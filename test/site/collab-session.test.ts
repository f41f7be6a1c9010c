// The collaborative editor widget's protocol client (site/src/client/demos/collab-session.ts and
// collab-ops.ts) against the real reference server (collab.ts): several text boxes typing at once
// at random places (emoji included) end up holding exactly the server's text, with no edit lost;
// others' cursors are shown where they are; a paste too large for one edit goes in pieces.
// Replay a failing run with FUZZ_SEED=<the seed it printed>.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { CollabServer } from '../../sandbox-server/src/reference-servers/collab.ts';
import { CollabSession, MAX_INSERT, type CollabServerMessage } from '../../site/src/client/demos/collab-session.ts';
import { applyOp, codePointLength, diff, transform } from '../../site/src/client/demos/collab-ops.ts';
import { FUZZ_SEED, prng } from '../../sandbox-server/test/support/prng.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServer() {
  const server = new CollabServer(undefined, {}, false);
  const port = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, url: `ws://127.0.0.1:${port}/?doc=fuzz` };
}

/** A text box: a session over a real WebSocket, the text it shows and where its caret is. */
async function textBox(url: string, name: string) {
  const ws = new WebSocket(url);
  cleanups.push(() => ws.terminate());
  const errors: string[] = [];
  let caret = 0;
  const session = new CollabSession({
    send: (m) => ws.send(JSON.stringify(m)),
    onText: (_text, map) => (caret = map(caret)),
    onPeople: () => {},
    onError: (code, message) => errors.push(`${code}: ${message}`),
  });
  let received = 0;
  ws.on('message', (data: Buffer) => {
    received++;
    session.handle(JSON.parse(data.toString('utf8')) as CollabServerMessage);
    session.flush(Math.min(caret, codePointLength(session.local))); // as the widget does after each message
  });
  await once(ws, 'open');
  session.join(name);
  await until(() => session.joined);
  return {
    session,
    errors,
    get received() {
      return received;
    },
    /** The learner puts the caret at `pos` (code points). */
    moveCaret(pos: number) {
      caret = pos;
      session.flush(caret);
    },
    /** The learner edits the text box: `op` on what it shows, the caret after it. */
    type(op: { pos: number; delete: number; insert: string }) {
      session.setLocal(applyOp(session.local, op));
      caret = op.pos + codePointLength(op.insert);
      session.flush(caret);
    },
  };
}

async function until(test: () => boolean, what = 'the condition', ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('collab-ops', () => {
  it('diff finds the edit where the caret is, in a run of equal characters', () => {
    expect(diff('aa', 'aaa', 2)).toEqual({ pos: 1, delete: 0, insert: 'a' });
    expect(diff('aa', 'aaa')).toEqual({ pos: 2, delete: 0, insert: 'a' });
    expect(diff('aaa', 'aa', 1)).toEqual({ pos: 1, delete: 1, insert: '' });
    expect(diff('a🚀c', 'a🐱c')).toEqual({ pos: 1, delete: 1, insert: '🐱' });
    expect(diff('same', 'same')).toBeNull();
  });

  it('transform: the lesson example (black cat / cats) converges whichever edit the server applied first', () => {
    const text = 'cat';
    const alice = { pos: 0, delete: 0, insert: 'black ' };
    const bob = { pos: 3, delete: 0, insert: 's' };
    expect(applyOp(applyOp(text, alice), transform(bob, alice, true))).toBe('black cats');
    expect(applyOp(applyOp(text, bob), transform(alice, bob, true))).toBe('black cats');
  });

  it('transform: an insert at the same position goes after the edit applied first, and text deleted twice is deleted once', () => {
    expect(transform({ pos: 2, delete: 0, insert: 'b' }, { pos: 2, delete: 0, insert: 'a' }, true)).toEqual({ pos: 3, delete: 0, insert: 'b' });
    expect(transform({ pos: 2, delete: 0, insert: 'b' }, { pos: 2, delete: 0, insert: 'a' }, false)).toEqual({ pos: 2, delete: 0, insert: 'b' });
    // both delete "cd" of "abcdef"
    expect(transform({ pos: 1, delete: 3, insert: '' }, { pos: 2, delete: 3, insert: '' }, true)).toEqual({ pos: 1, delete: 1, insert: '' });
  });
});

describe('CollabSession against the reference server', () => {
  it(`three text boxes typing at once at random places converge on the server's text (seed ${FUZZ_SEED})`, async () => {
    const random = prng(FUZZ_SEED);
    const { server, url } = await startServer();
    let stale = 0;
    server.observer.on('event', (e: { type: string; code?: string }) => (stale += Number(e.type === 'error' && e.code === 'stale')));
    const boxes = [await textBox(url, 'ada'), await textBox(url, 'bob'), await textBox(url, 'cyd')];
    const pieces = ['a', 'b', ' ', '🚀', 'é', 'xyz', '\n'];
    let typed = 0;
    for (let round = 0; round < 60; round++) {
      for (const box of boxes) {
        const length = codePointLength(box.session.local);
        const pos = Math.floor(random() * (length + 1));
        const del = random() < 0.3 ? Math.min(length - pos, Math.floor(random() * 3)) : 0;
        const insert = del > 0 && random() < 0.5 ? '' : pieces[Math.floor(random() * pieces.length)];
        if (del === 0 && insert === '') continue;
        box.type({ pos, delete: del, insert });
        if (insert) typed++;
      }
      // let some messages through between rounds, not all: edits cross in flight
      if (random() < 0.5) await new Promise((r) => setImmediate(r));
    }
    await until(
      () => boxes.every((b) => b.session.settled && b.session.version === server.document('fuzz')!.version),
      'every text box to settle',
    );
    const text = server.document('fuzz')!.text;
    for (const box of boxes) expect(box.session.local).toBe(text);
    for (const box of boxes) expect(box.errors).toEqual([]);
    expect(server.document('fuzz')!.version).toBeGreaterThan(0);
    expect(typed).toBeGreaterThan(0);
    expect(stale).toBeGreaterThan(0); // edits did cross: some were rebased and sent again
  });

  it("shows another person's cursor where it is, moved by edits that arrive", async () => {
    const { url } = await startServer();
    const ada = await textBox(url, 'ada');
    ada.type({ pos: 0, delete: 0, insert: 'hello world' });
    await until(() => ada.session.settled);
    const bob = await textBox(url, 'bob');
    expect(bob.session.local).toBe('hello world');
    ada.moveCaret(5); // after "hello"
    await until(() => bob.session.cursors().some((c) => c.name === 'ada' && c.pos === 5), "ada's cursor at 5 in bob's box");
    const before = bob.received;
    ada.type({ pos: 0, delete: 0, insert: '¡' }); // ada types in front: her cursor moves with her edit
    await until(() => bob.received > before && bob.session.local === '¡hello world', "ada's edit in bob's box");
    ada.moveCaret(1);
    await until(() => bob.session.cursors().some((c) => c.name === 'ada' && c.pos === 1), "ada's cursor at 1");
  });

  it('sends a paste larger than one edit may be in pieces, so nothing is refused', async () => {
    const { server, url } = await startServer();
    const ada = await textBox(url, 'ada');
    const paste = 'p'.repeat(MAX_INSERT * 2 + 10);
    ada.type({ pos: 0, delete: 0, insert: paste });
    await until(() => ada.session.settled, 'the paste to be applied');
    expect(server.document('fuzz')).toEqual({ text: paste, version: 3 });
    expect(ada.errors).toEqual([]);
  });
});
