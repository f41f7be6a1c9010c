// A collaborative document server: the protocol is in the instructions above.
import { randomUUID } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';

interface User {
  id: string;
  name: string;
  cursor: number | null;
}

interface Doc {
  name: string;
  /** The text as an array of code points ([...text]), so positions count characters, not UTF-16 units. */
  chars: string[];
  version: number;
}

const docs = new Map<string, Doc>();

// TODO: close messages over 16 KiB with 1009 (the maxPayload option does it).
const wss = new WebSocketServer({ port: Number(process.env.PORT) });

wss.on('connection', (ws: WebSocket, req) => {
  // The document's name is the "doc" query parameter ("main" without one).
  const name = new URL(req.url ?? '/', 'http://localhost').searchParams.get('doc') || 'main';
  let doc = docs.get(name);
  if (!doc) {
    doc = { name, chars: [], version: 0 };
    docs.set(name, doc);
  }
  let user: User | null = null;

  ws.on('message', (data, isBinary) => {
    // TODO: binary → bad_message; not JSON → bad_json (never let JSON.parse throw out of here).
    const message = JSON.parse(data.toString());
    if (message.type === 'join') {
      // TODO: validate the name (bad_name), refuse a second join (already_joined),
      // tell the others "joined", and list everyone present in the sync.
      user = { id: randomUUID(), name: message.name, cursor: null };
      ws.send(JSON.stringify({ type: 'sync', you: user.id, doc: doc.name, version: doc.version, text: doc.chars.join(''), users: [user] }));
    }
    // TODO: edit (check the fields, reject stale edits, check the range and the caps, apply,
    // ack the author, send the edit to the others, move the cursors), cursor, leave, unknown types.
  });

  // TODO: when a joined user's connection closes (for any reason), tell the others "left", once.
  ws.on('error', (err) => console.error(`client error: ${err.message}`));
});
