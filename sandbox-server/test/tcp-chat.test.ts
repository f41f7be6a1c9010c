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

async function join(name: string): Promise<TestClient> {
  const c = await TestClient.connect(chat.port, name);
  clients.push(c);
  await c.expectLine('Welcome to TCP Chat!');
  await c.expectLine('Please enter your username:');
  await c.write(`${name}\n`);
  await c.expectLine(`Welcome, ${name}!`);
  await c.expectLine(/^Commands: /);
  return c;
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
    await c.write('bob\n');
    await c.expectLine('Welcome, bob!');
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
  });

  it('handles /help, unknown commands, /quit and one leave notice per departure', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await alice.write('/help\n');
    await alice.expectLine('Commands:');
    await alice.expectLine(/\/whisper <user> <message>/);
    await alice.write('/dance\n');
    await alice.expectLine('Error: unknown command /dance, type /help for the list');
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

  it('refuses a line over 4096 bytes and closes the connection', async () => {
    const alice = await join('alice');
    await alice.write('x'.repeat(5000));
    await alice.expectLine('Error: line too long');
    await alice.expectClosed();
  });
});
