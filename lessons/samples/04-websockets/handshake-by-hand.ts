// A WebSocket client without a WebSocket library: the opening handshake and a few frames written
// by hand over a plain TCP socket, against the course's WebSocket echo server.
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // fixed by RFC 6455
const acceptFor = (key: string) => createHash('sha1').update(key + GUID).digest('base64');

console.log(`RFC 6455's example: key dGhlIHNhbXBsZSBub25jZQ== -> accept ${acceptFor('dGhlIHNhbXBsZSBub25jZQ==')}`);

/** Reads a socket by byte count or up to a delimiter, however TCP cut the bytes. */
class ByteReader {
  private buffered = Buffer.alloc(0);
  private closed = false;
  private wake = () => {};

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  async upTo(delimiter: string): Promise<Buffer> {
    for (;;) {
      const at = this.buffered.indexOf(delimiter);
      if (at !== -1) return this.take(at + delimiter.length);
      await this.more();
    }
  }

  async bytes(n: number): Promise<Buffer> {
    while (this.buffered.length < n) await this.more();
    return this.take(n);
  }

  private take(n: number): Buffer {
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  private more(): Promise<void> {
    if (this.closed) throw new Error('the connection closed');
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/** A client's frame: FIN set, masked with a fresh random key (clients must mask), a short payload. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error('this sample only writes 7-bit lengths');
  const mask = randomBytes(4);
  const masked = payload.map((byte, i) => byte ^ mask[i % 4]);
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

/** Reads one short frame from the server (never masked). */
async function readServerFrame(reader: ByteReader): Promise<{ opcode: number; payload: Buffer; bytes: Buffer }> {
  const header = await reader.bytes(2);
  if (header[1] & 0x80) throw new Error('a server must not mask its frames');
  const length = header[1] & 0x7f;
  if (length > 125) throw new Error('this sample only reads 7-bit lengths');
  const payload = await reader.bytes(length);
  return { opcode: header[0] & 0x0f, payload, bytes: Buffer.concat([header, payload]) };
}

const hex = (bytes: Buffer) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.WS_ECHO_PORT);
const socket = net.connect(port, host);
socket.on('error', (err) => console.log(`socket error: ${err.message}`));
const reader = new ByteReader(socket);

// 1. The request: an ordinary HTTP GET that asks to switch protocols.
const key = randomBytes(16).toString('base64'); // 16 random bytes: a new key for every connection
const request = [
  'GET / HTTP/1.1',
  `Host: ${host}:${port}`,
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Key: ${key}`,
  'Sec-WebSocket-Version: 13',
];
socket.write(request.join('\r\n') + '\r\n\r\n');
for (const line of request) console.log(`> ${line}`);

// 2. The response head ends with an empty line; frames may follow it in the same chunk.
const head = (await reader.upTo('\r\n\r\n')).toString('latin1').trimEnd().split('\r\n');
for (const line of head) console.log(`< ${line}`);
if (!head[0].startsWith('HTTP/1.1 101 ')) throw new Error(`no upgrade: ${head[0]}`);
const accept = head.find((line) => /^sec-websocket-accept:/i.test(line))?.split(':')[1].trim();
const expected = acceptFor(key);
console.log(accept === expected ? `accept key checks out: base64(SHA-1(key + GUID)) = ${expected}` : `WRONG accept key: expected ${expected}, got ${accept}`);

// 3. From here on the same TCP connection carries WebSocket frames.
const hello = clientFrame(0x1, Buffer.from('Hello, frames!'));
console.log(`> text frame, masked: ${hex(hello)}`);
socket.write(hello);
const echo = await readServerFrame(reader);
console.log(`< echo frame: ${hex(echo.bytes)}`);
console.log(`< FIN ${echo.bytes[0] >> 7}, opcode ${echo.opcode} (text), MASK 0, length ${echo.payload.length}: ${JSON.stringify(echo.payload.toString('utf8'))}`);

// 4. The closing handshake: our close frame (code 1000 + a reason), the server's answer, then the server ends TCP.
const closeBody = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('done')]); // 1000 = 0x03e8
socket.write(clientFrame(0x8, closeBody));
const close = await readServerFrame(reader);
console.log(`< close frame: ${hex(close.bytes)} = code ${close.payload.readUInt16BE(0)}, reason ${JSON.stringify(close.payload.subarray(2).toString('utf8'))}`);
socket.end();
await new Promise((resolve) => socket.once('close', resolve));
console.log('connection closed');
