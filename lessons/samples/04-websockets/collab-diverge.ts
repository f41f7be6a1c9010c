// The guide's scheme, reduced to its core: the server counts versions but applies every edit at the
// position it was made at, and each client shows its own edit at once. Two edits made against the
// same version at the same moment: the two screens end up with different texts. The program ends by itself.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';

interface Op {
  pos: number;
  insert: string;
}

const apply = (text: string, op: Op) => text.slice(0, op.pos) + op.insert + text.slice(op.pos);

// --- the server: a version counter, and no check against it ------------------------------------
let serverText = 'cat';
let version = 1;
const wss = new WebSocketServer({ host: process.env.HOST ?? '127.0.0.1', port: 0 });
wss.on('connection', (ws) => {
  ws.send(JSON.stringify({ type: 'sync', text: serverText, version }));
  ws.on('message', (data) => {
    const { op } = JSON.parse(data.toString()) as { op: Op };
    serverText = apply(serverText, op); // at the position the author saw, whatever happened since
    version++;
    for (const other of wss.clients) if (other !== ws) other.send(JSON.stringify({ type: 'edit', op, version }));
  });
});
await once(wss, 'listening');
const { port } = wss.address() as AddressInfo;

// --- two clients that show their own edit at once -----------------------------------------------
async function client(name: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const [sync] = await once(ws, 'message');
  let { text, version: known } = JSON.parse(sync.toString()) as { text: string; version: number };
  let edited!: () => void;
  const received = new Promise<void>((resolve) => (edited = resolve));
  ws.on('message', (data) => {
    const { op, version } = JSON.parse(data.toString()) as { op: Op; version: number };
    text = apply(text, op);
    known = version;
    edited();
  });
  return {
    edit(op: Op) {
      text = apply(text, op); // shown at once, as anyone typing expects
      ws.send(JSON.stringify({ type: 'edit', baseVersion: known, op }));
    },
    received,
    text: () => text,
    close: () => ws.close(),
    name,
  };
}

const alice = await client('alice');
const bob = await client('bob');
console.log('both start from "cat" (version 1)');
alice.edit({ pos: 0, insert: 'black ' }); // "black cat"
bob.edit({ pos: 3, insert: 's' }); // "cats": both edits are made against version 1
await Promise.all([alice.received, bob.received]); // each gets the other's edit

console.log(`alice sees "${alice.text()}"`);
console.log(`bob sees   "${bob.text()}"`);
console.log(alice.text() === bob.text() ? 'they agree' : 'they diverged: the same two edits, applied in different orders at their original positions');
alice.close();
bob.close();
wss.close();
