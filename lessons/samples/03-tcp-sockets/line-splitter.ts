// Framing by lines, done right: keep the unfinished rest of a line for the next chunk,
// and decode UTF-8 with a StringDecoder so a character split across chunks survives.
import net from 'node:net';
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';

class LineTooLongError extends Error {}

class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #maxLineBytes: number;
  #rest = ''; // text after the last '\n' seen so far

  constructor(maxLineBytes = 4096) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** Feed one chunk as it came off the socket; get back the lines it completed. */
  push(chunk: Buffer): string[] {
    // The decoder holds back an incomplete character until the next chunk completes it.
    const lines = (this.#rest + this.#decoder.write(chunk)).split('\n');
    this.#rest = lines.pop() ?? ''; // the last piece has no '\n' yet: keep it
    for (const line of [...lines, this.#rest]) {
      if (Buffer.byteLength(line) > this.#maxLineBytes) throw new LineTooLongError('line too long');
    }
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  /** Call when the stream ends: a last line the peer did not finish with '\n', if any. */
  end(): string | null {
    const last = this.#rest + this.#decoder.end();
    this.#rest = '';
    return last === '' ? null : last;
  }
}

// --- 1. feed it awkward chunks by hand ------------------------------------------------
const euro = Buffer.from('€'); // 3 bytes: e2 82 ac
const chunks = [
  Buffer.from('first line\nsecond '),
  Buffer.from('line\r\nprice: 5 '),
  euro.subarray(0, 1),
  Buffer.concat([euro.subarray(1), Buffer.from('\nno newline at the end')]),
];
const splitter = new LineSplitter();
chunks.forEach((chunk, i) => {
  console.log(`chunk ${i + 1}, ${chunk.length} byte(s) -> ${JSON.stringify(splitter.push(chunk))}`);
});
console.log(`end -> ${JSON.stringify(splitter.end())}`);

// --- 2. a line-based echo server that uses it -------------------------------------------
const host = process.env.HOST ?? '127.0.0.1';
const server = net.createServer((socket) => {
  const lines = new LineSplitter();
  socket.on('data', (chunk: Buffer) => {
    if (!socket.writable) return; // we already said goodbye; ignore the rest
    try {
      for (const line of lines.push(chunk)) socket.write(`Echo: ${line}\n`);
    } catch (err) {
      if (!(err instanceof LineTooLongError)) throw err;
      socket.end('Error: line too long\n');
    }
  });
  socket.on('end', () => {
    const last = lines.end();
    if (last !== null && socket.writable) socket.write(`Echo: ${last}\n`);
  });
  socket.on('error', (err) => console.log(`server: ${err.message}`));
});
server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');

const client = net.connect((server.address() as net.AddressInfo).port, host);
client.on('error', (err) => console.log(`client: ${err.message}`));
const replies = new LineSplitter();
client.on('data', (chunk: Buffer) => {
  for (const line of replies.push(chunk)) console.log(`client got: ${line}`);
});
await once(client, 'connect');

// The same messages as before, cut in unhelpful places on purpose.
const cafe = Buffer.from('café\n');
for (const piece of ['Hello\nWorld\nHow are ', 'you?\n', cafe.subarray(0, 4), cafe.subarray(4)]) {
  client.write(piece);
  await sleep(20);
}
client.end();
await once(client, 'close');
server.close();
