import { WebSocketServer, WebSocket } from 'ws';

const port = Number(process.env.PORT);
/** The largest message a client may send, in bytes (fragments count together). */
const MAX_MESSAGE_BYTES = 4096;
const MAX_NAME_CHARS = 20;
const MAX_ROOM_CHARS = 32;

/** Room name → its members (connection → name), in the order they joined. */
const rooms = new Map<string, Map<WebSocket, string>>();

// maxPayload: ws itself closes a connection whose message is larger, with 1009 (message too big),
// before the message is buffered whole: a client cannot make the server hold more than 4 KiB.
const wss = new WebSocketServer({ port, maxPayload: MAX_MESSAGE_BYTES });

function send(ws: WebSocket, message: object): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

/** Sends `message` to every member of `room` except `sender`. */
function broadcast(room: string, sender: WebSocket, message: object): void {
  for (const member of rooms.get(room)?.keys() ?? []) {
    if (member !== sender) send(member, message);
  }
}

/** A name or room: a string of 1 to `max` characters (code points), not only whitespace. */
function isValidLabel(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.trim() !== '' && [...value].length <= max;
}

/** The message as a JSON object, or undefined when it is not JSON or not an object. */
function parseObject(data: Buffer, isBinary: boolean): Record<string, unknown> | undefined {
  if (isBinary) return undefined; // the protocol is JSON text
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  // null, numbers, strings and arrays are valid JSON too, but not messages.
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

wss.on('connection', (ws: WebSocket) => {
  /** Where this connection is, once it has joined a room. */
  let here: { room: string; name: string } | undefined;

  const fail = (error: string, message: string) => send(ws, { type: 'error', error, message });

  /** Leaves the current room, telling the others; does nothing the second time. */
  const leave = () => {
    if (!here) return;
    const { room, name } = here;
    here = undefined;
    const members = rooms.get(room);
    members?.delete(ws);
    if (members?.size === 0) rooms.delete(room);
    broadcast(room, ws, { type: 'left', room, name });
  };

  const join = (room: unknown, name: unknown) => {
    if (!isValidLabel(name, MAX_NAME_CHARS)) return fail('invalid-name', `a name is 1 to ${MAX_NAME_CHARS} characters, not only spaces`);
    if (!isValidLabel(room, MAX_ROOM_CHARS)) return fail('invalid-room', `a room is 1 to ${MAX_ROOM_CHARS} characters, not only spaces`);
    const members = rooms.get(room) ?? new Map<WebSocket, string>();
    for (const [member, taken] of members) {
      if (member !== ws && taken === name) return fail('name-taken', `${name} is already in ${room}`);
    }
    leave(); // a join while in a room moves the member
    send(ws, { type: 'welcome', room, name, members: [...members.values()] });
    broadcast(room, ws, { type: 'joined', room, name });
    members.set(ws, name);
    rooms.set(room, members);
    here = { room, name };
  };

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const message = parseObject(data, isBinary);
    if (!message) return fail('invalid-json', 'each message must be a JSON object');
    switch (message.type) {
      case 'join':
        return join(message.room, message.name);
      case 'message':
        if (!here) return fail('not-joined', 'join a room first');
        if (typeof message.text !== 'string' || message.text === '') return fail('invalid-text', 'text must be a non-empty string');
        return broadcast(here.room, ws, { type: 'message', room: here.room, name: here.name, text: message.text });
      case 'leave':
        if (!here) return fail('not-joined', 'you are not in a room');
        return leave();
      default:
        return fail('unknown-type', 'type must be "join", "message" or "leave"');
    }
  });

  // ws emits 'error' when a client breaks the protocol (a message over maxPayload, invalid UTF-8),
  // and closes the connection; without a listener the error would crash the server.
  ws.on('error', (err) => console.error(`client error: ${err.message}`));
  // 'close' comes exactly once per connection, after any 'error': the one place to announce a departure.
  ws.on('close', leave);
});

wss.on('listening', () => console.log(`chat rooms listening on port ${port}`));
wss.on('error', (err) => {
  console.error(`server error: ${err.message}`);
  process.exitCode = 1;
});
