// The reference chat server speaks CHAT-PROTOCOL.md; these tests pin that contract down.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TcpChatServer } from '../src/reference-servers/tcp-chat.ts';
import { TestClient } from '../src/grading-kit/test-client.ts';

let chat: TcpChatServer;
const clients: TestClient[] = [];

beforeEach(async () => {
  chat = new TcpChatServer();
  await chat.listen(0);
});
afterEach(async () => {
  clients.splice(0).forEach((c) => c.destroy());
  await chat.close();
});

/** A new connection, greeted. */
async function guest(label: string): Promise<TestClient> {
  const c = await TestClient.connect(chat.port, label);
  clients.push(c);
  await c.expectLine('Welcome to TCP Chat!');
  await c.expectLine('Please enter your username:');
  return c;
}

async function register(c: TestClient, name: string): Promise<TestClient> {
  await c.write(`${name}\n`);
  await c.expectLine(`Welcome, ${name}!`);
  await c.expectLine('Commands: /users, /whisper <user> <message>, /pm <user> <message>, /help, /quit');
  return c;
}

const join = async (name: string) => register(await guest(name), name);

/** The lines `c` receives before the answer to a /users it sends now (the server answers in order). */
async function linesBefore(c: TestClient): Promise<string[]> {
  const from = c.lines.length;
  await c.write('/users\n');
  await c.expectLine(/^Online users /);
  return c.lines.slice(from, -1);
}

describe('reference TCP chat server', () => {
  it('validates names: length, spaces, taken (case-insensitive), and allows a retry', async () => {
    await join('alice');
    const c = await TestClient.connect(chat.port, 'newcomer');
    clients.push(c);
    await c.write('a\n');
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await c.write('x'.repeat(21) + '\n');
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await c.write('bob smith\n');
    await c.expectLine('Error: username may not contain spaces');
    await c.write('ALICE\n');
    await c.expectLine('Error: username "ALICE" is already taken, try another:');
    await c.write('bob\tsmith\n');
    await c.expectLine('Error: username may not contain spaces');
    await c.write('bob\n');
    await c.expectLine('Welcome, bob!');
  });

  it('counts a name in characters (code points), not UTF-16 units', async () => {
    const c = await guest('rockets');
    await c.write('🚀\n'); // one character, two UTF-16 units
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await c.write(`${'🚀'.repeat(21)}\n`);
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await register(c, '🚀'.repeat(20)); // 20 characters, 40 UTF-16 units
  });

  it('takes a blank line before registration as a name attempt of 0 characters', async () => {
    const c = await guest('enter');
    await c.write('\n   \n');
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await register(c, 'enter');
  });

  it('checks a name\'s length before its spaces, quotes a taken name trimmed, counts code points, and takes a command as a name', async () => {
    await join('alice');
    const c = await guest('newcomer');
    await c.write('this name has spaces and is long\n');
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await c.write('  ALICE  \n');
    await c.expectLine('Error: username "ALICE" is already taken, try another:');
    await c.write(`${'👨\u200D👩\u200D👧'.repeat(5)}\n`); // 25 code points, 5 graphemes
    await c.expectLine('Error: username must be 2 to 20 characters long');
    await register(c, '/quit'); // before registration every line is a name attempt
  });

  it('shows names as registered, capitals kept, in notices, chat lines, whispers and /users', async () => {
    const alice = await join('Alice');
    const bob = await join('Bob');
    await alice.expectLine('* Bob joined the chat');
    await bob.write('hi\n');
    await alice.expectLine('Bob: hi');
    await bob.write('/whisper alice Psst\n');
    await alice.expectLine('[whisper from Bob]: Psst');
    await bob.expectLine('[whisper to Alice]: Psst');
    await bob.write('/users\n');
    await bob.expectLine('Online users (2): Alice, Bob');
    bob.end();
    await alice.expectLine('* Bob left the chat');
  });

  it('lists /users in registration order, not connection order, without those who left', async () => {
    const [ann, ben, cat, dan] = [await guest('ann'), await guest('ben'), await guest('cat'), await guest('dan')];
    await register(cat, 'cat');
    await register(dan, 'dan');
    await register(ann, 'ann');
    await register(ben, 'ben');
    dan.end();
    await ann.expectLine('* dan left the chat');
    await ann.write('/users\n');
    await ann.expectLine('Online users (3): cat, ann, ben');
    expect(chat.users()).toEqual(['cat', 'ann', 'ben']);
  });

  it('announces joins to others, broadcasts to others only, and lists users', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await alice.expectLine('* bob joined the chat');
    await bob.write('hello everyone\n');
    await alice.expectLine('bob: hello everyone');
    await bob.expectNoLine(/hello everyone/, 150, 'their own message');
    await alice.write('/USERS\n');
    await alice.expectLine('Online users (2): alice, bob');
  });

  it('frames by lines: split and merged writes', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await bob.writeInPieces('one message in pieces\nsecond\nthird\n', [4, 10, 25]);
    await alice.expectLine('bob: one message in pieces');
    await alice.expectLine('bob: second');
    await alice.expectLine('bob: third');
    const utf8 = Buffer.from('Grüße 🚀\n');
    await bob.writeInPieces(utf8, [3, 9, 11]); // inside ü, inside 🚀 twice
    await alice.expectLine('bob: Grüße 🚀');
  });

  it('trims a message at both ends and keeps the spaces inside it', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await bob.write('   two  spaces   \n');
    await alice.expectLine('bob: two  spaces');
  });

  it('whispers keep their case; errors for self, unknown user, and usage', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await alice.write('/whisper BOB Hi There, Bob\n');
    await bob.expectLine('[whisper from alice]: Hi There, Bob');
    await alice.expectLine('[whisper to bob]: Hi There, Bob');
    await alice.write('/pm alice hi\n');
    await alice.expectLine('Error: you cannot whisper to yourself');
    await alice.write('/pm carol hi\n');
    await alice.expectLine('Error: no user named "carol"');
    await alice.write('/whisper bob\n');
    await alice.expectLine('Error: usage: /whisper <user> <message>');
    await alice.write('/whisper nobody\n'); // the usage is checked before the user
    await alice.expectLine('Error: usage: /whisper <user> <message>');
    await alice.write('/whisper alice\n'); // and before "yourself"
    await alice.expectLine('Error: usage: /whisper <user> <message>');
    await alice.write('/whisper bo hi\n'); // the whole name, not a prefix
    await alice.expectLine('Error: no user named "bo"');
    await alice.write('/whisper bob   two  spaces\n'); // the spaces after the user are not part of the message
    await bob.expectLine('[whisper from alice]: two  spaces');
  });

  it('ends a line only at "\\n": a "\\r" elsewhere is part of it', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await bob.write('one\rtwo\r\n');
    await alice.expectLine('bob: one\rtwo');
  });

  it('handles /help, unknown commands, /quit and one leave notice per departure', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await alice.write('/help\n');
    await alice.expectLine('Commands:');
    const help = await linesBefore(alice);
    expect(help.map((l) => l.split(' - ')[0])).toEqual(['  /users', '  /whisper <user> <message>', '  /pm <user> <message>', '  /help', '  /quit']);
    expect(help.every((l) => /^  \/\S.* - \S/.test(l))).toBe(true);
    await alice.write('/Dance now\n'); // the command word as typed, without the rest
    await alice.expectLine('Error: unknown command /Dance, type /help for the list');
    await bob.write('/quit\n');
    await bob.expectLine('Goodbye!');
    await bob.expectClosed();
    await alice.expectLine('* bob left the chat');
    await alice.expectNoLine(/left the chat/, 150, 'a second leave notice');
    const carol = await join('carol');
    carol.socket.resetAndDestroy();
    await alice.expectLine('* carol left the chat');
    await alice.expectNoLine(/left the chat/, 150, 'a second leave notice');
    expect(chat.seen.filter((e) => e.type === 'left' && e.user === 'carol')).toHaveLength(1);
  });

  it('ignores what follows /quit in the same write', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await bob.write('/quit\nstill here?\n');
    await bob.expectLine('Goodbye!');
    const from = alice.lines.length;
    await alice.expectLine('* bob left the chat');
    expect([...alice.lines.slice(from), ...(await linesBefore(alice))].filter((l) => l.includes('still here'))).toEqual([]);
  });

  it('takes a line of exactly 4096 bytes: the limit counts bytes', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await bob.writeInPieces(`${'é'.repeat(2048)}\n`, [1001, 3001]);
    await alice.expectLine(`bob: ${'é'.repeat(2048)}`);
  });

  it('refuses a line over 4096 bytes (2049 × "é": bytes, not characters) and closes the connection', async () => {
    const alice = await join('alice');
    await alice.write(`${'é'.repeat(2049)}\n`);
    await alice.expectLine('Error: line too long');
    await alice.expectClosed();
  });

  it('refuses a line as soon as more than 4096 bytes of it have arrived, without waiting for its newline', async () => {
    const alice = await join('alice');
    await alice.writeInPieces('x'.repeat(4097), 3);
    await alice.expectLine('Error: line too long');
    await alice.expectClosed();
    const bob = await join('bob');
    // The 4097th byte is the first of an "é": it counts although it is not a character yet.
    await bob.writeInPieces(Buffer.concat([Buffer.from('x'.repeat(4096)), Buffer.from('é').subarray(0, 1)]), [4096]);
    await bob.expectLine('Error: line too long');
  });

  it('counts the "\\r" of "\\r\\n" in the limit, and tells the others that a user dropped for a long line left', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await bob.write(`${'x'.repeat(4096)}\r\n`); // 4097 bytes before the "\n"
    await bob.expectLine('Error: line too long');
    await bob.expectClosed();
    await alice.expectLine('* bob left the chat');
  });
});

describe('reference TCP chat server, shared (not observing)', () => {
  it('keeps no history of events, however long it runs, but still reports them as they happen', async () => {
    const shared = new TcpChatServer(undefined, {}, false);
    const port = await shared.listen(0);
    const reported: string[] = [];
    shared.observer.on('event', (e: { type: string }) => reported.push(e.type));
    const c = await TestClient.connect(port, 'ann');
    try {
      await c.expectLine('Please enter your username:');
      await c.write('ann\n');
      await c.expectLine('Welcome, ann!');
      expect(reported).toEqual(['connect', 'line', 'registered']);
      expect(shared.seen).toEqual([]);
    } finally {
      c.destroy();
      await shared.close();
    }
  });
});
