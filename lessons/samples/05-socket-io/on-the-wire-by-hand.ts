// Socket.IO by hand: a plain WebSocket (ws, no socket.io-client) to the course's Socket.IO server,
// writing and reading the packets as text. Each WebSocket message is one Engine.IO packet: its
// first character is the Engine.IO type (4 = message), and a message carries one Socket.IO packet,
// whose first character is the Socket.IO type (0 CONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5/6 binary).
import { WebSocket } from 'ws';

const url = `ws://${process.env.HOST ?? '127.0.0.1'}:${process.env.SOCKET_IO_PORT}/socket.io/?EIO=4&transport=websocket`;
const ws = new WebSocket(url);
ws.on('error', (err) => console.log(`error: ${err.message}`));

// Incoming WebSocket messages, queued until the program asks for the next one.
const inbox: Array<{ data: Buffer; isBinary: boolean }> = [];
let wake: (() => void) | undefined;
ws.on('message', (data: Buffer, isBinary) => {
  inbox.push({ data, isBinary });
  wake?.();
});

/** The next WebSocket message, printed: text as it is, binary as hex. */
async function receive(): Promise<string> {
  while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  const { data, isBinary } = inbox.shift()!;
  console.log(isBinary ? `← (binary) ${data.toString('hex')}` : `← ${data.toString()}`);
  return data.toString();
}
function send(packet: string | Buffer): void {
  console.log(typeof packet === 'string' ? `→ ${packet}` : `→ (binary) ${packet.toString('hex')}`);
  ws.send(packet);
}

// Engine.IO "open" (0): the session id and the heartbeat settings, sent by the server first.
const open = JSON.parse((await receive()).slice(1)) as { pingInterval: number; pingTimeout: number };
console.log(`   the server will ping every ${open.pingInterval} ms and wait ${open.pingTimeout} ms for the pong`);

// CONNECT (40) to a namespace this server does not have: the namespace comes first, then a comma.
send('40/admin,{"name":"Ada"}');
await receive();
// CONNECT to the main namespace without the auth this server requires: CONNECT_ERROR (44).
send('40{}');
await receive();
// CONNECT with the auth payload: the server answers with the socket's id, then its welcome event.
send('40{"name":"Ada"}');
await receive();
await receive();

// EVENT (42) with an ack id (1): the server answers ACK (43) with the same id and its arguments.
send('421["echo","hi",{"n":1}]');
await receive();
// The server's broadcast is an EVENT without an ack id; it comes before the ack of our request (2).
send('422["say",{"text":"hello, wire"}]');
await receive();
await receive();

// BINARY_EVENT (45): "1-" says one attachment follows as its own binary message, 3 is the ack id,
// and a placeholder marks where the bytes go in the arguments. The ack is BINARY_ACK (46) + bytes.
send('451-3["echo",{"_placeholder":true,"num":0}]');
send(Buffer.from([0xca, 0xfe]));
await receive();
await receive();

// DISCONNECT (41) from the namespace, then close the WebSocket.
send('41');
ws.close();
await new Promise((resolve) => ws.once('close', resolve));
console.log('closed');
