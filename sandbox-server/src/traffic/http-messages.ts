// Splits one direction of an HTTP/1.1 connection into its messages as the bytes pass (RFC 9112):
// each message's head, then its body by Content-Length or the chunked transfer coding, for as many
// messages as a keep-alive connection carries, however the bytes are cut into chunks. Whatever a
// peer sends, it holds at most one head (or chunk-size line, or trailer section) of MAX_HEAD_BYTES:
// a body is handed on in pieces as it passes, never kept. What is not HTTP it can read (a head too
// long, a malformed start line, header or Content-Length, a bad chunk size) stops it for good
// (`error`): the rest is only bytes. No library: node's own parser (llhttp) is not public, and the
// task's packages are fixed.

/** What node's HTTP server accepts by default (16 KiB of headers): a head past it is not read. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A line of a chunked body (a chunk size with its extensions, a trailer field) past this is not read. */
const MAX_CHUNK_LINE_BYTES = 1024;
/** 13 hex digits stay below Number.MAX_SAFE_INTEGER. */
const MAX_CHUNK_SIZE_DIGITS = 13;

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface HttpHead {
  /** The head's bytes, from the start line to the empty line that ends it. */
  bytes: Buffer;
  /** A request's start line. */
  request?: { method: string; target: string };
  /** A response's status line. */
  response?: { status: number; reason: string };
  /** Its header fields in order, names lower-cased. */
  headers: [string, string][];
  /**
   * A request that asks to switch protocols (Connection: upgrade with Upgrade, as node's parser
   * reads it, or CONNECT), or a 101 response: what follows it is not HTTP.
   */
  upgrade: boolean;
}

export type HttpPart =
  | { type: 'head'; head: HttpHead }
  /** Bytes of the current message's body (de-chunked), in order. */
  | { type: 'body'; bytes: Buffer }
  /** The current message ended (after its body, if it had one). */
  | { type: 'end' }
  /** An upgrade's head ended the HTTP: `rest` (of the chunk just pushed) belongs to the next protocol. */
  | { type: 'switch'; rest: Buffer };

/** Gathers bytes until a delimiter, up to a limit; finds it across chunk boundaries without rescanning. */
class UntilDelimiter {
  private pieces: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly delimiter: Buffer,
    private readonly max: number,
  ) {}

  get pending(): number {
    return this.length;
  }

  /**
   * Takes bytes of `chunk`: `used` of them; `found` (all gathered, the delimiter included) once it
   * is in; `tooLong` when the limit was passed first.
   */
  take(chunk: Buffer): { used: number; found?: Buffer; tooLong?: boolean } {
    // The delimiter may have begun in the bytes gathered so far: search from its longest possible start.
    const overlap = Math.min(this.length, this.delimiter.length - 1);
    const tail = overlap > 0 ? lastBytes(this.pieces, overlap) : Buffer.alloc(0);
    const at = Buffer.concat([tail, chunk.subarray(0, this.max + this.delimiter.length)]).indexOf(this.delimiter);
    if (at !== -1) {
      const used = at + this.delimiter.length - overlap;
      if (this.length + used > this.max) return { used: 0, tooLong: true };
      const found = Buffer.concat([...this.pieces, chunk.subarray(0, used)]);
      this.pieces = [];
      this.length = 0;
      return { used, found };
    }
    if (this.length + chunk.length > this.max) return { used: 0, tooLong: true };
    this.pieces.push(Buffer.from(chunk));
    this.length += chunk.length;
    return { used: chunk.length };
  }
}

/** The last `n` bytes of `pieces` (n no more than their total), reading only the pieces that hold them. */
function lastBytes(pieces: Buffer[], n: number): Buffer {
  const tail: Buffer[] = [];
  let have = 0;
  for (let i = pieces.length - 1; i >= 0 && have < n; i--) {
    tail.unshift(pieces[i]);
    have += pieces[i].length;
  }
  return Buffer.concat(tail).subarray(have - n);
}

type Body =
  | { kind: 'none' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailers'; remaining: number; trailerBytes: number }
  /** Until the connection closes (a response with neither length nor chunks): no later message. */
  | { kind: 'until-close' };

export class HttpMessageReader {
  private head = new UntilDelimiter(HEAD_END, MAX_HEAD_BYTES);
  private line = new UntilDelimiter(CRLF, MAX_CHUNK_LINE_BYTES);
  private body: Body | undefined;
  /** Set once what came is not HTTP this reader can follow; nothing more is read. */
  error?: string;
  /** Set once an upgrade's head was read: the rest is another protocol's. */
  switched = false;
  private stopped = false;

  constructor(
    /** For a response: the method of the request it answers, if known (a response to HEAD has no body). */
    private readonly answeredMethod: () => string | undefined = () => undefined,
  ) {}

  /** Calls `onPart` with each part `chunk` completes, in order (a head before the parts of its body). */
  push(chunk: Buffer, onPart: (part: HttpPart) => void): void {
    let rest = chunk;
    while (!this.error && !this.switched && !this.stopped && (rest.length > 0 || this.body?.kind === 'none')) {
      if (this.body === undefined) rest = this.readHead(rest, onPart);
      else if (this.body.kind === 'none') this.endMessage(onPart);
      else if (this.body.kind === 'until-close') {
        onPart({ type: 'body', bytes: rest });
        rest = Buffer.alloc(0);
      } else if (this.body.kind === 'length') rest = this.readLength(this.body, rest, onPart);
      else rest = this.readChunked(this.body, rest, onPart);
    }
  }

  /** Reads nothing more, from now on (also the rest of a chunk being read): the caller follows these bytes no further. */
  stop(): void {
    this.stopped = true;
  }

  private fail(why: string): Buffer {
    this.error = why;
    return Buffer.alloc(0);
  }

  private endMessage(onPart: (part: HttpPart) => void): void {
    this.body = undefined;
    onPart({ type: 'end' });
  }

  private readHead(chunk: Buffer, onPart: (part: HttpPart) => void): Buffer {
    // Empty lines before a message are to be ignored (RFC 9112 section 2.2).
    let rest = chunk;
    while (this.head.pending === 0 && rest.length > 0 && (rest[0] === 0x0d || rest[0] === 0x0a)) rest = rest.subarray(1);
    if (rest.length === 0) return rest;
    const taken = this.head.take(rest);
    if (taken.tooLong) return this.fail(`a head longer than ${MAX_HEAD_BYTES} bytes`);
    if (!taken.found) return Buffer.alloc(0);
    const head = parseHead(taken.found);
    if (typeof head === 'string') return this.fail(head);
    const body = this.framing(head);
    if (typeof body === 'string') return this.fail(body);
    onPart({ type: 'head', head });
    rest = rest.subarray(taken.used);
    if (head.upgrade) {
      this.switched = true;
      onPart({ type: 'switch', rest });
      return Buffer.alloc(0);
    }
    this.body = body;
    return rest;
  }

  /** How the body of the message whose head this is ends (RFC 9112 section 6.3), or why it cannot be told. */
  private framing(head: HttpHead): Body | string {
    const values = (name: string) => head.headers.filter(([n]) => n === name).map(([, v]) => v);
    const codings = values('transfer-encoding').flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase()).filter(Boolean);
    const lengths = values('content-length').flatMap((v) => v.split(',')).map((v) => v.trim());
    if (head.response) {
      const { status } = head.response;
      if ((status >= 100 && status < 200) || status === 204 || status === 304 || this.answeredMethod() === 'HEAD') return { kind: 'none' };
      if (status >= 200 && status < 300 && this.answeredMethod() === 'CONNECT') return { kind: 'until-close' };
    }
    if (codings.length > 0) {
      if (head.request && lengths.length > 0) return 'both Transfer-Encoding and Content-Length in a request';
      if (codings[codings.length - 1] === 'chunked') return { kind: 'chunked', state: 'size', remaining: 0, trailerBytes: 0 };
      return head.request ? `a request whose transfer coding does not end with chunked (${codings.join(', ')})` : { kind: 'until-close' };
    }
    if (lengths.length > 0) {
      if (!lengths.every((l) => /^\d{1,15}$/.test(l))) return `a malformed Content-Length (${JSON.stringify(values('content-length').join(', '))})`;
      if (new Set(lengths.map(Number)).size > 1) return `Content-Lengths that differ (${lengths.join(', ')})`;
      const length = Number(lengths[0]);
      return length === 0 ? { kind: 'none' } : { kind: 'length', remaining: length };
    }
    return head.response ? { kind: 'until-close' } : { kind: 'none' };
  }

  private readLength(body: { remaining: number }, chunk: Buffer, onPart: (part: HttpPart) => void): Buffer {
    const take = Math.min(body.remaining, chunk.length);
    onPart({ type: 'body', bytes: chunk.subarray(0, take) });
    body.remaining -= take;
    if (body.remaining === 0) this.endMessage(onPart);
    return chunk.subarray(take);
  }

  private readChunked(body: Extract<Body, { kind: 'chunked' }>, chunk: Buffer, onPart: (part: HttpPart) => void): Buffer {
    if (body.state === 'data') {
      const take = Math.min(body.remaining, chunk.length);
      onPart({ type: 'body', bytes: chunk.subarray(0, take) });
      body.remaining -= take;
      if (body.remaining === 0) body.state = 'data-end';
      return chunk.subarray(take);
    }
    const taken = this.line.take(chunk);
    if (taken.tooLong) return this.fail(`a chunk-size or trailer line longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
    if (!taken.found) return Buffer.alloc(0);
    const line = taken.found.subarray(0, taken.found.length - 2).toString('latin1');
    const rest = chunk.subarray(taken.used);
    if (body.state === 'trailers') {
      // The trailer section: field lines, then an empty line.
      if (line === '') this.endMessage(onPart);
      else if ((body.trailerBytes += taken.found.length) > MAX_HEAD_BYTES) return this.fail(`trailers longer than ${MAX_HEAD_BYTES} bytes`);
      return rest;
    }
    if (body.state === 'data-end') {
      if (line !== '') return this.fail('a chunk not followed by CRLF');
      body.state = 'size';
      return rest;
    }
    const size = /^([0-9A-Fa-f]+)[ \t]*(;.*)?$/.exec(line);
    if (!size || size[1].length > MAX_CHUNK_SIZE_DIGITS) return this.fail(`a malformed chunk size (${JSON.stringify(line.slice(0, 40))})`);
    body.remaining = parseInt(size[1], 16);
    body.state = body.remaining === 0 ? 'trailers' : 'data';
    return rest;
  }
}

/** A head's start line and header fields, or why it is not an HTTP/1.x head. */
function parseHead(bytes: Buffer): HttpHead | string {
  const lines = bytes.subarray(0, bytes.length - HEAD_END.length).toString('latin1').split('\r\n');
  const start = lines[0];
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return `a malformed header line (${JSON.stringify(line.slice(0, 40))})`;
    headers.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const has = (name: string, token: string) =>
    headers.some(([n, v]) => n === name && v.split(',').some((t) => t.trim().toLowerCase() === token));
  const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(start);
  if (status) {
    const code = Number(status[1]);
    return { bytes, response: { status: code, reason: status[2] ?? '' }, headers, upgrade: code === 101 };
  }
  const request = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/1\.[01]$/.exec(start);
  if (!request) return `not an HTTP/1.x start line (${JSON.stringify(start.slice(0, 40))})`;
  const [, method, target] = request;
  const upgrade = method === 'CONNECT' || (has('connection', 'upgrade') && headers.some(([n]) => n === 'upgrade'));
  return { bytes, request: { method, target }, headers, upgrade };
}
