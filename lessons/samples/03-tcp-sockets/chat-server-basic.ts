// Step 1 of the chat server: usernames, broadcasting, and a clean goodbye.
// (Commands like /users come in the next lesson.)
import net from 'node:net';
import readline from 'node:readline';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';

const NEWLINE = 0x0a; // '\n'
const CARRIAGE_RETURN = 0x0d; // '\r'

class LineTooLongError extends Error {}

class LineFramer {
  readonly #maxLineBytes: number;
  #rest = Buffer.alloc(0); // the bytes after the last '\n' seen so far

  constructor(maxLineBytes: number) {
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

  #check(lineBytes: number): void {
    if (lineBytes > this.#maxLineBytes) throw new LineTooLongError('line too long');
  }
}

interface Client {
  id: string;
  socket: net.Socket;
  name: string | null; // null until it has chosen a valid username
}

// every open connection:
const clients = new Map<string, Client>();
// registered users, by lower-case name:
const users = new Map<string, Client>();

function send(client: Client, line: string): void {
  if (client.socket.writable) client.socket.write(line + '\n');
}

function broadcast(line: string, except: Client): void {
  for (const user of users.values()) {
    if (user !== except) send(user, line);
  }
}

function register(client: Client, name: string): void {
  const length = [...name].length; // characters, not UTF-16 units
  if (length < 2 || length > 20) {
    send(client, 'Error: username must be 2 to 20 characters long');
  } else if (/\s/.test(name)) {
    send(client, 'Error: username may not contain spaces');
  } else if (users.has(name.toLowerCase())) {
    const error = `username "${name}" is already taken, try another:`;
    send(client, `Error: ${error}`);
  } else {
    client.name = name;
    users.set(name.toLowerCase(), client);
    send(client, `Welcome, ${name}!`);
    broadcast(`* ${name} joined the chat`, client);
  }
}

function handleLine(client: Client, line: string): void {
  const text = line.trim();
  if (client.name === null) return register(client, text);
  if (text !== '') broadcast(`${client.name}: ${text}`, client);
}

function remove(client: Client): void {
  clients.delete(client.id);
  if (client.name === null) return;
  users.delete(client.name.toLowerCase());
  broadcast(`* ${client.name} left the chat`, client);
}

const server = net.createServer((socket) => {
  const client: Client = { id: randomUUID(), socket, name: null };
  clients.set(client.id, client);
  const lines = new LineFramer(4096);
  socket.setNoDelay(true); // small lines, someone waiting: send at once

  socket.on('data', (chunk: Buffer) => {
    if (!socket.writable) return;
    try {
      for (const line of lines.push(chunk)) handleLine(client, line);
    } catch (err) {
      if (!(err instanceof LineTooLongError)) throw err;
      send(client, 'Error: line too long');
      socket.end();
    }
  });
  socket.on('error', (err) => {
    console.log(`server: ${client.name ?? 'a guest'}: ${err.message}`);
  });
  // 'close' comes once per connection, after 'error' if there was one.
  socket.on('close', () => remove(client));

  send(client, 'Welcome to TCP Chat!');
  send(client, 'Please enter your username:');
});

// --- demo ------------------------------------------------------------
const host = process.env.HOST ?? '127.0.0.1';
server.on('error', (err) => {
  console.log(`server error: ${err.message}`);
  process.exitCode = 1;
});
server.listen(Number(process.env.PORT ?? 0), host);
await once(server, 'listening');
const { port } = server.address() as net.AddressInfo;

/** Connects a scripted user; resolves once the server has welcomed it. */
function join(name: string, onLine = (line: string) => {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    socket.on('error', (err) => console.log(`${name}: ${err.message}`));
    // (a reject after resolve is ignored)
    socket.on('close', () => reject(new Error(`${name} was disconnected`)));
    let welcomed = false;
    readline.createInterface({ input: socket }).on('line', (line) => {
      if (welcomed) {
        console.log(`${name.padStart(5)} <- ${line}`);
        onLine(line);
      } else if (line === `Welcome, ${name}!`) {
        welcomed = true;
        resolve(socket);
      }
    });
    socket.write(`${name}\n`);
  });
}

let goodbyes = 0;
let aliceHeard = (line: string) => {};
const alice = await join('alice', (line) => {
  if (line === '* bob left the chat') goodbyes++;
  aliceHeard(line);
});
/** Resolves when Alice receives exactly this line. */
const aliceHears = (expected: string) =>
  new Promise<void>((resolve) => {
    aliceHeard = (line) => {
      if (line === expected) resolve();
    };
  });

// A guest tries three bad names in one write: the framer splits them.
const guest = net.connect(port, host);
guest.on('error', (err) => console.log(`guest: ${err.message}`));
readline.createInterface({ input: guest }).on('line', (line) => {
  console.log(`guest <- ${line}`);
});
guest.end('x\nbob smith\nALICE\n');
await once(guest, 'close');

const bob = await join('bob');
const greeted = aliceHears('bob: Hi Alice, how are you?');
bob.write('Hi Alice, how are you?\n');
await greeted;

// Bob's connection breaks: resetAndDestroy() sends a TCP reset, so the
// server sees an 'error' (ECONNRESET) and then 'close'. Alice must be
// told only once.
const left = aliceHears('* bob left the chat');
bob.resetAndDestroy();
await left;
await new Promise((resolve) => setTimeout(resolve, 100)); // a second notice?
console.log(`alice was told ${goodbyes} time(s) that bob left`);

alice.end();
await once(alice, 'close');
server.close();
