// A collaborative document server: one plain-text document per `doc` name, edits put in one order
// and numbered by the server, stale edits rejected, presence and cursors shared.
import { randomUUID } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';

interface Op {
  pos: number;
  delete: number;
  insert: string;
}

interface User {
  id: string;
  name: string;
  cursor: number | null;
}

interface Client {
  ws: WebSocket;
  doc: Doc;
  user: User | null; // null until the client has joined
}

interface Doc {
  name: string;
  /** The text as an array of code points, so positions count characters, not UTF-16 units. */
  chars: string[];
  version: number;
  /** Joined clients, in the order they joined. */
  members: Set<Client>;
}

const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_INSERT = 1000;
const MAX_LENGTH = 10_000;

const docs = new Map<string, Doc>();

/** maxPayload: ws closes the connection with 1009 when a message is larger. */
const wss = new WebSocketServer({ port: Number(process.env.PORT), maxPayload: MAX_MESSAGE_BYTES });

wss.on('connection', (ws, req) => {
  const name = new URL(req.url ?? '/', 'http://localhost').searchParams.get('doc') || 'main';
  let doc = docs.get(name);
  if (!doc) {
    doc = { name, chars: [], version: 0, members: new Set() };
    docs.set(name, doc);
  }
  const client: Client = { ws, doc, user: null };

  ws.on('message', (data, isBinary) => {
    if (isBinary) return sendError(client, 'bad_message', 'send text messages of JSON, not binary ones');
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return sendError(client, 'bad_json', 'that message is not valid JSON');
    }
    handle(client, message);
  });

  // 'close' comes once per connection, also after an 'error' or an abrupt disconnect: the one
  // place a departure is announced, so the others hear of it exactly once.
  ws.on('close', () => {
    if (!client.user) return;
    client.doc.members.delete(client);
    broadcast(client, { type: 'left', user: { id: client.user.id, name: client.user.name } });
  });
  ws.on('error', (err) => console.error(`client error: ${err.message}`));
});

function handle(client: Client, message: unknown): void {
  if (!isObject(message)) return sendError(client, 'bad_message', 'a message is a JSON object with a "type"');
  switch (message.type) {
    case 'join':
      return join(client, message.name);
    case 'edit':
      return edit(client, message);
    case 'cursor':
      return cursor(client, message.pos);
    case 'leave':
      return client.ws.close(1000, 'bye');
    default:
      return sendError(client, 'bad_message', 'type must be join, edit, cursor or leave');
  }
}

function join(client: Client, name: unknown): void {
  if (client.user) return sendError(client, 'already_joined', 'you have joined already');
  if (typeof name !== 'string' || !validName(name)) {
    return sendError(client, 'bad_name', 'a name is 1 to 20 characters, not only spaces, without control characters');
  }
  client.user = { id: randomUUID(), name, cursor: null };
  client.doc.members.add(client);
  const { doc } = client;
  send(client, {
    type: 'sync',
    you: client.user.id,
    doc: doc.name,
    version: doc.version,
    text: doc.chars.join(''),
    users: [...doc.members].map((m) => m.user),
  });
  broadcast(client, { type: 'joined', user: client.user });
}

function edit(client: Client, message: Record<string, unknown>): void {
  if (!client.user) return sendError(client, 'not_joined', 'join first');
  const { baseVersion, op } = message;
  if (!isCount(baseVersion) || !isOp(op)) {
    return sendError(client, 'bad_message', 'an edit is {"type":"edit","baseVersion":n,"op":{"pos":n,"delete":n,"insert":"…"}}');
  }
  const { doc } = client;
  // Only an edit made against the current text is applied: applying an older one at its original
  // position would put it in the wrong place in a text its author never saw.
  if (baseVersion !== doc.version) {
    return sendError(client, 'stale', `the document is at version ${doc.version}: rebase your edit`, { version: doc.version });
  }
  if (op.pos + op.delete > doc.chars.length) return sendError(client, 'out_of_range', 'the edit reaches past the end of the document');
  const inserted = [...op.insert];
  if (inserted.length > MAX_INSERT || doc.chars.length - op.delete + inserted.length > MAX_LENGTH) {
    return sendError(client, 'too_large', `insert at most ${MAX_INSERT} characters; a document holds at most ${MAX_LENGTH}`);
  }

  doc.chars.splice(op.pos, op.delete, ...inserted);
  doc.version += 1;
  for (const member of doc.members) {
    const user = member.user!;
    if (user.cursor !== null) user.cursor = moveCursor(user.cursor, op, inserted.length);
  }
  send(client, { type: 'ack', version: doc.version });
  broadcast(client, { type: 'edit', version: doc.version, author: client.user.id, op });
}

function cursor(client: Client, pos: unknown): void {
  if (!client.user) return sendError(client, 'not_joined', 'join first');
  if (!isCount(pos)) return sendError(client, 'bad_message', 'a cursor is {"type":"cursor","pos":n}');
  if (pos > client.doc.chars.length) return sendError(client, 'out_of_range', 'the cursor is past the end of the document');
  client.user.cursor = pos;
  broadcast(client, { type: 'cursor', id: client.user.id, pos });
}

/** Where a cursor is after an edit: unmoved before it, shifted after it, at `pos` if its text was deleted. */
function moveCursor(cursor: number, op: Op, insertedLength: number): number {
  if (cursor <= op.pos) return cursor;
  if (cursor >= op.pos + op.delete) return cursor - op.delete + insertedLength;
  return op.pos;
}

function validName(name: string): boolean {
  const length = [...name].length; // code points: an emoji is one character
  return length >= 1 && length <= 20 && name.trim() !== '' && !/\p{Cc}|\p{Cs}/u.test(name);
}

function isOp(op: unknown): op is Op {
  if (!isObject(op) || !isCount(op.pos) || !isCount(op.delete) || typeof op.insert !== 'string') return false;
  // An edit must change something, and "\ud83d" from a JSON escape is half a character, not text.
  return (op.delete > 0 || op.insert !== '') && !/\p{Cs}/u.test(op.insert);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A whole number ≥ 0: not -1, 2.5, "3" or 1e300. */
function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function send(client: Client, message: object): void {
  if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify(message));
}

/** To every other joined client of the same document. */
function broadcast(from: Client, message: object): void {
  const text = JSON.stringify(message);
  for (const member of from.doc.members) {
    if (member !== from && member.ws.readyState === WebSocket.OPEN) member.ws.send(text);
  }
}

function sendError(client: Client, code: string, message: string, extra: object = {}): void {
  send(client, { type: 'error', code, message, ...extra });
}

wss.on('listening', () => console.log(`collaborative documents on port ${process.env.PORT}`));
