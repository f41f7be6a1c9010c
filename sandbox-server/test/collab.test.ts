// The reference collaborative document server speaks COLLAB-PROTOCOL.md; these tests pin that
// contract down, including convergence under concurrent edits and a fuzz of random messages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { CollabServer, type CollabLimits } from '../src/reference-servers/collab.ts';
import { applyOp, codePointLength, moveCursor, utf16Index, type EditOp } from '../src/reference-servers/collab-document.ts';

type Json = Record<string, any>;

let server: CollabServer;
let port: number;
const peers: Peer[] = [];

async function start(limits: Partial<CollabLimits> = {}): Promise<void> {
  await server?.close();
  server = new CollabServer(undefined, limits);
  port = await server.listen(0, '127.0.0.1');
}

beforeEach(() => start());
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await server.close();
});

/** A test client: every JSON message it receives is queued; next() takes them in order. */
class Peer {
  readonly inbox: Json[] = [];
  closed?: { code: number; reason: string };
  private wake?: () => void;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.inbox.push(JSON.parse(data.toString('utf8')));
      this.wake?.();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.wake?.();
    });
    ws.on('error', () => {});
  }

  static async open(doc?: string): Promise<Peer> {
    const peer = new Peer(new WebSocket(`ws://127.0.0.1:${port}/${doc === undefined ? '' : `?doc=${doc}`}`));
    peers.push(peer);
    await once(peer.ws, 'open');
    return peer;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (of `type`, skipping others if given). */
  async next(type?: string): Promise<Json> {
    for (;;) {
      const i = this.inbox.findIndex((m) => type === undefined || m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.closed) throw new Error(`closed (${this.closed.code}) while waiting for ${type ?? 'a message'}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async closedWith(): Promise<{ code: number; reason: string }> {
    while (!this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.closed;
  }
}

async function join(name: string, doc?: string): Promise<{ peer: Peer; sync: Json }> {
  const peer = await Peer.open(doc);
  peer.send({ type: 'join', name });
  return { peer, sync: await peer.next() };
}

/** Every message `peer` got before the answer to a cursor it sends now (the server answers in order). */
async function before(peer: Peer): Promise<Json[]> {
  peer.send({ type: 'cursor', pos: 'not a number' });
  const got: Json[] = [];
  for (;;) {
    const m = await peer.next();
    if (m.type === 'error' && m.code === 'bad_message') return got;
    got.push(m);
  }
}

describe('reference collaborative document server', () => {
  it('answers a join with a sync of the document and everyone in it, and tells the others; no doc or doc= is main', async () => {
    const { sync: first } = await join('alice');
    expect(first).toMatchObject({ type: 'sync', doc: 'main', version: 0, text: '', users: [{ id: first.you, name: 'alice', cursor: null }] });
    const alice = peers[0];
    const { sync: second } = await join('bob', '');
    expect(second.doc).toBe('main');
    expect(second.users.map((u: Json) => u.name)).toEqual(['alice', 'bob']);
    expect(second.users[1].id).toBe(second.you);
    expect(await alice.next()).toEqual({ type: 'joined', user: { id: second.you, name: 'bob', cursor: null } });
  });

  it('applies an edit, acks its author and sends it to the others with the new version', async () => {
    const { peer: alice } = await join('alice');
    const { peer: bob, sync } = await join('bob');
    await alice.next('joined');
    bob.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'hello' } });
    expect(await bob.next()).toEqual({ type: 'ack', version: 1 });
    expect(await alice.next()).toEqual({ type: 'edit', version: 1, author: sync.you, op: { pos: 0, delete: 0, insert: 'hello' } });
    alice.send({ type: 'edit', baseVersion: 1, op: { pos: 1, delete: 3, insert: 'ipp' } });
    expect(await alice.next()).toEqual({ type: 'ack', version: 2 });
    expect((await bob.next()).version).toBe(2);
    expect(server.document()).toEqual({ text: 'hippo', version: 2 });
    expect(await before(bob)).toEqual([]); // no ack or edit twice
  });

  it('rejects a stale edit with the current version and tells nobody else', async () => {
    const { peer: alice } = await join('alice');
    const { peer: bob } = await join('bob');
    await alice.next('joined');
    alice.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'abc' } });
    await alice.next('ack');
    bob.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'X' } });
    expect((await bob.next()).type).toBe('edit'); // alice's edit reached bob before his stale one was answered
    expect(await bob.next()).toMatchObject({ type: 'error', code: 'stale', version: 1 });
    expect(await before(alice)).toEqual([]);
    bob.send({ type: 'edit', baseVersion: 1, op: { pos: 3, delete: 0, insert: 'X' } });
    expect(await bob.next()).toEqual({ type: 'ack', version: 2 });
    expect(server.document()?.text).toBe('abcX');
  });

  it('counts positions in code points: an emoji is one', async () => {
    const { peer } = await join('alice');
    peer.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'a🚀b' } });
    await peer.next('ack');
    peer.send({ type: 'edit', baseVersion: 1, op: { pos: 2, delete: 1, insert: '👍🏽' } });
    await peer.next('ack');
    expect(server.document()?.text).toBe('a🚀👍🏽');
    peer.send({ type: 'edit', baseVersion: 2, op: { pos: 1, delete: 3, insert: '' } }); // 🚀, 👍, 🏽
    await peer.next('ack');
    expect(server.document()?.text).toBe('a');
    peer.send({ type: 'edit', baseVersion: 3, op: { pos: 0, delete: 2, insert: '' } });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'out_of_range' });
  });

  it('answers every kind of bad message with its error code and keeps the connection', async () => {
    const peer = await Peer.open();
    const expectError = async (message: unknown, code: string) => {
      peer.send(message);
      expect(await peer.next(), JSON.stringify(message)).toMatchObject({ type: 'error', code });
    };
    await expectError('{not json', 'bad_json');
    await expectError('[1,2]', 'bad_message');
    await expectError({ type: 'dance' }, 'bad_message');
    await expectError({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'x' } }, 'not_joined');
    await expectError({ type: 'cursor', pos: 0 }, 'not_joined');
    await expectError({ type: 'edit', baseVersion: 'x', op: 'y' }, 'not_joined'); // before the fields
    await expectError({ type: 'cursor', pos: -1 }, 'not_joined');
    for (const name of ['', 'x'.repeat(21), '   ', '\u3000\u00a0', 'a\nb', '\ud83d', 42]) await expectError({ type: 'join', name }, 'bad_name');
    peer.send({ type: 'join', name: '🚀'.repeat(20) });
    expect((await peer.next()).type).toBe('sync');
    await expectError({ type: 'join', name: 'again' }, 'already_joined');
    await expectError({ type: 'join', name: '' }, 'already_joined'); // before the name
    peer.ws.send(Buffer.from('{"type":"cursor","pos":0}'));
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'bad_message' });
    for (const op of [{ pos: -1, delete: 0, insert: 'x' }, { pos: 0.5, delete: 0, insert: 'x' }, { pos: '0', delete: 0, insert: 'x' }, { pos: 0, delete: 0, insert: 7 }, { pos: 0, delete: 0, insert: '' }, { pos: 0, delete: 0, insert: '\udc00' }]) {
      await expectError({ type: 'edit', baseVersion: 0, op }, 'bad_message');
    }
    await expectError({ type: 'edit', baseVersion: 0 }, 'bad_message');
    await expectError({ type: 'edit', baseVersion: '0', op: { pos: 0, delete: 0, insert: 'x' } }, 'bad_message');
    await expectError({ type: 'cursor', pos: 2.5 }, 'bad_message');
    await expectError({ type: 'edit', baseVersion: 5, op: { pos: 0, delete: 0, insert: '' } }, 'bad_message'); // before stale
    await expectError({ type: 'edit', baseVersion: 5, op: { pos: 0, delete: 0, insert: 'x' } }, 'stale'); // a version ahead is stale too
    await expectError({ type: 'edit', baseVersion: 0, op: { pos: 1, delete: 0, insert: 'x' } }, 'out_of_range');
    await expectError({ type: 'edit', baseVersion: 0, op: { pos: 1, delete: 0, insert: 'é'.repeat(1001) } }, 'out_of_range'); // before too_large
    await expectError({ type: 'cursor', pos: 1 }, 'out_of_range');
    await expectError({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'é'.repeat(1001) } }, 'too_large');
    peer.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'é'.repeat(1000) } });
    expect(await peer.next()).toEqual({ type: 'ack', version: 1 });
    expect(server.seen.filter((e) => e.type === 'error').length).toBeGreaterThan(10);
  });

  it('reports what it saw in `seen`, unless told not to (the long-lived shared server)', async () => {
    const { peer, sync } = await join('alice');
    peer.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'hi' } });
    await peer.next('ack');
    peer.ws.close(4000, 'bye now');
    await expect.poll(() => server.seen.some((e) => e.type === 'close')).toBe(true);
    expect(server.seen.map((e) => e.type)).toEqual(['connect', 'message', 'joined', 'message', 'edit', 'left', 'close']);
    expect(server.seen).toContainEqual({ type: 'joined', connection: 1, doc: 'main', id: sync.you, name: 'alice' });
    expect(server.seen).toContainEqual({ type: 'edit', connection: 1, doc: 'main', version: 1, op: { pos: 0, delete: 0, insert: 'hi' } });
    expect(server.seen).toContainEqual({ type: 'close', connection: 1, code: 4000, reason: 'bye now' });

    const quiet = new CollabServer(undefined, {}, false);
    const quietPort = await quiet.listen(0, '127.0.0.1');
    const ws = new WebSocket(`ws://127.0.0.1:${quietPort}/`);
    await once(ws, 'open');
    ws.send(JSON.stringify({ type: 'join', name: 'bob' }));
    await once(ws, 'message');
    ws.terminate();
    await quiet.close();
    expect(quiet.seen).toEqual([]);
  });

  it('keeps a document within 10,000 code points', async () => {
    const { peer } = await join('alice');
    for (let v = 0; v < 10; v++) {
      peer.send({ type: 'edit', baseVersion: v, op: { pos: 0, delete: 0, insert: '🚀'.repeat(1000) } });
      expect(await peer.next()).toEqual({ type: 'ack', version: v + 1 });
    }
    peer.send({ type: 'edit', baseVersion: 10, op: { pos: 0, delete: 0, insert: 'x' } });
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'too_large' });
    peer.send({ type: 'edit', baseVersion: 10, op: { pos: 0, delete: 1, insert: 'x' } });
    expect(await peer.next()).toEqual({ type: 'ack', version: 11 });
  });

  it('closes a connection that sends more than 16 KiB in one message with 1009', async () => {
    const { peer } = await join('alice');
    peer.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'x'.repeat(16 * 1024) } });
    expect((await peer.closedWith()).code).toBe(1009);
  });

  it('tells the others "left" exactly once, however a joined user goes, and closes a leave with 1000', async () => {
    const { peer: watcher } = await join('watcher');
    for (const how of ['leave', 'close', 'terminate'] as const) {
      const { peer, sync } = await join(how);
      await watcher.next('joined');
      if (how === 'leave') peer.send({ type: 'leave' });
      else if (how === 'close') peer.ws.close(1000);
      else peer.ws.terminate();
      if (how === 'leave') expect(await peer.closedWith()).toEqual({ code: 1000, reason: 'bye' });
      expect(await watcher.next()).toEqual({ type: 'left', user: { id: sync.you, name: how } });
    }
    const leaver = await Peer.open();
    leaver.send({ type: 'leave' }); // not joined: closed all the same, and unannounced
    expect((await leaver.closedWith()).code).toBe(1000);
    const unjoined = await Peer.open();
    unjoined.ws.terminate();
    await expect.poll(() => server.connectionCount).toBe(1);
    expect(await before(watcher)).toEqual([]);
  });

  it('gives a late joiner the current text, everyone present and their cursors moved by later edits', async () => {
    const { peer: alice, sync: a } = await join('alice');
    const { peer: bob, sync: b } = await join('bob');
    await alice.next('joined');
    alice.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'hello world' } });
    await alice.next('ack');
    await bob.next('edit');
    bob.send({ type: 'cursor', pos: 11 });
    expect(await alice.next()).toEqual({ type: 'cursor', id: b.you, pos: 11 });
    alice.send({ type: 'cursor', pos: 7 });
    await bob.next('cursor');
    alice.send({ type: 'edit', baseVersion: 1, op: { pos: 0, delete: 5, insert: '¡hola' } }); // same length: cursors stay
    alice.send({ type: 'edit', baseVersion: 2, op: { pos: 0, delete: 0, insert: '>> ' } }); // both move by 3
    alice.send({ type: 'edit', baseVersion: 3, op: { pos: 6, delete: 5, insert: '' } }); // alice's (10) was inside: to 6; bob's 14 → 9
    await alice.next('ack');
    await alice.next('ack');
    await alice.next('ack');
    const { sync } = await join('carol');
    expect(sync).toMatchObject({ version: 4, text: '>> ¡horld', users: [{ id: a.you, cursor: 6 }, { id: b.you, cursor: 9 }, { name: 'carol', cursor: null }] });
    expect(sync.text).toBe(server.document()?.text);
  });

  it('keeps documents apart by their doc name, refuses bad names (1008) and too many documents (1013), and forgets empty ones', async () => {
    await start({ maxDocuments: 2 });
    const { peer: a } = await join('alice', 'one');
    const { sync } = await join('bob', 'two');
    expect(sync.users.map((u: Json) => u.name)).toEqual(['bob']);
    a.send({ type: 'edit', baseVersion: 0, op: { pos: 0, delete: 0, insert: 'in one' } });
    await a.next('ack');
    expect(server.document('one')?.text).toBe('in one');
    expect(server.document('two')?.text).toBe('');
    expect((await (await Peer.open('three')).closedWith()).code).toBe(1013);
    expect((await (await Peer.open('bad%20name')).closedWith()).code).toBe(1008);
    a.ws.close();
    await expect.poll(() => server.document('one')).toBeUndefined();
    const { sync: again } = await join('carol', 'three');
    expect(again).toMatchObject({ doc: 'three', version: 0 });
  });

  it('converges: four clients editing at once, rebasing rejected edits, end with the same text as a late joiner', { timeout: 20_000 }, async () => {
    const editors = await Promise.all(['a', 'b', 'c', 'd'].map((n) => join(n, 'race')));
    const results = await Promise.all(editors.map(({ peer, sync }, i) => edit(peer, sync, i)));
    const { sync } = await join('late', 'race');
    for (const r of results) await r.catchUp(sync.version);
    expect(new Set(results.map((r) => r.text()))).toEqual(new Set([sync.text]));
    expect(sync.version).toBe(4 * 12);
    expect(results.reduce((n, r) => n + r.rejected, 0)).toBeGreaterThan(0); // the race did happen
  });

  it('still serves a well-behaved client after a fuzz of random messages', { timeout: 20_000 }, async () => {
    const random = seeded(42);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const values = [0, 1, -1, 2.5, 1e300, '1', null, true, [], {}, 'x', '', '🚀', '\ud800', 'x'.repeat(3000)];
    const fuzzers = await Promise.all([1, 2, 3].map(() => Peer.open('fuzz')));
    for (let i = 0; i < 300; i++) {
      const peer = pick(fuzzers);
      const shape = pick(['join', 'edit', 'cursor', 'bytes', 'text', 'leave-ish']);
      if (shape === 'bytes') peer.ws.send(Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))));
      else if (shape === 'text') peer.send(pick(['{', '}', 'null', '"join"', '{"type":null}', '{"type":"join","name":{"x":1}}']));
      else if (shape === 'join') peer.send({ type: 'join', name: pick(values) });
      else if (shape === 'cursor') peer.send({ type: 'cursor', pos: pick(values) });
      else if (shape === 'edit') peer.send({ type: 'edit', baseVersion: pick([0, 1, 2, pick(values)]), op: pick([{ pos: pick(values), delete: pick(values), insert: pick(values) }, pick(values)]) });
      else peer.send({ type: pick(['LEAVE', 'sync', 'ack', 'edit ']) });
    }
    const { peer, sync } = await join('calm', 'fuzz');
    peer.send({ type: 'edit', baseVersion: sync.version, op: { pos: 0, delete: 0, insert: 'still here' } });
    expect(await peer.next('ack')).toEqual({ type: 'ack', version: sync.version + 1 });
    expect(server.document('fuzz')?.text.startsWith('still here')).toBe(true);
  });
});

/** Helpers the convergence test checks with: the protocol's functions themselves. */
describe('collab-document', () => {
  it('applies ops and moves cursors in code points', () => {
    expect(utf16Index('a🚀b', 2)).toBe(3);
    expect(codePointLength('a🚀b')).toBe(3);
    const op: EditOp = { pos: 1, delete: 1, insert: 'xy' };
    expect(applyOp('a🚀b', op)).toBe('axyb');
    expect([0, 1, 2, 3].map((c) => moveCursor(c, op))).toEqual([0, 1, 3, 4]);
    expect(moveCursor(2, { pos: 0, delete: 3, insert: '' })).toBe(0);
  });
});

/**
 * One editor of the convergence test: 12 edits, each sent as soon as the previous one was answered,
 * made against the text it knows; a rejected one is made again against the text it knows then
 * (which by then holds every edit up to the rejection's version).
 */
async function edit(peer: Peer, sync: Json, who: number) {
  let text: string = sync.text;
  let version: number = sync.version;
  let rejected = 0;
  const random = seeded(who + 1);
  const applyIncoming = (m: Json) => {
    expect(m.version).toBe(version + 1);
    text = applyOp(text, m.op);
    version = m.version;
  };
  for (let done = 0; done < 12; ) {
    const length = codePointLength(text);
    const op: EditOp =
      length > 8 && random() < 0.3
        ? { pos: Math.floor(random() * (length - 2)), delete: 2, insert: '' }
        : { pos: Math.floor(random() * (length + 1)), delete: 0, insert: `<${who}>🚀` };
    peer.send({ type: 'edit', baseVersion: version, op });
    for (;;) {
      const m = await peer.next();
      if (m.type === 'edit') applyIncoming(m);
      else if (m.type === 'ack') {
        expect(m.version).toBe(version + 1);
        text = applyOp(text, op);
        version = m.version;
        done++;
        break;
      } else if (m.type === 'error' && m.code === 'stale') {
        expect(m.version).toBe(version);
        rejected++;
        break;
      }
    }
  }
  return {
    rejected,
    text: () => text,
    async catchUp(to: number) {
      while (version < to) {
        const m = await peer.next();
        if (m.type === 'edit') applyIncoming(m);
      }
    },
  };
}

/** A small seeded generator, so a failing fuzz or race can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
