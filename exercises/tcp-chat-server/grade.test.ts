import { afterEach, describe, it as vitestIt } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeExit, explainFailures, GradingFailure, learnerServer, oncePerGrade, type TestClient } from '../../sandbox-server/src/grading-kit/index.ts';

/** How long to wait for a line a correct server sends at once (a wrong one makes us wait this long). */
const W = 1000;
const COMMANDS = 'Commands: /users, /whisper <user> <message>, /pm <user> <message>, /help, /quit';
const STREAM =
  "One 'data' event is not one message: TCP is a byte stream, so a chunk may hold part of a line or several lines. " +
  'Frame by newlines: keep the unfinished rest of a line until its "\\n" arrives, and handle every complete line in a chunk.';

// The test file is loaded once and shared by every grade: per-grade state lives in oncePerGrade.
/** This test's connections, closed when it ends. */
const opened = () => oncePerGrade('opened-clients', (): TestClient[] => []);
/** Whether a failure in this grade has already shown why the server stopped. */
const crash = () => oncePerGrade('crash-shown', () => ({ shown: false }));

/** A new connection to the learner's server, closed when the test ends. */
async function connect(label: string): Promise<TestClient> {
  const client = await (await learnerServer()).connect(label);
  opened().push(client);
  return client;
}

/** Reads the two greeting lines. */
async function greeted(client: TestClient): Promise<void> {
  await client.expectLine('Welcome to TCP Chat!', { within: W, what: 'the greeting "Welcome to TCP Chat!" right after connecting' });
  await client.expectLine('Please enter your username:', { within: W, what: 'the prompt "Please enter your username:" right after connecting' });
}

/** Registers `name` on a greeted connection; returns once its welcome has arrived. */
async function register(client: TestClient, name: string): Promise<TestClient> {
  await client.write(`${name}\n`);
  await client.expectLine(`Welcome, ${name}!`, { within: W, what: `"Welcome, ${name}!" after sending the name ${JSON.stringify(`${name}\n`)}` });
  await client.expectLine(COMMANDS, { within: W, what: `the command list ${JSON.stringify(COMMANDS)} after "Welcome, ${name}!"` });
  return client;
}

/** Connects and registers `name`; returns the client once its welcome has arrived. */
async function join(name: string): Promise<TestClient> {
  const client = await connect(name);
  await greeted(client);
  return register(client, name);
}

/** Waits for `expected` on `to`; if a line arrived that differs from it only in case, the failure says so. */
async function expectExact(to: TestClient, expected: string | RegExp, what: string): Promise<string> {
  const seenFrom = to.lines.length;
  try {
    return await to.expectLine(expected, { within: W, what });
  } catch (err) {
    const recased = typeof expected === 'string' ? to.lines.slice(seenFrom).find((l) => l !== expected && l.toLowerCase() === expected.toLowerCase()) : undefined;
    if (err instanceof GradingFailure && recased !== undefined) {
      throw new GradingFailure(
        `${err.message}. ${JSON.stringify(recased)} is that line with the case of its letters changed: compare command words and user names case-insensitively, ` +
          'but show names as they registered and repeat text exactly as typed.',
      );
    }
    throw err;
  }
}

/** Sends `line` and waits for `expected` (a reply to the sender or a line to another client). */
async function sendAndExpect(from: TestClient, line: string, to: TestClient, expected: string | RegExp, note = ''): Promise<string> {
  await from.write(`${line}\n`);
  const shown = typeof expected === 'string' ? JSON.stringify(expected) : `a line matching ${expected}`;
  return expectExact(to, expected, `${shown} after ${from.label} sent ${JSON.stringify(`${line}\n`)}${note}`);
}

/**
 * Sends /users from `client` and returns the lines it received before the answer. The server
 * handles a connection's lines in order, so these are all it sent `client` before handling /users:
 * a way to check that something was NOT sent, without waiting and guessing how long.
 */
async function linesBefore(client: TestClient, after: string): Promise<string[]> {
  const from = client.lines.length;
  await client.write('/users\n');
  await client.expectLine(/^Online users \(/, { within: W, what: `the answer to /users, which the test sends to see everything your server sent ${client.label} ${after}` });
  return client.lines.slice(from, -1);
}

function expectNone(lines: string[], match: RegExp, client: TestClient, what: string): void {
  const bad = lines.find((l) => match.test(l));
  if (bad !== undefined) throw new GradingFailure(`${client.label} should not receive ${what}, but got ${JSON.stringify(bad)}`);
}

/** When a test fails because the server crashed, say so (and why, when the reason is a classic). */
async function explainCrash(err: unknown): Promise<unknown> {
  if (!(err instanceof GradingFailure)) return err;
  const server = await learnerServer().catch(() => undefined);
  if (!server) return err;
  // A crash shows first as a closed or refused connection; the process exit is reported a moment later.
  if (/closed|ECONNREFUSED|ECONNRESET/.test(err.message)) await Promise.race([server.process.exited, sleep(300)]);
  if (!server.process.hasExited) {
    if (!/could not connect to your server.*ECONNREFUSED/.test(err.message)) return err;
    if (crash().shown) return new GradingFailure('your server no longer accepts connections: it stopped listening during an earlier test (the first failing test says why)');
    crash().shown = true;
    return new GradingFailure(
      `${err.message}. Your server's process is still running, but connecting to its port was refused: it has stopped listening. ` +
        'server.close() does that (it stops accepting new connections, the open ones go on); one client\'s broken connection must not close the server for everyone.',
    );
  }
  if (crash().shown) {
    return err.message.startsWith('your server is no longer running') ? new GradingFailure('your server is no longer running: it stopped during an earlier test (the first failing test says why)') : err;
  }
  crash().shown = true;
  const stderr = server.process.stderr;
  // Node names the object whose 'error' event nobody listened to ("Emitted 'error' event on Socket
  // instance at:"); it may be a socket, or something that re-emits a socket's errors (a readline Interface).
  const emitter = /Emitted 'error' event on (.+?) instance/.exec(stderr)?.[1];
  const hint =
    emitter && /EPIPE|ECONNRESET/.test(stderr)
      ? ` A client's connection broke (EPIPE or ECONNRESET: clients do hang up abruptly), and your server's output says "Emitted 'error' event on ${emitter} instance": ` +
        `that ${emitter} had no 'error' listener, so the error crashed the whole server. Listen for 'error' on every socket` +
        `${emitter === 'Socket' ? '' : `, and on the ${emitter} too (it emits the errors of the stream it reads)`}.`
      : /Unhandled 'error' event/.test(stderr) && /EPIPE|ECONNRESET/.test(stderr)
        ? " A client's connection broke (EPIPE or ECONNRESET) and the 'error' event it caused had no listener (your server's output says \"Unhandled 'error' event\"), so it crashed the whole server."
        : '';
  if (err.message.startsWith('your server is no longer running')) return new GradingFailure(err.message + hint);
  const exit = describeExit(server.process, await server.process.exited).replace(/^your program/, 'your server');
  return new GradingFailure(`${err.message}. Meanwhile ${exit}${hint}`);
}

/** vitest's it(), with crash explanations added to failures. */
function it(name: string, body: () => Promise<void>): void {
  vitestIt(name, explainFailures(explainCrash)(body));
}

/** Adds the lesson to a failure of a test about split or merged writes. */
async function becauseStream<T>(body: () => Promise<T>, lesson = STREAM): Promise<T> {
  return explained(body, () => lesson);
}

/** Adds to a failure whatever `lessonFor` makes of what was received (nothing when it returns undefined). */
async function explained<T>(body: () => Promise<T>, lessonFor: () => string | undefined): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const lesson = err instanceof GradingFailure ? lessonFor() : undefined;
    if (lesson) throw new GradingFailure(`${err instanceof Error ? err.message : String(err)}. ${lesson}`);
    throw err;
  }
}

/** The decoding lesson, when a line `client` received since line `from` holds a "\uFFFD". */
function brokenCharacter(client: TestClient, from: number): string | undefined {
  const broken = client.lines.slice(from).find((l) => l.includes('\uFFFD'));
  if (broken === undefined) return undefined;
  return (
    `${client.label} received ${JSON.stringify(broken.length > 80 ? `${broken.slice(0, 80)}…` : broken)}: "\uFFFD" is what is left of a multi-byte character cut between two chunks and decoded one chunk at a time. ` +
    "Keep the bytes until the line is complete, or decode with a StringDecoder (or socket.setEncoding('utf8')), not chunk.toString()."
  );
}

describe('TCP chat server', () => {
  afterEach(() => {
    // end(), not destroy(): closing a socket with bytes still unread (a line the test did not wait
    // for, such as the command list after "Welcome") resets the connection, which a server without
    // an 'error' listener would die of in whatever test comes next. Resets are one test's business.
    for (const client of opened().splice(0)) client.end();
  });

  describe('registration', () => {
    it('greets a new connection with "Welcome to TCP Chat!" and "Please enter your username:"', async () => {
      const client = await connect('a new client');
      const first = await client.readLine(W);
      const second = await client.readLine(W);
      const got = [first, second].filter((l) => l !== undefined);
      const closed = client.isClosed ? ' (then the connection closed)' : '';
      if (first !== 'Welcome to TCP Chat!' || second !== 'Please enter your username:') {
        throw new GradingFailure(
          `right after connecting, a client expected the lines "Welcome to TCP Chat!" and "Please enter your username:", each ending in "\\n", ` +
            `but got ${got.length ? got.map((l) => JSON.stringify(l)).join(', ') : 'no complete line'}${client.received.length && !got.length ? ` (bytes: ${JSON.stringify(client.received.toString())})` : ''}${closed}`,
        );
      }
    });

    it('welcomes a valid name with "Welcome, <name>!" and the command list (spaces around the name are trimmed)', async () => {
      const client = await connect('ada');
      await greeted(client);
      await sendAndExpect(client, '  ada  ', client, 'Welcome, ada!');
      await client.expectLine(COMMANDS, { within: W, what: `the command list ${JSON.stringify(COMMANDS)} right after "Welcome, ada!"` });
    });

    it('rejects a name shorter than 2 or longer than 20 characters, then accepts a retry', async () => {
      const client = await connect('a client choosing a name');
      await greeted(client);
      const tooLong = 'abcdefghijklmnopqrstu'; // 21
      for (const name of ['x', tooLong]) {
        await sendAndExpect(client, name, client, 'Error: username must be 2 to 20 characters long');
      }
      await sendAndExpect(client, 'this name has spaces and is long', client, 'Error: username must be 2 to 20 characters long', ' (it has spaces too, but the length is checked first)');
      await sendAndExpect(client, 'twenty_characters_ok', client, 'Welcome, twenty_characters_ok!', ' (20 characters is allowed; after an error the client may simply try again)');
    });

    it('counts a name in code points, not UTF-16 units or graphemes: "🚀" is too short, 21 are too many, 20 are fine, 5 × "👨‍👩‍👧" are 25', async () => {
      const client = await connect('a client choosing an emoji name');
      await greeted(client);
      const why = ': count characters with [...name].length; name.length counts UTF-16 units, 2 for each emoji';
      await sendAndExpect(client, '🚀', client, 'Error: username must be 2 to 20 characters long', ` ("🚀" is one character${why})`);
      await sendAndExpect(client, '🚀'.repeat(21), client, 'Error: username must be 2 to 20 characters long', ' (21 characters)');
      const family = '👨\u200D👩\u200D👧'; // three people joined by two zero-width joiners: 5 code points, one picture
      await sendAndExpect(
        client,
        family.repeat(5),
        client,
        'Error: username must be 2 to 20 characters long',
        ` (each "${family}" is 5 code points, so this name is 25 characters as [...name].length counts them, although it shows as 5 pictures: the rule counts code points, not graphemes as Intl.Segmenter does)`,
      );
      await sendAndExpect(client, '🚀'.repeat(20), client, `Welcome, ${'🚀'.repeat(20)}!`, ` (20 characters is allowed${why})`);
    });

    it('takes every line before registration as a name attempt: a blank line is 0 characters (too short), "/quit" is a name', async () => {
      const client = await connect('a client pressing Enter');
      await greeted(client);
      const why = ' (before registration every line is a name attempt, a blank one too)';
      await sendAndExpect(client, '', client, 'Error: username must be 2 to 20 characters long', why);
      await sendAndExpect(client, '   ', client, 'Error: username must be 2 to 20 characters long', ' (the spaces around a name are trimmed, which leaves 0 characters)');
      await sendAndExpect(
        client,
        '/quit',
        client,
        'Welcome, /quit!',
        ' (before registration every line is a name attempt, one that looks like a command too: "/quit" is 5 characters without whitespace, a valid name)',
      );
    });

    it('rejects a name with whitespace in it (a space, a tab), then accepts a retry', async () => {
      const client = await connect('a client choosing a name');
      await greeted(client);
      await sendAndExpect(client, 'bob smith', client, 'Error: username may not contain spaces');
      await sendAndExpect(client, 'bob\tsmith', client, 'Error: username may not contain spaces', ' (a tab is whitespace too)');
      await sendAndExpect(client, 'bob_smith', client, 'Welcome, bob_smith!', ' (after an error the client may simply try again)');
    });

    it('rejects a name already taken, compared case-insensitively, then accepts another', async () => {
      await join('cleo');
      const client = await connect('second client');
      await greeted(client);
      await sendAndExpect(client, 'CLEO', client, 'Error: username "CLEO" is already taken, try another:', ' ("cleo" is connected: names are compared case-insensitively)');
      await sendAndExpect(client, '  Cleo  ', client, 'Error: username "Cleo" is already taken, try another:', ' (the error quotes the name as sent, trimmed)');
      await sendAndExpect(client, 'cleo2', client, 'Welcome, cleo2!', ' (after an error the client may simply try again)');
    });

    it('frees a name when its user leaves', async () => {
      const leaving = await join('dora');
      const watcher = await join('dora_watcher');
      leaving.end();
      await watcher.expectLine('* dora left the chat', { within: W, what: '"* dora left the chat" after dora closed her connection' });
      const client = await connect('new client');
      await greeted(client);
      await sendAndExpect(client, 'dora', client, 'Welcome, dora!', ' (the first "dora" has left, so the name is free again)');
    });
  });

  describe('chatting', () => {
    it('tells the others "* <name> joined the chat", but not the newcomer', async () => {
      const ed = await join('ed');
      const fay = await join('Fay');
      await expectExact(ed, '* Fay joined the chat', '"* Fay joined the chat" after Fay registered (the name as registered, capital kept)');
      expectNone(await linesBefore(fay, 'after registering'), /joined the chat/, fay, 'a join notice about herself');
    });

    it('sends a message to every other user as "<name>: <message>", and not back to the sender', async () => {
      const gus = await join('Gus');
      const hal = await join('hal');
      const ivy = await join('ivy');
      await sendAndExpect(gus, '  Hello,  everyone!  ', hal, 'Gus: Hello,  everyone!', ' (a message is trimmed at both ends; the spaces inside it stay as sent; the name is shown as registered)');
      await expectExact(ivy, 'Gus: Hello,  everyone!', '"Gus: Hello,  everyone!" after Gus sent "  Hello,  everyone!  \\n" (every other user gets it)');
      expectNone(await linesBefore(gus, 'after sending "  Hello,  everyone!  "'), /^gus: /i, gus, 'his own message back');
    });

    it('ignores blank lines', async () => {
      const jo = await join('jo');
      const kai = await join('kai');
      await jo.write('\n');
      await jo.write('   \n');
      const line = await sendAndExpect(jo, 'after two blank lines', kai, /^jo: /);
      if (line !== 'jo: after two blank lines') {
        throw new GradingFailure(`jo sent "\\n", "   \\n" and "after two blank lines\\n"; kai should get only "jo: after two blank lines", but first got ${JSON.stringify(line)}: blank lines are ignored`);
      }
    });

    it('answers /users with "Online users (<count>): <names in registration order>", not connection order', async () => {
      // Capitals, to see that /users shows the names as registered (not lower-cased lookup keys).
      const connected = ['Lea', 'max', 'Nia'];
      const registered = ['Nia', 'Lea', 'max'];
      const clients = new Map<string, TestClient>();
      for (const name of connected) {
        const client = await connect(name);
        await greeted(client);
        clients.set(name, client);
      }
      for (const name of registered) await register(clients.get(name)!, name);
      const asker = clients.get('max')!;
      const expected = `Online users (3): ${registered.join(', ')}`;
      // Clients of earlier tests were closed just before this one: give your server a moment to see it.
      let line = '';
      for (let attempt = 0; attempt < 10; attempt++) {
        line = await sendAndExpect(asker, '/users', asker, /^Online users \(/);
        if (line === expected) return;
        await sleep(50);
      }
      const listed = line.replace(/^Online users \(\d+\): /, '');
      const count = /^Online users \((\d+)\): /.exec(line)?.[1];
      const [inOrder, inConnectionOrder] = [registered.join(', '), connected.join(', ')];
      /** Names that differ from `names` only in the case of their letters. */
      const recased = (names: string) => listed !== names && listed.toLowerCase() === names.toLowerCase();
      const hints = [
        count !== undefined && Number(count) !== registered.length
          ? ` The count is ${count}, but ${registered.length} users are online, max (the one asking) included: it is the number of names in the list.`
          : '',
        recased(inOrder) || recased(inConnectionOrder)
          ? ' The names lost their capitals: list the names as they registered (the lower-cased name is a key for looking users up, not for showing them).'
          : listed === inConnectionOrder
            ? ' That is the order in which they connected: /users lists users in the order they registered (a Map filled when a name is accepted iterates in that order).'
            : registered.every((n) => listed.split(', ').includes(n)) && listed !== inOrder
              ? ' Users that have left must be removed, and the order is the order in which they registered.'
              : '',
      ];
      const hint = hints.join('');
      throw new GradingFailure(
        `Lea, max and Nia connected in that order and registered as Nia, Lea, max; with only them online, max sent "/users\\n" and expected ${JSON.stringify(expected)}, but got ${JSON.stringify(line)}.${hint}`,
      );
    });

    it('answers /help with "Commands:" and one line per command, "  <command> - <description>", in order', async () => {
      const oz = await join('oz');
      await sendAndExpect(oz, '/help', oz, 'Commands:');
      const help = await linesBefore(oz, 'after "Commands:"');
      const commands = ['/users', '/whisper <user> <message>', '/pm <user> <message>', '/help', '/quit'];
      const wrong = commands.findIndex((c, i) => !help[i]?.startsWith(`  ${c} - `) || help[i].slice(c.length + 5).trim() === '');
      if (wrong !== -1 || help.length !== commands.length) {
        const which = wrong !== -1 ? `line ${wrong + 1} after "Commands:" should start with ${JSON.stringify(`  ${commands[wrong]} - `)} and go on with a description, but it was ${help[wrong] === undefined ? 'missing' : JSON.stringify(help[wrong])}` : `there should be nothing after "  /quit - …" (it ended the list), but there was ${JSON.stringify(help[commands.length])}`;
        throw new GradingFailure(
          `the answer to /help is "Commands:" and then exactly five lines, one per command in the order ${commands.map((c) => c.split(' ')[0]).join(', ')}: two spaces, the command as shown, " - " and a description of your choice. But ${which}. All it sent after "Commands:": ${JSON.stringify(help)}`,
        );
      }
    });

    it('answers an unknown command with an error naming the command word as typed, and sends it to nobody else', async () => {
      const pia = await join('pia');
      const quinn = await join('quinn');
      await sendAndExpect(pia, '/Dance now', pia, 'Error: unknown command /Dance, type /help for the list', ' (the command word exactly as typed, without the rest of the line)');
      expectNone(await linesBefore(quinn, 'after pia sent "/dance now"'), /dance/, quinn, 'anything about pia\'s "/dance now"');
    });

    it('accepts command words in any case (/USERS, /Help, /WHISPER)', async () => {
      const rae = await join('rae');
      const sol = await join('sol');
      await sendAndExpect(rae, '/USERS', rae, /^Online users \(\d+\): /);
      await sendAndExpect(rae, '/Help', rae, 'Commands:');
      await sendAndExpect(rae, '/WHISPER sol Still Works', sol, '[whisper from rae]: Still Works');
      await sendAndExpect(rae, '/Pm sol Also This', sol, '[whisper from rae]: Also This');
    });
  });

  describe('whispers', () => {
    it('/whisper <user> <message> reaches only that user, with the text exactly as typed', async () => {
      const tom = await join('tom');
      const uma = await join('uma');
      const vic = await join('vic');
      await sendAndExpect(tom, '/whisper uma Hi There, Uma! Meet At 5?', uma, '[whisper from tom]: Hi There, Uma! Meet At 5?', ' (keep the case of the message: only the command word is case-insensitive)');
      await tom.expectLine('[whisper to uma]: Hi There, Uma! Meet At 5?', { within: W, what: 'the confirmation "[whisper to uma]: Hi There, Uma! Meet At 5?" after tom sent "/whisper uma Hi There, Uma! Meet At 5?\\n"' });
      await sendAndExpect(
        tom,
        '/whisper uma   Two  Spaces  Inside',
        uma,
        '[whisper from tom]: Two  Spaces  Inside',
        ' (the message is the rest of the line after the user and the spaces that follow it: the spaces inside it stay as typed)',
      );
      expectNone(await linesBefore(vic, 'after tom whispered to uma'), /Meet At 5/i, vic, "tom's whisper to uma");
    });

    it('matches the user name case-insensitively and confirms with the name as registered', async () => {
      const wes = await join('Wes');
      const Xena = await join('Xena');
      await sendAndExpect(wes, '/whisper XENA Case Stays', Xena, '[whisper from Wes]: Case Stays', ' (the sender as Wes registered)');
      await expectExact(wes, '[whisper to Xena]: Case Stays', 'the confirmation "[whisper to Xena]: Case Stays" (the name as Xena registered it) after Wes sent "/whisper XENA Case Stays\\n"');
    });

    it('/pm works like /whisper', async () => {
      const yan = await join('yan');
      const zoe = await join('zoe');
      await sendAndExpect(yan, '/pm zoe Private Hello', zoe, '[whisper from yan]: Private Hello');
      await yan.expectLine('[whisper to zoe]: Private Hello', { within: W, what: 'the confirmation "[whisper to zoe]: Private Hello" after yan sent "/pm zoe Private Hello\\n"' });
    });

    it('answers a wrong whisper with the right error: usage, unknown user, yourself', async () => {
      const abe = await join('abe');
      await join('bea');
      await sendAndExpect(abe, '/whisper', abe, 'Error: usage: /whisper <user> <message>');
      await sendAndExpect(abe, '/whisper bea', abe, 'Error: usage: /whisper <user> <message>', ' (a user but no message)');
      await sendAndExpect(abe, '/whisper nobody', abe, 'Error: usage: /whisper <user> <message>', ' (no message: the usage is checked before the user)');
      await sendAndExpect(abe, '/whisper abe', abe, 'Error: usage: /whisper <user> <message>', ' (abe to abe, but no message: the usage is checked before "yourself")');
      await sendAndExpect(abe, '/whisper nobody hi', abe, 'Error: no user named "nobody"');
      await sendAndExpect(abe, '/whisper be hi', abe, 'Error: no user named "be"', ' (the user is the whole first word: "be" is not "bea")');
      await sendAndExpect(abe, '/whisper ABE hi', abe, 'Error: you cannot whisper to yourself');
    });
  });

  describe('leaving', () => {
    it('/quit: "Goodbye!", the server closes the connection, the others get "* <name> left the chat" once', async () => {
      const cal = await join('Cal');
      const dee = await join('dee');
      await sendAndExpect(cal, '/quit', cal, 'Goodbye!');
      await cal.expectClosed(W, 'the server to close the connection after "Goodbye!"');
      await expectExact(dee, '* Cal left the chat', '"* Cal left the chat" after Cal sent "/quit\\n" (the name as registered)');
      expectNone(await linesBefore(dee, 'after "* Cal left the chat"'), /cal left/i, dee, 'a second leave notice for cal (send it once per connection, e.g. from the socket\'s \'close\' event, which comes exactly once)');
    });

    it('ignores what a client sends after /quit, even in the same write', async () => {
      const cy = await join('cy');
      const di = await join('di');
      await cy.write('/quit\nstill here?\n');
      await cy.expectLine('Goodbye!', { within: W, what: '"Goodbye!" after cy sent "/quit\\nstill here?\\n" in one write' });
      const from = di.lines.length;
      await di.expectLine('* cy left the chat', { within: W, what: '"* cy left the chat" after cy sent "/quit\\nstill here?\\n"' });
      const after = [...di.lines.slice(from), ...(await linesBefore(di, 'after "* cy left the chat"'))];
      expectNone(after, /still here/, di, 'the line cy sent after "/quit" (once a user has quit, the rest of what it sent is not handled: stop the loop over the chunk\'s lines)');
    });

    it('a connection that just closes: the others get "* <name> left the chat" once', async () => {
      const eli = await join('eli');
      const flo = await join('flo');
      eli.end();
      await flo.expectLine('* eli left the chat', { within: W, what: '"* eli left the chat" after eli closed the connection without /quit' });
      expectNone(await linesBefore(flo, 'after "* eli left the chat"'), /eli left/, flo, 'a second leave notice for eli (send it once per connection, e.g. from the socket\'s \'close\' event, which comes exactly once)');
    });

    it('a connection that is reset: the others get the notice once, and the server keeps running', async () => {
      const gil = await join('gil');
      const hana = await join('hana');
      gil.socket.resetAndDestroy();
      await hana.expectLine('* gil left the chat', {
        within: W,
        what: `"* gil left the chat" after gil's connection was reset (ECONNRESET; without a socket 'error' listener the server crashes)`,
      });
      expectNone(await linesBefore(hana, 'after "* gil left the chat"'), /gil left/, hana, 'a second leave notice for gil (\'error\' is followed by \'close\': announce the departure in one place)');
      await join('after_reset');
    });

    it('connections that have not registered get no chat, and nobody hears about them', async () => {
      const ira = await join('ira');
      const jan = await join('jan');
      const anonymous = await connect('an unregistered client');
      await greeted(anonymous);
      await sendAndExpect(ira, 'only for registered users', jan, 'ira: only for registered users');
      // jan already has the message, so a copy to the unregistered client would be on its way: a short look suffices.
      await anonymous.expectNoLine(/./, 150, `any line before choosing a name (it got a chat message or notice meant for registered users)`);
      anonymous.end();
      await anonymous.expectClosed(W, 'the server to close its side too after the client closed');
      expectNone(await linesBefore(jan, 'after an unregistered client left'), /left the chat/, jan, 'a leave notice for a connection that never registered');
    });
  });

  describe('a byte stream, not messages', () => {
    it('a name and a message each sent in three pieces are one line each', async () => {
      const kim = await join('kim');
      const lou = await connect('lou');
      await greeted(lou);
      await becauseStream(async () => {
        await lou.writeInPieces('lou\n', [1, 2]);
        await lou.expectLine('Welcome, lou!', { within: W, what: '"Welcome, lou!" after sending "lou\\n" in three pieces: "l", "o", "u\\n"' });
        await kim.expectLine('* lou joined the chat', { within: W, what: '"* lou joined the chat"' });
        await lou.writeInPieces('Split across three writes\n', 3);
        await kim.expectLine('lou: Split across three writes', { within: W, what: '"lou: Split across three writes" after lou sent "Split across three writes\\n" in three pieces' });
      });
    });

    it('two lines in one write are two messages', async () => {
      const mo = await join('mo');
      const ned = await join('ned');
      await becauseStream(async () => {
        await mo.write('first line\nsecond line\n');
        await ned.expectLine('mo: first line', { within: W, what: '"mo: first line" after mo sent "first line\\nsecond line\\n" in one write' });
        await ned.expectLine('mo: second line', { within: W, what: '"mo: second line" after mo sent "first line\\nsecond line\\n" in one write' });
      });
    });

    it('a name, a message and a command in one write are handled in order', async () => {
      const ola = await join('ola');
      const pat = await connect('pat');
      await greeted(pat);
      await becauseStream(async () => {
        await pat.write('pat\nhi from one write\n/users\n');
        await pat.expectLine('Welcome, pat!', { within: W, what: '"Welcome, pat!" after sending "pat\\nhi from one write\\n/users\\n" in one write' });
        await ola.expectLine('pat: hi from one write', { within: W, what: '"pat: hi from one write" after pat sent "pat\\nhi from one write\\n/users\\n" in one write' });
        await pat.expectLine(/^Online users \(\d+\): .*pat/, { within: W, what: 'the answer to /users, the third line of that write' });
      });
    });

    it('UTF-8 names and messages survive being split inside a character', async () => {
      const quin = await join('quin');
      const jose = await connect('José');
      await greeted(jose);
      const [joseFrom, quinFrom] = [jose.lines.length, quin.lines.length];
      // Only what arrived says why: a "\uFFFD" is a character decoded in halves (a wrong case is said by expectExact).
      await explained(async () => {
        const name = Buffer.from('José\n'); // é is c3 a9: cut between them
        await jose.writeInPieces(name, [4]);
        await expectExact(jose, 'Welcome, José!', '"Welcome, José!" after sending "José\\n" cut inside the é');
        const message = Buffer.from('Grüße ✓ 🚀\n');
        await jose.writeInPieces(message, [3, 10, 13]); // inside ü, inside ✓, inside 🚀
        await expectExact(quin, 'José: Grüße ✓ 🚀', '"José: Grüße ✓ 🚀" after José sent "Grüße ✓ 🚀\\n" cut inside ü, ✓ and 🚀');
      }, () => brokenCharacter(jose, joseFrom) ?? brokenCharacter(quin, quinFrom));
    });

    it('accepts "\\r\\n" line endings (telnet sends them); any other "\\r" is part of the line', async () => {
      const ray = await connect('ray');
      await greeted(ray);
      const sue = await join('sue');
      await sendAndExpect(ray, 'ray\r', ray, 'Welcome, ray!');
      await sendAndExpect(ray, '/whisper sue Over And Out\r', sue, '[whisper from ray]: Over And Out', ' (a "\\r" before the "\\n" is not part of the line)');
      await sendAndExpect(ray, 'one\rtwo', sue, 'ray: one\rtwo', ' (a line ends only at "\\n": a "\\r" anywhere else is part of it, and only the one right before the "\\n" is dropped)');
    });

    it('takes a line of exactly 4096 bytes (2048 × "é") as a message: the limit counts bytes', async () => {
      const uli = await join('uli');
      const vera = await join('vera');
      const text = 'é'.repeat(2048);
      const [uliFrom, veraFrom] = [uli.received.length, vera.lines.length];
      await explained(
        async () => {
          await uli.writeInPieces(`${text}\n`, [1001, 3001]); // both cuts inside an é
          await vera.expectLine(`uli: ${text}`, { within: W, what: `"uli: " and the 2048 "é" uli sent, in three writes cut inside an "é" (4096 bytes: exactly the limit, so it is a message)` });
        },
        () =>
          uli.received.subarray(uliFrom).toString('utf8').includes('Error: line too long\n')
            ? 'uli got "Error: line too long", but the line uli sent was exactly 4096 bytes, which is allowed: only more than 4096 is too long. ' +
              '(A line decoded chunk by chunk is longer than what was sent: each "é" cut between chunks becomes "\uFFFD\uFFFD", 6 bytes.)'
            : brokenCharacter(vera, veraFrom),
      );
    });

    it('answers a line longer than 4096 bytes (2049 × "é", or 4096 bytes and "\\r\\n") with "Error: line too long", closes the connection, and the others hear it left', async () => {
      const tia = await join('tia');
      const watcher = await join('tia_watcher');
      await tia.write(`${'é'.repeat(2049)}\n`);
      await tia.expectLine('Error: line too long', { within: W, what: '"Error: line too long" after sending a line of 2049 "é": 2049 characters, but 4098 bytes (the limit counts bytes: Buffer.byteLength, not .length)' });
      await tia.expectClosed(W, 'the server to close the connection after "Error: line too long"');
      await watcher.expectLine('* tia left the chat', {
        within: W,
        what: '"* tia left the chat" after the server closed tia\'s connection for a line too long (a registered user that leaves for any reason is announced)',
      });
      const tom = await join('tom_crlf');
      await tom.write(`${'x'.repeat(4096)}\r\n`);
      await tom.expectLine('Error: line too long', {
        within: W,
        what: '"Error: line too long" after sending 4096 "x" and "\\r\\n": a line is everything before the "\\n", its "\\r" included, so this one is 4097 bytes',
      });
    });

    it('says "Error: line too long" as soon as more than 4096 bytes of a line have arrived, before any "\\n", and closes the connection', async () => {
      const wyn = await join('wyn');
      await becauseStream(
        async () => {
          await wyn.writeInPieces('x'.repeat(4097), 3);
          await wyn.expectLine('Error: line too long', { within: W, what: '"Error: line too long" after 4097 bytes without a "\\n", sent in three writes' });
        },
        'Check the length of the unfinished rest after every chunk, not only when a "\\n" arrives: a client that never sends one would make the server keep its bytes forever.',
      );
      await wyn.expectClosed(W, 'the server to close the connection after "Error: line too long"');
      const yul = await join('yul');
      const yulFrom = yul.received.length;
      await explained(
        async () => {
          await yul.writeInPieces(Buffer.concat([Buffer.from('x'.repeat(4096)), Buffer.from('é').subarray(0, 1)]), [4096]);
          await yul.expectLine('Error: line too long', { within: W, what: '"Error: line too long" after 4096 "x" and then the first byte of an "é" (4097 bytes, no "\\n")' });
        },
        () =>
          // The line arrived but the test failed: the server answered before the 4097th byte could be sent.
          yul.received.subarray(yulFrom).toString('utf8').includes('Error: line too long\n')
            ? 'yul got "Error: line too long" after only the 4096 "x": exactly 4096 bytes is allowed, only more is too long.'
            : 'The 4097th byte counts as soon as it arrives, even when it is the first byte of a character whose second byte has not come: ' +
              'a StringDecoder holds such a byte back, so the length of the text decoded so far is one byte short. Count the bytes that arrived.',
      );
    });
  });
});
