// The server side of a WebSocket's opening handshake, by hand over node:net (RFC 6455, section 4.2):
// read the HTTP request head up to its blank line, check it, answer 101 Switching Protocols with the
// accept key (or refuse with an HTTP error), then speak frames: a "welcome" text frame, and a close
// frame in answer to the client's.
import net from 'node:net';
import { createHash } from 'node:crypto';

/** Fixed by the RFC: every server appends it to the client's key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A request head longer than this is refused: a client that never sends the blank line must not fill our memory. */
const MAX_HEAD_BYTES = 8192;
/** 16 random bytes in base64: 22 characters and "==". */
const VALID_KEY = /^[A-Za-z0-9+/]{22}==$/;
const HEAD_END = '\r\n\r\n';
const OPCODE_CLOSE = 0x8;

interface Request {
  method: string;
  /** Header names in lower case (HTTP header names are case-insensitive), values trimmed. */
  headers: Map<string, string>;
}

function acceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

function parseHead(head: string): Request {
  const [requestLine, ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    // A header sent twice counts as one comma-separated list, as HTTP defines it.
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { method: requestLine.split(' ')[0], headers };
}

/** Connection is a comma-separated list of tokens: browsers send "keep-alive, Upgrade". */
function hasToken(value: string | undefined, token: string): boolean {
  return (value ?? '').split(',').some((t) => t.trim().toLowerCase() === token);
}

/** Sends an HTTP error and ends the connection. */
function refuse(socket: net.Socket, status: string, why: string, extraHeaders: string[] = []): void {
  const body = `${why}\n`;
  const head = [`HTTP/1.1 ${status}`, ...extraHeaders, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  socket.end(`${head.join('\r\n')}${HEAD_END}${body}`);
}

/** Answers the request: true if it upgraded the connection, false if it refused it. */
function handshake(socket: net.Socket, request: Request): boolean {
  const { method, headers } = request;
  if (method !== 'GET') {
    refuse(socket, '405 Method Not Allowed', 'A WebSocket handshake is a GET request.', ['Allow: GET']);
    return false;
  }
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket' || !hasToken(headers.get('connection'), 'upgrade')) {
    refuse(socket, '400 Bad Request', 'This server only speaks WebSocket: send Upgrade: websocket and Connection: Upgrade.');
    return false;
  }
  if (headers.get('sec-websocket-version') !== '13') {
    refuse(socket, '426 Upgrade Required', 'Only WebSocket version 13 is supported.', ['Sec-WebSocket-Version: 13']);
    return false;
  }
  const key = headers.get('sec-websocket-key');
  if (!key || !VALID_KEY.test(key)) {
    refuse(socket, '400 Bad Request', 'Sec-WebSocket-Key must be 16 bytes in base64.');
    return false;
  }
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`].join('\r\n') + HEAD_END);
  return true;
}

/** A server's frame: FIN set, never masked; payloads here are short (under 126 bytes). */
function frame(opcode: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

/** Reads the complete frames at the front of `bytes`: each one's opcode and unmasked payload, and what is left. */
function readFrames(bytes: Buffer): { frames: Array<{ opcode: number; payload: Buffer }>; rest: Buffer } {
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  let at = 0;
  for (;;) {
    if (bytes.length < at + 2) break;
    const opcode = bytes[at] & 0x0f;
    const masked = (bytes[at + 1] & 0x80) !== 0;
    let length = bytes[at + 1] & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (bytes.length < start + 2) break;
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (bytes.length < start + 8) break;
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    const keyAt = start;
    if (masked) start += 4;
    if (bytes.length < start + length) break;
    const payload = Buffer.from(bytes.subarray(start, start + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= bytes[keyAt + (i % 4)];
    frames.push({ opcode, payload });
    at = start + length;
  }
  return { frames, rest: bytes.subarray(at) };
}

const server = net.createServer((socket) => {
  // Per connection: the bytes not used yet, and whether the handshake is done.
  let buffered: Buffer = Buffer.alloc(0);
  let upgraded = false;
  socket.on('error', () => {}); // a client that resets: 'close' follows, nothing to clean up
  socket.on('data', (chunk: Buffer) => {
    if (!socket.writable) return; // refused or closed: whatever else comes is not read
    buffered = Buffer.concat([buffered, chunk]);
    if (!upgraded) {
      // The request may arrive in several chunks: wait for the blank line that ends its head.
      const end = buffered.indexOf(HEAD_END);
      if (end === -1) {
        if (buffered.length > MAX_HEAD_BYTES) refuse(socket, '431 Request Header Fields Too Large', 'The request head is too long.');
        return;
      }
      const request = parseHead(buffered.subarray(0, end).toString('latin1'));
      buffered = buffered.subarray(end + HEAD_END.length); // frames may follow the head at once
      if (!handshake(socket, request)) return;
      upgraded = true;
      socket.write(frame(0x1, Buffer.from('welcome')));
    }
    const { frames, rest } = readFrames(buffered);
    buffered = rest;
    for (const { opcode, payload } of frames) {
      if (opcode !== OPCODE_CLOSE) continue; // text, binary, ping, pong: not this exercise's business
      // Echo the client's status code (no body if it sent none), then end the TCP connection.
      socket.end(frame(OPCODE_CLOSE, payload.subarray(0, 2)));
      return;
    }
  });
});

server.listen(Number(process.env.PORT), () => console.log(`listening on port ${process.env.PORT}`));
