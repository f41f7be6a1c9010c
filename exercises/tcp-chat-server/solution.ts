// The course's TCP chat server: text lines over TCP, one user per connection.
import net from 'node:net';

const PORT = Number(process.env.PORT);
const MAX_LINE_BYTES = 4096;
const NEWLINE = 0x0a; // '\n'
const CARRIAGE_RETURN = 0x0d; // '\r'

class LineTooLongError extends Error {}

// TCP is a byte stream: one 'data' event may hold part of a line, several lines, or half of a
// multi-byte character. This turns chunks back into lines (the framer from the previous exercise,
// with the length limit). It keeps bytes until a line is complete, so a character cut between
// chunks is decoded whole, and the limit counts every byte that has arrived: the first bytes of a
// character still waiting for the rest, and a "\r" before the "\n".
class LineFramer {
  private rest = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let newline = data.indexOf(NEWLINE); newline !== -1; newline = data.indexOf(NEWLINE, start)) {
      if (newline - start > MAX_LINE_BYTES) throw new LineTooLongError();
      const end = newline > start && data[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      lines.push(data.toString('utf8', start, end));
      start = newline + 1;
    }
    // A client that never sends "\n" must not make us buffer without limit.
    if (data.length - start > MAX_LINE_BYTES) throw new LineTooLongError();
    // A copy, so the rest of a large chunk does not keep all of it alive.
    this.rest = Buffer.from(data.subarray(start));
    return lines;
  }
}

interface Client {
  socket: net.Socket;
  /** null until the client has chosen a valid name. */
  name: string | null;
}

const COMMANDS = 'Commands: /users, /whisper <user> <message>, /pm <user> <message>, /help, /quit';
const HELP = [
  'Commands:',
  '  /users - list online users',
  '  /whisper <user> <message> - private message',
  '  /pm <user> <message> - same as /whisper',
  '  /help - this list',
  '  /quit - leave the chat',
];

// Registered users by lower-cased name. A Map iterates in insertion order: registration order.
const users = new Map<string, Client>();

function send(client: Client, line: string): void {
  // After /quit (or a broken connection) there is nobody to write to any more.
  if (client.socket.writable) client.socket.write(`${line}\n`);
}

/** Sends `line` to every registered user except `except`. */
function broadcast(line: string, except?: Client): void {
  for (const user of users.values()) if (user !== except) send(user, line);
}

function register(client: Client, name: string): void {
  const characters = [...name].length; // code points: name.length would count an emoji as 2 (UTF-16 units)
  if (characters < 2 || characters > 20) return send(client, 'Error: username must be 2 to 20 characters long');
  if (/\s/.test(name)) return send(client, 'Error: username may not contain spaces');
  if (users.has(name.toLowerCase())) return send(client, `Error: username "${name}" is already taken, try another:`);
  client.name = name;
  users.set(name.toLowerCase(), client);
  send(client, `Welcome, ${name}!`);
  send(client, COMMANDS);
  broadcast(`* ${name} joined the chat`, client);
}

function whisper(client: Client, args: string): void {
  // "/whisper Bob Hi There": the first word is the user, everything after it is the message,
  // exactly as typed. Only the user name is compared case-insensitively.
  const [target = ''] = args.split(/\s+/);
  const message = args.slice(target.length).trim();
  if (!target || !message) return send(client, 'Error: usage: /whisper <user> <message>');
  const recipient = users.get(target.toLowerCase());
  if (!recipient) return send(client, `Error: no user named "${target}"`);
  if (recipient === client) return send(client, 'Error: you cannot whisper to yourself');
  send(recipient, `[whisper from ${client.name}]: ${message}`);
  send(client, `[whisper to ${recipient.name}]: ${message}`);
}

function handle(client: Client, line: string): void {
  const text = line.trim();
  if (!text) return; // blank lines are ignored
  if (!text.startsWith('/')) return broadcast(`${client.name}: ${text}`, client);
  // Lower-case only the command word: the rest of the line keeps its case.
  const [word] = text.split(/\s+/);
  const args = text.slice(word.length).trim();
  switch (word.toLowerCase()) {
    case '/users': {
      const names = [...users.values()].map((u) => u.name);
      return send(client, `Online users (${names.length}): ${names.join(', ')}`);
    }
    case '/help':
      return HELP.forEach((l) => send(client, l));
    case '/whisper':
    case '/pm':
      return whisper(client, args);
    case '/quit':
      send(client, 'Goodbye!');
      client.socket.end(); // sends what is queued, then closes; 'close' below does the rest
      return;
    default:
      return send(client, `Error: unknown command ${word}, type /help for the list`);
  }
}

/** Runs once per connection, from 'close', whatever ended it (quit, close, reset). */
function leave(client: Client): void {
  if (client.name === null) return; // never registered: nobody knows about it
  users.delete(client.name.toLowerCase());
  broadcast(`* ${client.name} left the chat`);
}

const server = net.createServer((socket) => {
  // Chat lines are small and interactive: send each one at once, instead of letting Nagle's
  // algorithm hold a small write back until the previous one is acknowledged.
  socket.setNoDelay(true);
  const client: Client = { socket, name: null };
  const framer = new LineFramer();
  send(client, 'Welcome to TCP Chat!');
  send(client, 'Please enter your username:');

  socket.on('data', (chunk: Buffer) => {
    let lines: string[];
    try {
      lines = framer.push(chunk);
    } catch (err) {
      if (!(err instanceof LineTooLongError)) throw err;
      send(client, 'Error: line too long');
      socket.end();
      return;
    }
    for (const line of lines) {
      if (!socket.writable) return; // the client quit earlier in this chunk
      if (client.name === null) register(client, line.trim());
      else handle(client, line);
    }
  });

  // 'error' (e.g. ECONNRESET) is always followed by 'close'. Without this listener the error
  // would be thrown and crash the server for everyone.
  socket.on('error', (err) => console.error(`${client.name ?? 'a client'}: ${err.message}`));
  // 'close' comes exactly once per connection, so the leave notice goes out exactly once.
  socket.on('close', () => leave(client));
});

server.on('error', (err) => {
  console.error(`server error: ${err.message}`);
  process.exitCode = 1;
});

server.listen(PORT, () => console.log(`chat server listening on port ${PORT}`));
