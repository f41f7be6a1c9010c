import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { closePayload, describeBytes, describeExit, GradingFailure, learnerServer, WS_OPCODES, wsFrame, type CloseInfo, type TestClient, type TestWebSocket, waitUntil } from '../../sandbox-server/src/grading-kit/index.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The RFC's own example (section 1.3): this key must be answered with this accept value. */
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
/** The frame the server must send after its 101: FIN + text, unmasked, 7 bytes, "welcome". */
const WELCOME_FRAME = Buffer.concat([Buffer.from([0x81, 0x07]), Buffer.from('welcome')]);

/** How long a piece of a request is left alone for a server that answers too early to show it. */
const EARLY_ANSWER_MS = 300;

const expectedAccept = (key: string) => createHash('sha1').update(key + GUID).digest('base64');
const newKey = () => randomBytes(16).toString('base64');

/**
 * An upgrade request's head as a browser would send it; `headers` replace or remove (undefined) the
 * usual ones, and `headerLine` writes each header (browsers put one space after the colon).
 */
function upgradeRequest(
  headers: Record<string, string | undefined> = {},
  requestLine = 'GET /chat HTTP/1.1',
  headerLine = (name: string, value: string) => `${name}: ${value}`,
): string {
  const all: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': newKey(),
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined).map(([name, value]) => headerLine(name, value));
  return `${requestLine}\r\n${lines.join('\r\n')}\r\n\r\n`;
}

function keyOf(request: string): string {
  const match = /^sec-websocket-key: *(.*)$/im.exec(request);
  if (!match) throw new Error('the request has no key');
  return match[1].trim();
}

interface ResponseHead {
  statusLine: string;
  /** The head's lines as sent, for messages. */
  lines: string[];
  status: number;
  /** Lower-case names. */
  headers: Map<string, string>;
}

/** Reads the response head, line by line up to the blank line, failing with what did come. */
async function readResponseHead(client: TestClient, sent: string, expectedStatus = 'HTTP/1.1 101 Switching Protocols'): Promise<ResponseHead> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.readLine(2000);
    if (line === undefined) {
      const got = lines.length ? `only the lines ${JSON.stringify(lines)}` : `no complete line${client.received.length ? ` (it sent ${describeBytes(client.received, 80)})` : ''}`;
      const why = client.isClosed ? 'before the connection closed' : 'within 2 s';
      throw new GradingFailure(
        `sent the request ${showRequest(sent)}, and expected a response head ending with an empty line ("\\r\\n\\r\\n"), but got ${got} ${why}. ` +
          'Each header line ends with "\\r\\n", and one more "\\r\\n" ends the head. Does your server wait for the whole request (up to its blank line) before it answers?',
      );
    }
    if (line === '') break;
    lines.push(line);
  }
  const [statusLine, ...headerLines] = lines;
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const status = /^HTTP\/1\.1 (\d{3})( |$)/.exec(statusLine)?.[1];
  if (!status) {
    throw new GradingFailure(`sent the request ${showRequest(sent)}, and expected a status line like "${expectedStatus}", but the response began with ${JSON.stringify(statusLine)}.${whyNoStatusLine(client.received)}`);
  }
  return { statusLine, lines, status: Number(status), headers };
}

/** FIN and no RSV bits: the first byte of a frame, never of "HTTP/1.1". */
const startsWithFrame = (bytes: Buffer) => bytes.length > 0 && (bytes[0] & 0xf0) === 0x80;

/** Why a response does not begin with "HTTP/1.1 <code>", when the bytes tell (empty when they do not). */
function whyNoStatusLine(response: Buffer): string {
  if (startsWithFrame(response)) {
    return ` It began with the bytes ${describeBytes(response, 16)}: a WebSocket frame came before the status line. Send the 101 response first, and the "welcome" frame after it.`;
  }
  if (/^HTTP\/1\.0 /.test(response.toString('latin1'))) return ' A WebSocket handshake is HTTP/1.1: every response, refusals included, begins with "HTTP/1.1 ".';
  return '';
}

function showRequest(request: string): string {
  return JSON.stringify(request.length > 300 ? `${request.slice(0, 300)}…` : request);
}

function describeHead(head: ResponseHead): string {
  return JSON.stringify(head.lines.join('\r\n'));
}

/** Checks a 101 answer to `request`: status, Upgrade, Connection, the accept key; then the welcome frame. */
async function expectUpgrade(client: TestClient, request: string, why: string): Promise<void> {
  const head = await readResponseHead(client, request);
  const key = keyOf(request);
  const accept = expectedAccept(key);
  if (head.status !== 101) {
    throw new GradingFailure(`sent a valid upgrade request (${why}): ${showRequest(request)}, expected "HTTP/1.1 101 Switching Protocols", but your server answered ${describeHead(head)}`);
  }
  if (head.headers.get('upgrade')?.toLowerCase() !== 'websocket') throw new GradingFailure(`the 101 response must have "Upgrade: websocket"; your server's was ${describeHead(head)}`);
  if (!(head.headers.get('connection') ?? '').toLowerCase().split(',').some((t) => t.trim() === 'upgrade')) {
    throw new GradingFailure(`the 101 response must have "Connection: Upgrade"; your server's was ${describeHead(head)}`);
  }
  const got = head.headers.get('sec-websocket-accept');
  if (got !== accept) {
    const hex = createHash('sha1').update(key + GUID).digest('hex');
    const likely =
      got === undefined ? 'There is no Sec-WebSocket-Accept header.'
      : got === hex ? 'That is the SHA-1 in hex: it must be in base64 (digest(\'base64\')).'
      : got === createHash('sha1').update(key).digest('base64') ? 'That is the SHA-1 of the key alone: append the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11 first.'
      : 'It is base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), with the key exactly as sent (trimmed of spaces) and the GUID exactly as written.';
    throw new GradingFailure(`for Sec-WebSocket-Key ${JSON.stringify(key)} (${why}), Sec-WebSocket-Accept must be ${JSON.stringify(accept)}, but your server sent ${got === undefined ? 'none' : JSON.stringify(got)}. ${likely}`);
  }
  const others = head.lines.slice(1).filter((line) => /^sec-websocket-/i.test(line) && !/^sec-websocket-accept\s*:/i.test(line));
  if (others.length) {
    throw new GradingFailure(
      `the 101 response (${why}) must have no Sec-WebSocket-* header but Sec-WebSocket-Accept: the client asked for no subprotocol or extension, and the version is the one it sent. Your server also sent ${others.map((line) => JSON.stringify(line)).join(', ')}.`,
    );
  }
  const frame = await client.readBytes(WELCOME_FRAME.length).catch((err: Error) => {
    throw new GradingFailure(`after the 101, your server must send the text frame "welcome" (${describeBytes(WELCOME_FRAME)}), but ${err.message}`);
  });
  if (!frame.equals(WELCOME_FRAME)) {
    const masked = (frame[1] & 0x80) !== 0 ? ' Its MASK bit is set: a server never masks its frames (only clients do).' : '';
    throw new GradingFailure(`after the 101, your server must send the text frame "welcome" as ${describeBytes(WELCOME_FRAME)} (FIN + text, unmasked, length 7), but it sent ${describeBytes(frame)}.${masked}`);
  }
}

/** What ws's refusal of a handshake means, in the learner's terms. */
const WS_ERRORS: Array<[RegExp, string]> = [
  [/Invalid Sec-WebSocket-Accept/, 'ws computed base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) and your answer differs (or has no Sec-WebSocket-Accept).'],
  [/Invalid Upgrade header/, 'the 101 response must have the header "Upgrade: websocket".'],
  [/MASK must be clear/, 'your server masked a frame; a server never masks its frames (only clients do).'],
  [/invalid status code/, 'a close frame may carry only 1000-1003, 1007-1014 or 3000-4999 (1005 is what a client reports for a close frame with no body; it never travels in one). Send back the 2 bytes the client sent, unmasked, or no body if it sent none.'],
];

/** ws's error message, with what it means for the learner's server when we know. */
function explainWsError(message: string): string {
  const why = WS_ERRORS.find(([pattern]) => pattern.test(message))?.[1];
  return why ? `${message}: ${why}` : message;
}

/** A ws client connected to the learner's server, with ws's terse refusals explained. */
async function openWebSocket(label: string, path = '/'): Promise<TestWebSocket> {
  const server = await learnerServer();
  try {
    return await server.connectWebSocket({ label, path });
  } catch (err) {
    const message = (err as Error).message;
    if (/ECONNREFUSED/.test(message)) return explainRefused(err);
    if (/Parse Error|Invalid header/.test(message)) throw new GradingFailure(`${message}: ws could not read your response as HTTP. ${await lookAtResponse()}`);
    const explained = explainWsError(message);
    throw explained !== message ? new GradingFailure(explained) : err;
  }
}

/**
 * Why ws could not parse the response: a raw client sends a valid request and looks at the bytes,
 * since ws's parser says only where it stopped.
 */
async function lookAtResponse(): Promise<string> {
  const client = await rawClient('a raw client looking at your response');
  await client.write(upgradeRequest());
  await waitUntil(() => client.received.includes('welcome') || client.isClosed, 1000);
  const bytes = client.received;
  const frameAt = bytes.indexOf(WELCOME_FRAME);
  const head = bytes.subarray(0, frameAt === -1 ? bytes.length : frameAt).toString('latin1');
  if (startsWithFrame(bytes)) return `A raw client sent a valid request, and your server's answer began with the bytes ${describeBytes(bytes, 16)}: a WebSocket frame came before the status line. Send the 101 response first, and the "welcome" frame after it.`;
  if (/(^|[^\r])\n/.test(head)) return `A raw client sent a valid request, and the lines of your server's answer end with "\\n" alone (${JSON.stringify(head.slice(0, 120))}): every line of an HTTP head ends with "\\r\\n", and the head with one more "\\r\\n".`;
  if (frameAt !== -1 && !head.endsWith('\r\n\r\n')) return `A raw client sent a valid request, and the "welcome" frame came where a header line or the empty line that ends the head was expected (the head was ${JSON.stringify(head)}). Does the head end with "\\r\\n\\r\\n"?`;
  return `A raw client sent a valid request and got ${describeBytes(bytes, 120) || 'nothing'}.`;
}

/** A raw TCP client to the learner's server, a refused connection explained. */
async function rawClient(label?: string): Promise<TestClient> {
  return (await learnerServer()).connect(label).catch(explainRefused);
}

/** Turns "could not connect … ECONNREFUSED" into what happened to the server: it stopped (how, its output) or stopped listening. */
async function explainRefused(err: unknown): Promise<never> {
  if (!(err instanceof Error) || !/ECONNREFUSED/.test(err.message)) throw err;
  const server = await learnerServer();
  // A crash shows first as a refused connection; the process's exit is reported a moment later.
  if (await waitUntil(() => server.process.hasExited, 1000)) {
    const exit = await server.process.exited;
    // A time limit ends the grade for everyone; any other end happened while an earlier test was talking to it.
    const when = exit.limit ? '' : ' (it stopped during an earlier test: the first failing test says what it was sent)';
    throw new GradingFailure(`your server is no longer running${when}: ${describeExit(server.process, exit)}`);
  }
  throw new GradingFailure(
    `${err.message}. Your server's process is still running, but it no longer accepts connections: it stopped listening during an earlier test (server.close() does that). Whatever one connection sends, the server must go on accepting the others.`,
  );
}

/**
 * Sends part of a request (`pieces`: cut where the kit's writeInPieces cuts); if the server already
 * hung up, says that it answered before the request was complete.
 */
async function sendRequestPart(client: TestClient, part: string, pieces: number[], what: string): Promise<void> {
  try {
    await client.writeInPieces(part, pieces);
    // A server that takes the first chunk for the whole request answers it at once. Give it the time
    // to show that before the rest goes out, so the next pieces cannot reach it in the same read.
    if (await waitUntil(() => client.received.length > 0 || client.isClosed, EARLY_ANSWER_MS)) {
      throw new GradingFailure(`it answered ${describeBytes(client.received, 120) || 'by closing the connection'}`);
    }
  } catch (err) {
    throw new GradingFailure(
      `${client.label} sent its request in pieces (${what}), and your server answered before the request was complete: ${(err as Error).message}. ` +
        `A request can arrive in several 'data' events: keep the bytes until "\\r\\n\\r\\n" has come, then answer.`,
    );
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 426: 'Upgrade Required' };

/** Sends `request` and checks the refusal: the status, maybe a header, and that the server closes the connection. */
async function expectRefusal(request: string, status: number, what: string, header?: [string, string]): Promise<void> {
  const client = await rawClient();
  await client.write(request);
  const head = await readResponseHead(client, request, `HTTP/1.1 ${status} ${STATUS_TEXT[status]}`);
  if (head.status !== status) throw new GradingFailure(`sent ${what}: ${showRequest(request)}, expected HTTP status ${status}, but your server answered ${describeHead(head)}`);
  if (header && head.headers.get(header[0].toLowerCase()) !== header[1]) {
    throw new GradingFailure(`sent ${what}, and your server answered ${status} as it should, but the response must also have the header "${header[0]}: ${header[1]}" (the versions it speaks); it was ${describeHead(head)}`);
  }
  await client.expectClosed(2000, `your server to close the connection after its ${status} answer (the request was refused: send the response, then end the socket)`);
}

describe('WebSocket handshake server', () => {
  it('upgrades a ws client, which checks the accept key, and sends it "welcome" as a text message', async () => {
    const ws = await openWebSocket('a ws client', '/chat');
    const message = await ws.nextMessage({ what: 'the message "welcome" right after the handshake' });
    if (message.isBinary || message.text !== 'welcome') {
      throw new GradingFailure(`a ws client expected the text message "welcome", but got ${message.isBinary ? 'a binary' : 'a text'} message ${JSON.stringify(message.text)}`);
    }
  });

  it("answers the RFC's example key with s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", async () => {
    const client = await rawClient();
    const request = upgradeRequest({ 'Sec-WebSocket-Key': RFC_KEY });
    await client.write(request);
    await expectUpgrade(client, request, `the RFC's example, whose answer is ${RFC_ACCEPT}`);
  });

  it('reads a request that arrives in several pieces, cut inside a header and inside the blank line', async () => {
    const client = await rawClient();
    const request = upgradeRequest();
    const keyAt = request.indexOf('Sec-WebSocket-Key');
    const cuts = [5, keyAt + 10, request.length - 3, request.length - 1];
    const what = `cut at bytes ${cuts.join(', ')} of ${request.length}`;
    await sendRequestPart(client, request.slice(0, cuts[0]), [], what); // "GET /": not yet a request
    await sendRequestPart(client, request.slice(cuts[0], cuts.at(-1)), cuts.slice(1, -1).map((c) => c - cuts[0]), what);
    await client.write(request.slice(cuts.at(-1)));
    await expectUpgrade(client, request, 'sent in 5 pieces: read until the blank line, not just the first chunk');
  });

  it('accepts header names and values in any case', async () => {
    const client = await rawClient();
    const key = newKey();
    const request = `GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nUPGRADE: WebSocket\r\nconnection: upgrade\r\nsec-websocket-key: ${key}\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n`;
    await client.write(request);
    await expectUpgrade(client, request, 'header names in mixed case, which HTTP allows');
  });

  it('ignores spaces around header values: none after the colon, or several before and after', async () => {
    const layouts: Array<[string, (name: string, value: string) => string]> = [
      ['no space after any colon ("Sec-WebSocket-Key:dGhl…")', (name, value) => `${name}:${value}`],
      ['three spaces before each value and two after it', (name, value) => `${name}:   ${value}  `],
    ];
    for (const [layout, headerLine] of layouts) {
      const client = await rawClient();
      const request = upgradeRequest({}, 'GET /chat HTTP/1.1', headerLine);
      await client.write(request);
      await expectUpgrade(client, request, `${layout}: HTTP ignores spaces around a value, so trim it, key included`);
    }
  });

  it('accepts "Connection: keep-alive, Upgrade" (a list of tokens, as Firefox sends it)', async () => {
    const client = await rawClient();
    const request = upgradeRequest({ Connection: 'keep-alive, Upgrade' });
    await client.write(request);
    await expectUpgrade(client, request, '"Connection: keep-alive, Upgrade" contains the token "Upgrade"');
  });

  it("answers the client's close frame with a close frame carrying the same code", async () => {
    const ws = await openWebSocket('a ws client');
    await ws.nextMessage({ what: '"welcome"' });
    ws.close(4000, 'done');
    const closed = await ws.expectClose({ what: 'a close frame in answer to its close frame (code 4000)' });
    if (closed.code !== 4000) throw new GradingFailure(`a ws client closed with code 4000 and expected a close frame with code 4000 back, but ${describeClose(closed)}`);
    const quiet = await openWebSocket('a ws client closing without a code');
    await quiet.nextMessage({ what: '"welcome"' });
    quiet.close(); // an empty close frame (88 80 + the mask key): no code
    const answer = await quiet.expectClose({ what: 'a close frame in answer to its empty close frame' });
    if (answer.code !== 1005 || answer.error !== undefined) {
      throw new GradingFailure(`a ws client sent a close frame with no body (no code) and expected a close frame with no body back (88 00, which ws reports as 1005), but ${describeClose(answer)}`);
    }
  });

  it('skips text messages of every length (7-, 16- and 64-bit) before the close frame and still answers the close', async () => {
    const ws = await openWebSocket('a ws client');
    await ws.nextMessage({ what: '"welcome"' });
    // 36 bytes, 200 (the length is 126 and 2 more bytes) and 70000 (127 and 8 more bytes).
    const messages = ['hello, this message is to be ignored', 'x'.repeat(200), 'y'.repeat(70_000)];
    for (const message of messages) await ws.send(message);
    ws.close(1000, 'bye');
    const sent = `text messages of ${messages.map((m) => m.length).join(', ')} bytes, then closed with code 1000`;
    const lengths = 'a 7-bit length of 126 means the length is in the next 2 bytes, 127 in the next 8, big-endian; the 4-byte mask key comes after them';
    const closed = await ws.expectClose({ within: 2000 }).catch(() => {
      throw new GradingFailure(`a ws client sent ${sent}, and expected a close frame back within 2 s, but your server sent none and kept the connection open. Read the lengths of long frames: ${lengths}.`);
    });
    if (closed.code !== 1000) {
      // A frame misread (its length) makes any close, or none; a masked answer or an empty one is another mistake.
      const skip = closed.code === 1005 || /MASK/.test(closed.error ?? '') ? '' : ` Skip each frame that is not a close by its length (${lengths}), and unmask the close frame's body before reading its code.`;
      throw new GradingFailure(`a ws client sent ${sent}, and expected a close frame with code 1000 back, but ${describeClose(closed).replace(/\.?$/, '.')}${skip}`);
    }
  });

  it('answers a close frame that arrives in pieces after a text frame, then ends the TCP connection', async () => {
    const client = await rawClient('a raw client');
    const request = upgradeRequest();
    await client.write(request);
    await expectUpgrade(client, request, 'a raw client');
    // Masked, as a client's frames must be; a text frame and the start of the close in one write, the rest later.
    const text = wsFrame('to be ignored', { opcode: WS_OPCODES.text, mask: true });
    const close = wsFrame(closePayload(1001, 'going away'), { opcode: WS_OPCODES.close, mask: true });
    await client.writeInPieces(Buffer.concat([text, close]), [text.length + 3]);
    const sent = 'after sending a text frame and a close frame with code 1001 (the close cut after its first 3 bytes)';
    const expected = `${sent}, expected an unmasked close frame carrying 1001 (88, a length from 2 to 125, then 03 e9, maybe followed by a reason)`;
    const header = await readAfterWelcome(client, 2, expected);
    if ((header[0] & 0x0f) !== WS_OPCODES.close || (header[1] & 0x80) !== 0 || (header[1] & 0x7f) < 2 || (header[1] & 0x7f) > 125) {
      const masked = (header[1] & 0x80) !== 0 ? ' Its MASK bit is set: a server never masks its frames.' : '';
      throw new GradingFailure(`${expected}, but your server's next frame began ${describeBytes(header)}.${masked}`);
    }
    const body = await readAfterWelcome(client, header[1] & 0x7f, expected);
    if (body.readUInt16BE(0) !== 1001) throw new GradingFailure(`${expected}, but your server's close frame carries ${body.readUInt16BE(0)} (bytes ${body.subarray(0, 2).toString('hex').replace(/^(..)/, '$1 ')}). Unmask the client's close body with its key before reading the code.`);
    await client.expectClosed(2000, 'your server to end the TCP connection after its close frame (socket.end())');
  });

  it('serves several clients at once, each with its own handshake and close', async () => {
    const clients = await Promise.all([1, 2, 3].map((n) => openWebSocket(`client ${n}`)));
    for (const ws of clients) await ws.nextMessage({ what: '"welcome"' });
    clients.forEach((ws, i) => ws.close(4001 + i, `client ${i + 1} leaves`));
    for (const [i, ws] of clients.entries()) {
      const closed = await ws.expectClose({ what: `a close frame with code ${4001 + i}` });
      if (closed.code !== 4001 + i) throw new GradingFailure(`client ${i + 1} closed with code ${4001 + i} and expected it back, but ${describeClose(closed)}`);
    }
  });

  it("keeps each connection's request apart when two requests arrive interleaved", async () => {
    const first = await rawClient('client A');
    const second = await rawClient('client B');
    const requestA = upgradeRequest();
    const requestB = upgradeRequest();
    const half = requestA.indexOf('Sec-WebSocket-Key') + 5;
    const what = `the first ${half} bytes, then client B's whole request on another connection, then the other ${requestA.length - half}`;
    await sendRequestPart(first, requestA.slice(0, half), [], what);
    await second.write(requestB);
    await expectUpgrade(second, requestB, 'client B, while client A had sent half of its request');
    await first.write(requestA.slice(half));
    await expectUpgrade(first, requestA, 'client A, whose request was cut in two while client B sent its own: each connection needs its own buffer');
  });

  it('refuses a wrong or missing Sec-WebSocket-Version with 426 and "Sec-WebSocket-Version: 13"', async () => {
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Version': '8' }), 426, 'an upgrade request with Sec-WebSocket-Version: 8', ['Sec-WebSocket-Version', '13']);
    // A newer version is not 13 either: this server speaks 13 only.
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Version': '14' }), 426, 'an upgrade request with Sec-WebSocket-Version: 14 (not 13, though higher)', ['Sec-WebSocket-Version', '13']);
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Version': undefined }), 426, 'an upgrade request without Sec-WebSocket-Version', ['Sec-WebSocket-Version', '13']);
  });

  it('refuses a missing Sec-WebSocket-Key with 400', async () => {
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Key': undefined }), 400, 'an upgrade request without Sec-WebSocket-Key');
  });

  it('refuses an invalid Sec-WebSocket-Key with 400', async () => {
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Key': 'not a valid key' }), 400, 'an upgrade request whose key is not base64');
    // "the sample" in base64: valid base64, but 10 bytes, not 16.
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZQ==' }), 400, 'an upgrade request whose key is 10 bytes in base64 (it must be 16)');
    // Each of these decodes to 16 bytes with Buffer.from(key, 'base64'), which skips what it cannot read: only the characters tell.
    const lenient = "Buffer.from(key, 'base64') decodes it to 16 bytes anyway; check the characters: 22 of A-Z a-z 0-9 + /, then ==";
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ' }), 400, `an upgrade request whose key is 22 characters without the "==" after them (${lenient})`);
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Key': 'dGhlIHNhbXBs-SBub25jZQ==' }), 400, `an upgrade request whose 24-character key has a "-", which is not a base64 character (${lenient})`);
    // A valid key with one character more in front: a pattern that is not anchored (^…$) finds a valid key inside it.
    await expectRefusal(upgradeRequest({ 'Sec-WebSocket-Key': `x${RFC_KEY}` }), 400, 'an upgrade request whose key is 25 characters, 23 and "==" (the whole key must be 22 characters and "==", not just contain them)');
  });

  it('refuses a request that does not ask for a WebSocket with 400', async () => {
    // Only the request to upgrade is missing (the key and version are there): one fault, as the instructions promise.
    await expectRefusal(upgradeRequest({ Upgrade: undefined, Connection: undefined }), 400, 'a GET without Upgrade and Connection: it does not ask to upgrade');
    await expectRefusal(upgradeRequest({ Upgrade: 'h2c' }), 400, 'a request to upgrade to h2c, not websocket');
    await expectRefusal(upgradeRequest({ Connection: 'keep-alive' }), 400, 'a request with Upgrade: websocket but no "Upgrade" in Connection');
    // Tokens, not text: "x-upgrade" contains the letters but is not the token, and "websockets" is not "websocket".
    await expectRefusal(upgradeRequest({ Connection: 'keep-alive, x-upgrade' }), 400, 'a request with "Connection: keep-alive, x-upgrade", whose tokens are keep-alive and x-upgrade, not Upgrade');
    await expectRefusal(upgradeRequest({ Upgrade: 'websockets' }), 400, 'a request to upgrade to "websockets", which is not "websocket"');
  });

  it('refuses a method other than GET with 405', async () => {
    await expectRefusal(upgradeRequest({}, 'POST /chat HTTP/1.1'), 405, 'a POST with the upgrade headers');
    // Methods are case-sensitive in HTTP (RFC 9110, 9.1), unlike header names.
    await expectRefusal(upgradeRequest({}, 'get /chat HTTP/1.1'), 405, 'a "get" (lower case) with the upgrade headers: HTTP methods are case-sensitive, so "get" is not GET');
  });
});

/** How a ws client's connection ended, in the learner's terms: ws's own error first, when it refused a frame. */
function describeClose({ code, error }: CloseInfo): string {
  if (error !== undefined) return `ws refused what your server sent and ended the connection: ${explainWsError(error)}`;
  if (code === 1006) return 'the connection ended without a close frame from your server';
  if (code === 1005) return 'your server answered with a close frame that has no status code (an empty body): send the 2 bytes of the code back';
  return `your server's close frame carried code ${code}`;
}

/**
 * Reads the next `n` bytes from a raw client that has had its 101 and welcome frame; fails, in one
 * sentence after `expected`, with what the server did send after its welcome frame.
 */
async function readAfterWelcome(client: TestClient, n: number, expected: string): Promise<Buffer> {
  try {
    return await client.readBytes(n);
  } catch {
    const all = client.received;
    const after = all.subarray(all.indexOf('\r\n\r\n') + 4 + WELCOME_FRAME.length);
    const sent = after.length ? `sent only ${describeBytes(after)}` : 'sent nothing';
    throw new GradingFailure(`${expected}, but after its welcome frame your server ${sent} ${client.isClosed ? 'before the connection closed' : 'within 2 s'}`);
  }
}
