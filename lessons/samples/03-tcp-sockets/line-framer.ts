// Framing by lines, done right: keep the unfinished end of the stream for
// the next chunk, and decode only complete lines, so a UTF-8 character
// that the network cut in two comes out whole.
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const NEWLINE = 0x0a; // '\n'
const CARRIAGE_RETURN = 0x0d; // '\r'

class LineTooLongError extends Error {}

class LineFramer {
  readonly #maxLineBytes: number;
  #rest = Buffer.alloc(0); // the bytes after the last '\n' seen so far

  constructor(maxLineBytes = 4096) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Takes one chunk as it came off the socket; returns the lines it completed. */
  push(chunk: Buffer): string[] {
    const data = this.#rest.length > 0 ? Buffer.concat([this.#rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    let newline = data.indexOf(NEWLINE);
    while (newline !== -1) {
      this.#check(newline - start); // everything before the '\n' counts, a '\r' too
      // drop one '\r' right before the '\n' (telnet and friends send "\r\n")
      const hasCR = newline > start && data[newline - 1] === CARRIAGE_RETURN;
      const end = hasCR ? newline - 1 : newline;
      lines.push(data.toString('utf8', start, end)); // whole line, whole characters
      start = newline + 1;
      newline = data.indexOf(NEWLINE, start);
    }
    this.#check(data.length - start);
    // Copy the rest, so that we do not keep the whole (maybe large) chunk alive.
    this.#rest = Buffer.from(data.subarray(start));
    return lines;
  }

  /** At the end of the stream: a last line that has no '\n', if any. */
  end(): string[] {
    const last = this.#rest;
    this.#rest = Buffer.alloc(0);
    return last.length > 0 ? [last.toString('utf8')] : [];
  }

  #check(lineBytes: number): void {
    if (lineBytes > this.#maxLineBytes) throw new LineTooLongError('line too long');
  }
}

// --- 1. feed it awkward chunks by hand -------------------------------
const euro = Buffer.from('€'); // 3 bytes: e2 82 ac
const chunks = [
  Buffer.from('first line\nsecond '),
  Buffer.from('line\r\nprice: 5 '),
  euro.subarray(0, 1),
  Buffer.concat([euro.subarray(1), Buffer.from('\nno newline at the end')]),
];
const framer = new LineFramer();
chunks.forEach((chunk, i) => {
  const lines = JSON.stringify(framer.push(chunk));
  console.log(`chunk ${i + 1}, ${chunk.length} byte(s) -> ${lines}`);
});
console.log(`end -> ${JSON.stringify(framer.end())}`);

// The limit counts every byte before the '\n', a '\r' too: 4096 bytes and "\r\n" are 4097.
for (const ending of ['\n', '\r\n']) {
  try {
    new LineFramer().push(Buffer.from('x'.repeat(4096) + ending));
    console.log(`4096 bytes and ${JSON.stringify(ending)} -> fine`);
  } catch (err) {
    if (!(err instanceof LineTooLongError)) throw err;
    console.log(`4096 bytes and ${JSON.stringify(ending)} -> line too long`);
  }
}

// --- 2. a line-based echo server that uses it ------------------------
const host = process.env.HOST ?? '127.0.0.1';
const server = net.createServer((socket) => {
  const lines = new LineFramer(); // one framer per connection: its own rest
  socket.on('data', (chunk: Buffer) => {
    if (!socket.writable) return; // we already said goodbye: ignore the rest
    try {
      for (const line of lines.push(chunk)) socket.write(`Echo: ${line}\n`);
    } catch (err) {
      if (!(err instanceof LineTooLongError)) throw err;
      socket.end('Error: line too long\n');
    }
  });
  socket.on('end', () => {
    for (const line of lines.end()) {
      if (socket.writable) socket.write(`Echo: ${line}\n`);
    }
  });
  socket.on('error', (err) => console.log(`server: ${err.message}`));
});
server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');

const client = net.connect((server.address() as net.AddressInfo).port, host);
client.on('error', (err) => console.log(`client: ${err.message}`));
const replies = new LineFramer();
client.on('data', (chunk: Buffer) => {
  for (const line of replies.push(chunk)) console.log(`client got: ${line}`);
});
await once(client, 'connect');

// What the naive server mangled, cut in unhelpful places on purpose.
const cafe = Buffer.from('café\n');
const pieces = [
  'Hello\nWorld\nHow are ',
  'you?\n',
  cafe.subarray(0, 4), // ends with the first byte of é
  cafe.subarray(4),
  'bye', // no '\n': the server's end() hands it over as a last line
];
for (const piece of pieces) {
  client.write(piece);
  await sleep(20);
}
client.end();
await once(client, 'close');
server.close();
