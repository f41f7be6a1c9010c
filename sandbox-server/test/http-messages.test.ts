// The traffic log's HTTP reading: one direction of a connection split into messages (heads, bodies by
// Content-Length and chunked, keep-alive), the same however the bytes are chunked; an upgrade hands
// the rest on; what is not HTTP it can read stops it, with a reason, and costs no more than a head.
import { describe, expect, it } from 'vitest';
import { HttpMessageReader, MAX_HEAD_BYTES, type HttpPart } from '../src/traffic/http-messages.ts';
import { EngineIoPayloadReader, engineIoSession, isEngineIoPolling } from '../src/traffic/engine-io-payload.ts';

/** The parts of `chunks` in order, bodies joined per message, as short strings ("head POST /x", "body …", "end"). */
function read(chunks: Buffer[], answeredMethod?: () => string | undefined): { parts: string[]; reader: HttpMessageReader } {
  const reader = new HttpMessageReader(answeredMethod);
  const parts: string[] = [];
  const onPart = (part: HttpPart) => {
    if (part.type === 'head') {
      const h = part.head;
      parts.push(`head ${h.request ? `${h.request.method} ${h.request.target}` : `${h.response!.status} ${h.response!.reason}`}`);
    } else if (part.type === 'body') {
      if (parts[parts.length - 1]?.startsWith('body ')) parts[parts.length - 1] += part.bytes.toString('latin1');
      else parts.push(`body ${part.bytes.toString('latin1')}`);
    } else if (part.type === 'end') parts.push('end');
    else parts.push(`switch ${part.rest.toString('latin1')}`);
  };
  for (const chunk of chunks) reader.push(chunk, onPart);
  return { parts, reader };
}

const bytewise = (text: string) => [...Buffer.from(text, 'latin1')].map((b) => Buffer.from([b]));
const whole = (text: string) => [Buffer.from(text, 'latin1')];
/** Cut in pieces of `size` bytes. */
const pieces = (text: string, size: number) => {
  const all = Buffer.from(text, 'latin1');
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; at += size) out.push(all.subarray(at, at + size));
  return out;
};

const TWO_REQUESTS =
  'POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n40{"n":"A"}' +
  'GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: x\r\n\r\n';
const CHUNKED_RESPONSE =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n' +
  'HTTP/1.1 204 No Content\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n';

describe('HttpMessageReader', () => {
  it('splits keep-alive requests with and without a body, the same whole, byte at a time and in odd pieces', () => {
    const expected = ['head POST /socket.io/?EIO=4&transport=polling&sid=abc', 'body 40{"n":"A"}', 'end', 'head GET /socket.io/?EIO=4&transport=polling&sid=abc', 'end'];
    expect(read(whole(TWO_REQUESTS)).parts).toEqual(expected);
    expect(read(bytewise(TWO_REQUESTS)).parts).toEqual(expected);
    for (const size of [2, 3, 7, 50]) expect(read(pieces(TWO_REQUESTS, size)).parts).toEqual(expected);
  });

  it('reads chunked bodies (extensions and trailers too) and bodiless answers, however cut', () => {
    const expected = ['head 200 OK', 'body hello world', 'end', 'head 204 No Content', 'end', 'head 200 OK', 'body ok', 'end'];
    expect(read(whole(CHUNKED_RESPONSE)).parts).toEqual(expected);
    expect(read(bytewise(CHUNKED_RESPONSE)).parts).toEqual(expected);
    for (const size of [2, 5, 13]) expect(read(pieces(CHUNKED_RESPONSE, size)).parts).toEqual(expected);
  });

  it('gives an answer to HEAD no body whatever its Content-Length says, and an interim 100 none either', () => {
    const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
    // The requests answered, oldest first, as the tap keeps them: a final answer's head moves on to the next.
    const methods = ['HEAD', 'GET'];
    const reader = new HttpMessageReader(() => methods[0]);
    const parts: string[] = [];
    reader.push(Buffer.from(text), (p) => {
      if (p.type === 'head' && p.head.response!.status >= 200) methods.shift();
      parts.push(p.type === 'head' ? `head ${p.head.response!.status}` : p.type === 'body' ? `body ${p.bytes.toString()}` : p.type);
    });
    expect(parts).toEqual(['head 100', 'end', 'head 200', 'end', 'head 200', 'body hi', 'end']);
  });

  it('reads a response with neither length nor chunks to the end of the connection', () => {
    expect(read(whole('HTTP/1.1 200 OK\r\n\r\nall of it\r\n\r\nHTTP/1.1 200 OK\r\n\r\n')).parts).toEqual(['head 200 OK', 'body all of it\r\n\r\nHTTP/1.1 200 OK\r\n\r\n']);
  });

  it('hands on the bytes after an upgrade request and after a 101, and reads no more HTTP', () => {
    const request = 'GET /chat HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi';
    expect(read(whole(request)).parts).toEqual(['head GET /chat', 'switch \x81\x02hi']);
    const answer = read(bytewise('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00'));
    // Byte at a time, the rest of the chunk the head ended in is empty; later chunks are not read at all.
    expect(answer.parts).toEqual(['head 101 Switching Protocols', 'switch ']);
    expect(answer.reader.switched).toBe(true);
  });

  // A head whose framing is wrong is not given at all; in a chunked body, what came before the fault was.
  it.each([
    ['a Content-Length that is not a number', 'POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n12abc', /malformed Content-Length/, []],
    ['Content-Lengths that differ', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', /Content-Lengths that differ/, []],
    ['a negative Content-Length', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', /malformed Content-Length/, []],
    ['a request with both a length and chunks', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /both Transfer-Encoding and Content-Length/, []],
    ['a start line that is not HTTP', 'HELLO THERE\r\n\r\n', /not an HTTP\/1\.x start line/, []],
    ['a header line without a name', 'GET / HTTP/1.1\r\n: nameless\r\n\r\n', /malformed header line/, []],
    ['a chunk size that is not hex', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n', /malformed chunk size/, ['head POST /']],
    ['a chunk size past 2^53', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n', /malformed chunk size/, ['head POST /']],
    ['a chunk not ended by CRLF', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n', /not followed by CRLF/, ['head POST /', 'body ok']],
  ])('stops at %s, with a reason, and reads nothing after it', (_what, text, reason, before) => {
    for (const chunks of [whole(text), bytewise(text)]) {
      const { parts, reader } = read([...chunks, ...whole('GET /after HTTP/1.1\r\n\r\n')]);
      expect(reader.error).toMatch(reason);
      expect(parts).toEqual(before);
    }
  });

  it('stops at a head that never ends, holding no more than MAX_HEAD_BYTES, and then ignores any amount', () => {
    const reader = new HttpMessageReader();
    const parts: HttpPart[] = [];
    reader.push(Buffer.from('GET / HTTP/1.1\r\n'), (p) => parts.push(p));
    const line = Buffer.from('X-Padding: ' + 'a'.repeat(1000) + '\r\n');
    for (let i = 0; i < 100; i++) reader.push(line, (p) => parts.push(p));
    expect(reader.error).toBe(`a head longer than ${MAX_HEAD_BYTES} bytes`);
    expect(parts).toEqual([]);
    // Past the error, nothing is gathered: a flood is only counted by the caller, never held here.
    expect(() => reader.push(Buffer.alloc(1024 * 1024, 0x41), (p) => parts.push(p))).not.toThrow();
    expect(parts).toEqual([]);
  });
});

describe('EngineIoPayloadReader', () => {
  const packetsOf = (chunks: Buffer[], keep?: number) => {
    const reader = new EngineIoPayloadReader(keep);
    const packets = chunks.flatMap((c) => reader.push(c));
    return [...packets, ...reader.end()].map((p) => ({ ...p, payload: p.payload.toString('latin1') }));
  };

  it('splits a body at each record separator, however it is cut, and marks the binary ones', () => {
    const body = '40{"sid":"x"}\x1e42["welcome",{"name":"Ada"}]\x1ebAQID';
    const expected = [
      { index: 1, payload: '40{"sid":"x"}', length: 13, binary: false },
      { index: 2, payload: '42["welcome",{"name":"Ada"}]', length: 28, binary: false },
      { index: 3, payload: 'bAQID', length: 5, binary: true },
    ];
    expect(packetsOf(whole(body))).toEqual(expected);
    expect(packetsOf(bytewise(body))).toEqual(expected);
    expect(packetsOf(pieces(body, 4))).toEqual(expected);
  });

  it('keeps the first keepBytes of a packet and counts the rest; an empty body has no packet, a trailing separator an empty one', () => {
    expect(packetsOf(whole('4' + 'x'.repeat(5000) + '\x1e6'), 10)).toEqual([
      { index: 1, payload: '4xxxxxxxxx', length: 5001, binary: false },
      { index: 2, payload: '6', length: 1, binary: false },
    ]);
    expect(packetsOf([])).toEqual([]);
    expect(packetsOf(whole('3\x1e'))).toEqual([
      { index: 1, payload: '3', length: 1, binary: false },
      { index: 2, payload: '', length: 0, binary: false },
    ]);
  });

  it('knows an Engine.IO 4 polling request and its session by the query, on any path', () => {
    expect(isEngineIoPolling('/socket.io/?EIO=4&transport=polling&t=abc')).toBe(true);
    expect(isEngineIoPolling('/custom/?transport=polling&EIO=4&sid=s1')).toBe(true);
    expect(isEngineIoPolling('/socket.io/?EIO=4&transport=websocket')).toBe(false);
    expect(isEngineIoPolling('/socket.io/?EIO=3&transport=polling')).toBe(false);
    expect(isEngineIoPolling('/')).toBe(false);
    expect(engineIoSession('/socket.io/?EIO=4&transport=polling&sid=s1')).toBe('s1');
    expect(engineIoSession('/socket.io/?EIO=4&transport=polling')).toBeUndefined();
  });
});
