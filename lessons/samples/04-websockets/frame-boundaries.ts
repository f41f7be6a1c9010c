// What a WebSocket frame looks like on the wire, and what that buys: messages keep their
// boundaries. Part 1 writes frames by hand and prints their bytes; part 2 talks to the course's
// echo server with ws: separate sends stay separate, and a message sent in fragments (with a ping
// between them) arrives as one message.
import { WebSocket } from 'ws';

interface FrameSpec {
  fin?: boolean;
  opcode: number;
  payload: Buffer;
}

/** An unmasked frame, as a server writes it: the header with the shortest length form, then the payload. */
function encodeFrame({ fin = true, opcode, payload }: FrameSpec): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (payload.length <= 125) {
    header = Buffer.from([first, payload.length]); // 7-bit length
  } else if (payload.length <= 0xffff) {
    header = Buffer.from([first, 126, 0, 0]); // 126: a 16-bit length follows
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10); // 127: a 64-bit length follows
    header[0] = first;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, payload]);
}

const hex = (bytes: Buffer) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** Prints a frame's header bytes and the start of its payload. */
function show(label: string, spec: FrameSpec): void {
  const frame = encodeFrame(spec);
  const headerLength = frame.length - spec.payload.length;
  const payload = spec.payload.length > 8 ? `${hex(spec.payload.subarray(0, 4))} … (${spec.payload.length} bytes)` : hex(spec.payload);
  console.log(`${label.padEnd(30)} ${hex(frame.subarray(0, headerLength)).padEnd(29)} | ${payload}`);
}

const closeBody = (code: number, reason: string) => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

console.log(`${'frame'.padEnd(30)} ${'header'.padEnd(29)} | payload`);
show('text "Hi"', { opcode: 0x1, payload: Buffer.from('Hi') });
show('binary, 300 bytes', { opcode: 0x2, payload: Buffer.alloc(300, 0xab) });
show('binary, 70000 bytes', { opcode: 0x2, payload: Buffer.alloc(70_000, 0xcd) });
show('ping "?"', { opcode: 0x9, payload: Buffer.from('?') });
show('close 1000 "bye"', { opcode: 0x8, payload: closeBody(1000, 'bye') });
show('text "Hel", FIN 0', { fin: false, opcode: 0x1, payload: Buffer.from('Hel') });
show('continuation "lo", FIN 1', { opcode: 0x0, payload: Buffer.from('lo') });

// --- Part 2: the same frames, written by ws, through a real server ---
const ws = new WebSocket(`ws://${process.env.HOST ?? '127.0.0.1'}:${process.env.WS_ECHO_PORT}`);
const received: string[] = [];
let expecting = 0;
let allArrived = () => {};
ws.on('message', (data: Buffer, isBinary: boolean) => {
  received.push(isBinary ? `binary ${hex(data)}` : `text ${JSON.stringify(data.toString('utf8'))}`);
  if (received.length === expecting) allArrived();
});
ws.on('pong', (data: Buffer) => console.log(`pong ${JSON.stringify(data.toString())} (answered between the fragments)`));
ws.on('error', (err) => console.log(`error: ${err.message}`));
await new Promise((resolve) => ws.once('open', resolve));

/** Waits until `count` messages in all have come back. */
const untilReceived = (count: number) =>
  new Promise<void>((resolve) => {
    expecting = count;
    allArrived = resolve;
    if (received.length >= count) resolve();
  });

// Three sends, straight after each other: over TCP they could merge into one chunk;
// as WebSocket messages they arrive as three.
ws.send('one');
ws.send('two');
ws.send('three');
await untilReceived(3);
console.log(`3 sends -> ${received.length} messages: ${received.join(', ')}`);

// One message in three fragments, with a ping between them: the server still sees one message.
ws.send('Hello, ', { fin: false });
ws.ping('beat');
ws.send('fragmented ', { fin: false });
ws.send('world', { fin: true });
await untilReceived(4);
console.log(`3 fragments -> 1 message: ${received[3]}`);

// Binary stays binary: the opcode says which kind of message it is.
ws.send(Buffer.from([0x00, 0x01, 0xfe, 0xff]));
await untilReceived(5);
console.log(`a Buffer -> ${received[4]}`);

ws.close(1000, 'done');
const [code, reason] = (await new Promise((resolve) => ws.once('close', (...args) => resolve(args)))) as [number, Buffer];
console.log(`closed: code ${code}, reason ${JSON.stringify(reason.toString('utf8'))}`);
