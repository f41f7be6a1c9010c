// A compact collaborative document server (the lesson's protocol, one document) and clients that
// edit it at the same moment. The server applies an edit only if it was made against the current
// version and rejects a stale one; its author rebases it over the edits it missed and sends it
// again. Positions count code points. Everyone converges; a late joiner gets the current text.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

interface Op {
  pos: number;
  delete: number;
  insert: string;
}

/** Applies an op, counting positions in code points ([...text]), so an emoji is one position. */
function applyOp(text: string, op: Op): string {
  const chars = [...text];
  chars.splice(op.pos, op.delete, ...op.insert);
  return chars.join('');
}

// --- the server ---------------------------------------------------------------------------------
const doc = { text: 'cat', version: 1 };
const users = new Map<WebSocket, { id: string; name: string }>();
const wss = new WebSocketServer({ host: process.env.HOST ?? '127.0.0.1', port: 0, maxPayload: 16 * 1024 });

function toOthers(from: WebSocket, message: object): void {
  for (const ws of users.keys()) if (ws !== from) ws.send(JSON.stringify(message));
}

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    let message;
    try {
      message = JSON.parse(isBinary ? '' : data.toString());
    } catch {
      return ws.send(JSON.stringify({ type: 'error', code: 'bad_json', message: 'not JSON' }));
    }
    if (message.type === 'join' && !users.has(ws)) {
      const user = { id: crypto.randomUUID(), name: [...String(message.name)].slice(0, 20).join('') }; // 20 code points
      users.set(ws, user);
      ws.send(JSON.stringify({ type: 'sync', you: user.id, ...doc, users: [...users.values()] }));
      toOthers(ws, { type: 'joined', user });
    } else if (message.type === 'edit' && users.has(ws)) {
      const { baseVersion, op } = message as { baseVersion: number; op: Op };
      if (baseVersion !== doc.version) {
        // Made against a text its author had not caught up with: not applied, the author rebases.
        return ws.send(JSON.stringify({ type: 'error', code: 'stale', message: 'rebase and resend', version: doc.version }));
      }
      const fits = Number.isInteger(op?.pos) && Number.isInteger(op.delete) && typeof op.insert === 'string';
      if (!(fits && op.pos >= 0 && op.delete >= 0 && op.pos + op.delete <= [...doc.text].length)) {
        return ws.send(JSON.stringify({ type: 'error', code: 'out_of_range', message: 'past the end' }));
      }
      doc.text = applyOp(doc.text, op);
      doc.version++;
      ws.send(JSON.stringify({ type: 'ack', version: doc.version }));
      toOthers(ws, { type: 'edit', version: doc.version, author: users.get(ws)!.id, op });
    }
  });
  // 'close' comes once, after an 'error' too: the one place a departure is announced.
  ws.on('close', () => {
    const user = users.get(ws);
    if (!user) return;
    users.delete(ws);
    toOthers(ws, { type: 'left', user });
  });
});
await once(wss, 'listening');
const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/?doc=main`;

// --- a client: applies edits in version order, rebases a rejected one -----------------------------

/** `op`, made before `applied` was, moved to where it belongs in the text after `applied`. */
function rebase(op: Op, applied: Op): Op {
  const inserted = [...applied.insert].length;
  const appliedEnd = applied.pos + applied.delete;
  const start = op.pos < applied.pos ? op.pos : op.pos >= appliedEnd ? op.pos - applied.delete + inserted : applied.pos + inserted;
  const end0 = op.pos + op.delete;
  const end = end0 <= applied.pos ? end0 : end0 >= appliedEnd ? end0 - applied.delete + inserted : applied.pos;
  // A range the applied edit already deleted is not deleted twice.
  return { pos: start, delete: Math.max(0, end - start), insert: op.insert };
}

class Editor {
  text = '';
  version = 0;
  /** Every applied op by the version it made: what a rejected op is rebased over. */
  private readonly history = new Map<number, Op>();
  private pending?: { op: Op; baseVersion: number; done: () => void };
  private readonly notices: string[] = [];
  private joined = false;
  private readonly ws: WebSocket;

  constructor(readonly name: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => this.receive(JSON.parse(data.toString())));
  }

  async join(): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING) await once(this.ws, 'open');
    this.ws.send(JSON.stringify({ type: 'join', name: this.name }));
    await this.until(() => this.joined);
  }

  /** Reads messages until `ready()`: no sleeping, no guessing how long. */
  async until(ready: () => boolean): Promise<void> {
    while (!ready()) await once(this.ws, 'message');
  }

  async saw(notice: string): Promise<void> {
    await this.until(() => this.notices.includes(notice));
  }

  /** Sends an edit made against the text this client holds now; resolves once it is applied. */
  edit(op: Op): Promise<void> {
    return new Promise((done) => {
      this.pending = { op, baseVersion: this.version, done };
      this.ws.send(JSON.stringify({ type: 'edit', baseVersion: this.version, op }));
    });
  }

  close(): void {
    this.ws.close(1000);
  }

  private apply(op: Op, version: number): void {
    this.text = applyOp(this.text, op);
    this.version = version;
    this.history.set(version, op);
  }

  private receive(message: any): void {
    if (message.type === 'sync') {
      this.text = message.text;
      this.version = message.version;
      this.joined = true;
      console.log(`${this.name}: joined at version ${message.version}: "${message.text}" with ${message.users.map((u: { name: string }) => u.name).join(', ')}`);
    } else if (message.type === 'edit') {
      this.apply(message.op, message.version);
    } else if (message.type === 'ack' && this.pending) {
      this.apply(this.pending.op, message.version);
      this.pending.done();
    } else if (message.type === 'error' && message.code === 'stale' && this.pending) {
      // Every edit up to message.version has arrived already (the server sends in order).
      let op = this.pending.op;
      for (let v = this.pending.baseVersion + 1; v <= message.version; v++) op = rebase(op, this.history.get(v)!);
      console.log(`${this.name}: my edit against version ${this.pending.baseVersion} was stale; rebased to ${JSON.stringify(op)}, sent again against ${message.version}`);
      this.pending.op = op;
      this.pending.baseVersion = message.version;
      this.ws.send(JSON.stringify({ type: 'edit', baseVersion: message.version, op }));
    } else if (message.type === 'joined' || message.type === 'left') {
      this.notices.push(`${message.user.name} ${message.type}`);
      console.log(`${this.name}: ${message.user.name} ${message.type}`);
    }
  }
}

const alice = new Editor('alice');
const bob = new Editor('bob');
await alice.join();
await bob.join();

// Both edit version 1 at the same moment; whichever arrives second is rejected and rebased.
await Promise.all([
  alice.edit({ pos: 0, delete: 0, insert: 'black ' }), // "black cat"
  bob.edit({ pos: 3, delete: 0, insert: 's 🐈' }), // "cats 🐈": 🐈 is one position
]);
await bob.edit({ pos: [...bob.text].length - 1, delete: 1, insert: '🐱' }); // replaces the last character
await alice.until(() => alice.version === bob.version);

console.log(`alice: version ${alice.version}: "${alice.text}"`);
console.log(`bob:   version ${bob.version}: "${bob.text}"`);
const carol = new Editor('carol');
await carol.join(); // a late joiner: the text as it is now
console.log(alice.text === bob.text && bob.text === carol.text ? 'all three hold the same text' : 'DIVERGED');
carol.close();
await alice.saw('carol left');
bob.close();
await alice.saw('bob left');
alice.close();
wss.close();
