// The complete TCP chat server for the course protocol, then a short
// scripted demo.
import net from 'node:net';
import readline from 'node:readline';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';

const MAX_LINE_BYTES = 4096;
// How much output may wait for one client before we give up on it:
const MAX_QUEUED_BYTES = 256 * 1024;

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

const HELP = [
  'Commands:',
  '  /users - list online users',
  '  /whisper <user> <message> - private message',
  '  /pm <user> <message> - same as /whisper',
  '  /help - this list',
  '  /quit - leave the chat',
];

/**
 * "/whisper bob Hi There" -> ["/whisper", "bob Hi There"].
 * The rest keeps its case and inner spacing.
 */
function splitFirstWord(text: string): [string, string] {
  const space = text.search(/\s/);
  if (space === -1) return [text, ''];
  return [text.slice(0, space), text.slice(space).trimStart()];
}

class ChatServer {
  readonly server: net.Server;
  // every open connection, by id:
  readonly #clients = new Map<string, Client>();
  // registered users by lower-case name, in the order they joined:
  readonly #users = new Map<string, Client>();

  constructor() {
    this.server = net.createServer((socket) => this.#accept(socket));
  }

  #accept(socket: net.Socket): void {
    const client: Client = { id: randomUUID(), socket, name: null };
    this.#clients.set(client.id, client);
    const lines = new LineFramer(MAX_LINE_BYTES);
    // Chat lines are small and someone is waiting for each one: send them
    // now, instead of letting the OS hold a small write back while an
    // earlier one is unacknowledged (Nagle's algorithm).
    socket.setNoDelay(true);

    socket.on('data', (chunk: Buffer) => {
      if (!socket.writable) return; // we are closing: ignore the rest
      let received: string[];
      try {
        received = lines.push(chunk);
      } catch (err) {
        if (!(err instanceof LineTooLongError)) throw err;
        this.#send(client, 'Error: line too long');
        socket.end();
        return;
      }
      for (const line of received) {
        if (!socket.writable) break; // e.g. more lines after /quit
        this.#handleLine(client, line);
      }
    });
    // A failing connection emits 'error' and then 'close'. Clean up in
    // 'close' only: it comes exactly once, whatever the reason, so "left
    // the chat" is announced once.
    socket.on('error', (err) => {
      console.log(`server: connection ${client.id.slice(0, 8)}: ${err.message}`);
    });
    socket.on('close', () => this.#remove(client));

    this.#send(client, 'Welcome to TCP Chat!');
    this.#send(client, 'Please enter your username:');
  }

  #handleLine(client: Client, line: string): void {
    const text = line.trim();
    if (client.name === null) return this.#register(client, text);
    if (text === '') return; // blank lines are ignored
    if (text.startsWith('/')) return this.#command(client, text);
    this.#broadcast(`${client.name}: ${text}`, client);
  }

  #register(client: Client, name: string): void {
    const length = [...name].length; // characters, not UTF-16 units
    if (length < 2 || length > 20) {
      this.#send(client, 'Error: username must be 2 to 20 characters long');
    } else if (/\s/.test(name)) {
      this.#send(client, 'Error: username may not contain spaces');
    } else if (this.#users.has(name.toLowerCase())) {
      this.#send(
        client,
        `Error: username "${name}" is already taken, try another:`,
      );
    } else {
      client.name = name;
      this.#users.set(name.toLowerCase(), client);
      this.#send(client, `Welcome, ${name}!`);
      this.#send(
        client,
        'Commands: /users, /whisper <user> <message>, ' +
          '/pm <user> <message>, /help, /quit',
      );
      this.#broadcast(`* ${name} joined the chat`, client);
    }
  }

  #command(client: Client, text: string): void {
    const [word, rest] = splitFirstWord(text);
    switch (word.toLowerCase()) {
      case '/users': {
        const names = [...this.#users.values()].map((u) => u.name);
        const list = names.join(', ');
        this.#send(client, `Online users (${names.length}): ${list}`);
        break;
      }
      case '/help':
        for (const line of HELP) this.#send(client, line);
        break;
      case '/whisper':
      case '/pm':
        this.#whisper(client, rest);
        break;
      case '/quit':
        this.#send(client, 'Goodbye!');
        client.socket.end(); // flush what is queued, then close
        break;
      default:
        this.#send(
          client,
          `Error: unknown command ${word}, type /help for the list`,
        );
    }
  }

  #whisper(from: Client, args: string): void {
    const [targetName, message] = splitFirstWord(args);
    if (message === '') {
      return this.#send(from, 'Error: usage: /whisper <user> <message>');
    }
    const target = this.#users.get(targetName.toLowerCase());
    if (!target) {
      return this.#send(from, `Error: no user named "${targetName}"`);
    }
    if (target === from) {
      return this.#send(from, 'Error: you cannot whisper to yourself');
    }
    this.#send(target, `[whisper from ${from.name}]: ${message}`);
    this.#send(from, `[whisper to ${target.name}]: ${message}`);
  }

  #remove(client: Client): void {
    this.#clients.delete(client.id);
    if (client.name === null) return; // never registered: nobody to tell
    this.#users.delete(client.name.toLowerCase());
    this.#broadcast(`* ${client.name} left the chat`, client);
  }

  #broadcast(line: string, except: Client): void {
    for (const user of this.#users.values()) {
      if (user !== except) this.#send(user, line);
    }
  }

  #send(client: Client, line: string): void {
    const { socket } = client;
    if (!socket.writable) return;
    socket.write(line + '\n');
    // write() queues whatever the OS cannot take yet. A client that
    // stops reading must not make us hold its messages forever: past
    // a limit, drop that one client.
    if (socket.writableLength > MAX_QUEUED_BYTES) {
      const who = client.name ?? client.id.slice(0, 8);
      console.log(`server: ${who} is not reading, dropping it`);
      socket.destroy();
    }
  }

  /** Stops accepting, asks every client to close; resolves when all are gone. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
    });
    for (const { socket } of this.#clients.values()) socket.end();
    return closed;
  }
}

// --- demo: the server on PORT, and two scripted users ------------------
const host = process.env.HOST ?? '127.0.0.1';
const chat = new ChatServer();
chat.server.on('error', (err) => {
  console.log(`server error: ${err.message}`);
  process.exitCode = 1;
});
chat.server.listen(Number(process.env.PORT ?? 0), host);
await once(chat.server, 'listening');
const { port } = chat.server.address() as net.AddressInfo;
console.log(`server: listening on ${host}:${port}`);

/** A scripted chat user: prints every line it gets, can wait for one. */
class DemoUser {
  readonly name: string;
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  readonly #unread: string[] = [];
  #check: (() => void) | null = null;

  constructor(name: string) {
    this.name = name;
    this.socket = net.connect(port, host);
    this.socket.on('error', (err) => console.log(`${name}: ${err.message}`));
    this.closed = new Promise((resolve) => {
      this.socket.once('close', () => resolve());
    });
    readline.createInterface({ input: this.socket }).on('line', (line) => {
      console.log(`${name.padStart(5)} <- ${line}`);
      this.#unread.push(line);
      this.#check?.();
    });
  }

  say(line: string): void {
    console.log(`${this.name.padStart(5)} -> ${line}`);
    this.socket.write(line + '\n');
  }

  /** Resolves once a line containing `text` has arrived. */
  waitFor(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name} never received "${text}"`));
      }, 1000);
      this.#check = () => {
        const i = this.#unread.findIndex((line) => line.includes(text));
        if (i === -1) return;
        this.#unread.splice(0, i + 1); // this line and the ones before it
        this.#check = null;
        clearTimeout(timer);
        resolve();
      };
      this.#check();
    });
  }
}

const alice = new DemoUser('alice');
await alice.waitFor('Please enter your username:');
alice.say('alice');
await alice.waitFor('Commands:');

const bob = new DemoUser('bob');
await bob.waitFor('Please enter your username:');
bob.say('ALICE'); // names are compared case-insensitively
await bob.waitFor('already taken');
bob.say('bob');
await alice.waitFor('* bob joined the chat');

alice.say('Hi bob!');
await bob.waitFor('alice: Hi bob!');
bob.say('/users');
await bob.waitFor('Online users');
bob.say('/whisper ALICE Meet me at the Café at Noon'); // keeps its case
await alice.waitFor('[whisper from bob]');
alice.say('/dance');
await alice.waitFor('unknown command');
bob.say('/quit');
await bob.closed;
await alice.waitFor('* bob left the chat');
alice.say('/QUIT');
await alice.closed;

await chat.close();
console.log('server: closed');
