// The chat terminal's bridge (chat-terminal-bridge.ts) against a real TCP chat server: lines relayed
// both ways as text, and the public-server defences, each with its documented answer: lines with
// control characters (a name with an escape sequence among them) and over-long lines refused with a
// sentence, huge messages closed with 1009, per-IP and total connection caps, idle connections
// closed (and the chat told the user left), a flooding client that spends only its own budget, a
// chat that is not there. Last, black-box through the real server process: /live/chat-terminal
// reaches the same shared chat that programs reach on its port.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { ChatTerminalBridge, CHAT_TERMINAL_PATH, type ChatBridgeLimits } from '../src/chat-terminal-bridge.ts';
import { TcpChatServer, type ChatEvent } from '../src/reference-servers/tcp-chat.ts';
import { LineDecoder } from '../src/reference-servers/line-decoder.ts';
import type { ChatTerminalMessage } from '../src/shapes/chat-terminal.ts';
import { getJson, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { FUZZ_SEED, prng } from './support/prng.ts';

/** Something to stop after each test. */
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A chat server and a bridge to it, served by a small HTTP server that takes the client's IP from
 * an `x-test-ip` header (as the course's router takes it from the socket or X-Forwarded-For), so
 * a test can be several IPs at once.
 */
async function start(limits: Partial<ChatBridgeLimits> = {}, chatPort?: number) {
  const chat = new TcpChatServer(undefined, {}, true);
  const port = chatPort ?? (await chat.listen(0, '127.0.0.1'));
  const bridge = new ChatTerminalBridge({ host: '127.0.0.1', port }, limits);
  const router = http.createServer((_req, res) => res.writeHead(404).end());
  router.on('upgrade', (req, socket, head) => bridge.handleUpgrade(req, socket, head, String(req.headers['x-test-ip'] ?? 'ip-a')));
  router.listen(0, '127.0.0.1');
  await once(router, 'listening');
  cleanups.push(() => chat.close(), () => bridge.close(), () => new Promise((r) => { router.closeAllConnections(); router.close(r); }));
  const url = `ws://127.0.0.1:${(router.address() as net.AddressInfo).port}${CHAT_TERMINAL_PATH}`;
  return { chat, bridge, url };
}

/** A browser-side client: every message it got, and a way to wait for one. */
function browser(url: string, ip = 'ip-a') {
  const ws = new WebSocket(url, { headers: { 'x-test-ip': ip } });
  ws.on('error', () => {});
  const got: ChatTerminalMessage[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer) => {
    got.push(JSON.parse(data.toString('utf8')) as ChatTerminalMessage);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason) })));
  cleanups.push(() => ws.terminate());
  const lines = () => got.flatMap((m) => (m.type === 'line' ? [m.text] : []));
  const opened = once(ws, 'open');
  opened.catch(() => {}); // a refused upgrade: the test looks at 'unexpected-response'
  /** Resolves once `test` holds for what came so far (rejects if the connection closes first). */
  const until = (test: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (test()) return resolve();
        waiters.push(check);
      };
      void closed.then((c) => { if (!test()) reject(new Error(`closed (${c.code} ${c.reason}) before ${what}; got ${JSON.stringify(got)}`)); });
      check();
    });
  const untilLine = (line: string) => until(() => lines().includes(line), `the line ${JSON.stringify(line)}`);
  return { ws, got, lines, until, untilLine, closed, opened };
}

/** A program on the chat's TCP port, registered as `name`. */
async function tcpUser(port: number, name: string) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  cleanups.push(() => socket.destroy());
  const decoder = new LineDecoder(1 << 20);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    lines.push(...decoder.push(chunk));
    for (const w of waiters.splice(0)) w();
  });
  const untilLine = (test: (line: string) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (lines.some(test) ? resolve() : waiters.push(check));
      check();
    });
  await once(socket, 'connect');
  socket.write(`${name}\n`);
  await untilLine((l) => l === `Welcome, ${name}!`);
  return { socket, lines, untilLine };
}

/** Joins the chat through the bridge as `name`. */
async function join(client: ReturnType<typeof browser>, name: string) {
  await client.opened;
  await client.untilLine('Please enter your username:');
  client.ws.send(name);
  await client.untilLine(`Welcome, ${name}!`);
}

describe('ChatTerminalBridge', () => {
  it('relays lines both ways: a browser joins the chat that TCP programs are in, and gets their lines as text', async () => {
    const { chat, url } = await start();
    const program = await tcpUser(chat.port, 'prog');
    const web = browser(url);
    await join(web, 'webby');
    await program.untilLine((l) => l === '* webby joined the chat');
    web.ws.send('hello from the page ✓');
    await program.untilLine((l) => l === 'webby: hello from the page ✓');
    program.socket.write('hi <img src=x onerror=alert(1)> & \u001b[2J bye\n');
    await web.untilLine('prog: hi <img src=x onerror=alert(1)> & \u001b[2J bye'); // as sent: the terminal shows escapes as text
    expect(web.lines().slice(0, 2)).toEqual(['Welcome to TCP Chat!', 'Please enter your username:']);
  });

  it('refuses a line with control characters (a name with an escape sequence too) and never sends it to the chat', async () => {
    const { chat, url } = await start();
    const seen: ChatEvent[] = [];
    chat.observer.on('event', (e: ChatEvent) => seen.push(e));
    const web = browser(url);
    await web.opened;
    await web.untilLine('Please enter your username:');
    for (const bad of ['\u001b[31mred', 'two\nlines', 'tab\there', 'c1\u009bx']) web.ws.send(bad);
    web.ws.send(Buffer.from('binary'), { binary: true });
    await web.until(() => web.got.filter((m) => m.type === 'refused').length === 5, 'five refusals');
    const refused = web.got.filter((m) => m.type === 'refused');
    expect(refused.map((m) => m.code)).toEqual(['control_characters', 'control_characters', 'control_characters', 'control_characters', 'binary']);
    expect(refused[0].message).toMatch(/control characters/);
    // still connected: a valid name registers
    web.ws.send('plain');
    await web.untilLine('Welcome, plain!');
    expect(seen.filter((e) => e.type === 'line').map((e) => (e as { line: string }).line)).toEqual(['plain']);
  });

  it('refuses a line longer than the chat takes with a sentence, and stays connected; a message over 16 KiB closes with 1009', async () => {
    const { chat, url } = await start();
    const program = await tcpUser(chat.port, 'prog');
    const web = browser(url);
    await join(web, 'longy');
    web.ws.send('x'.repeat(4097));
    await web.until(() => web.got.some((m) => m.type === 'refused'), 'a refusal');
    expect(web.got.find((m) => m.type === 'refused')).toEqual({
      type: 'refused',
      code: 'line_too_long',
      message: 'that line is 4097 bytes; the chat takes at most 4096 bytes per line (UTF-8)',
    });
    web.ws.send('é'.repeat(2048)); // 4096 bytes: the longest line the chat takes
    await program.untilLine((l) => l === `longy: ${'é'.repeat(2048)}`);
    web.ws.send('y'.repeat(16 * 1024 + 1));
    expect((await web.closed).code).toBe(1009);
    await program.untilLine((l) => l === '* longy left the chat');
  });

  it('caps connections per IP (429) and in all (503); other IPs are still served', async () => {
    const { url } = await start({ maxPerIp: 2, maxConnections: 3 });
    const refusedWith = (ws: WebSocket) => once(ws, 'unexpected-response').then(([, res]) => (res as http.IncomingMessage).statusCode);
    const a1 = browser(url, 'ip-a');
    const a2 = browser(url, 'ip-a');
    await Promise.all([a1.opened, a2.opened]);
    expect(await refusedWith(browser(url, 'ip-a').ws)).toBe(429);
    const b1 = browser(url, 'ip-b');
    await b1.opened;
    await b1.untilLine('Please enter your username:');
    expect(await refusedWith(browser(url, 'ip-c').ws)).toBe(503);
  });

  it('a flood from one client is refused line by line past its burst, and another client’s line gets through behind it', async () => {
    // WebSocket messages are not capped here, so only the line rate is at work
    const { chat, url } = await start({ lineBurst: 5, linesPerMinute: 60, messageBurst: 10_000, messagesPerMinute: 1_000_000 });
    const observer = await tcpUser(chat.port, 'observer');
    const flooder = browser(url, 'ip-a');
    const calm = browser(url, 'ip-b');
    await join(flooder, 'flooder');
    await join(calm, 'calm');
    const FLOOD = 300;
    for (let i = 0; i < FLOOD; i++) flooder.ws.send(`flood ${i}`);
    calm.ws.send('calm line');
    await observer.untilLine((l) => l === 'calm: calm line');
    // its burst of 5 lines, the name among them, and nothing more
    await flooder.until(() => flooder.got.filter((m) => m.type === 'refused').length === FLOOD - 4, 'the refusals');
    const floodLines = observer.lines.filter((l) => l.startsWith('flooder: '));
    expect(floodLines).toEqual([0, 1, 2, 3].map((i) => `flooder: flood ${i}`));
    expect(new Set(flooder.got.filter((m) => m.type === 'refused').map((m) => m.code))).toEqual(new Set(['too_many_lines']));
    expect(calm.got.some((m) => m.type === 'refused')).toBe(false);
  });

  it('shares a line budget among one IP’s connections, so opening more tabs does not multiply it', async () => {
    const { chat, url } = await start({ lineBurst: 5, ipLineBurst: 6, linesPerMinute: 60, ipLinesPerMinute: 60 });
    const observer = await tcpUser(chat.port, 'observer');
    const one = browser(url, 'ip-a');
    const two = browser(url, 'ip-a');
    await join(one, 'one'); // 1 line of the IP's budget each for the names
    await join(two, 'two');
    for (let i = 0; i < 4; i++) one.ws.send(`one ${i}`);
    await observer.untilLine((l) => l === 'one: one 3');
    two.ws.send('two 0');
    await two.until(() => two.got.some((m) => m.type === 'refused'), 'a refusal');
    expect(two.got.find((m) => m.type === 'refused')?.code).toBe('too_many_lines');
  });

  it('closes a WebSocket flood with 1008 (the shared servers’ message rate) and the chat hears the user left', async () => {
    const { chat, url } = await start({ messageBurst: 20, messagesPerMinute: 60 });
    const observer = await tcpUser(chat.port, 'observer');
    const flooder = browser(url);
    await join(flooder, 'noisy');
    for (let i = 0; i < 100; i++) flooder.ws.send('');
    expect(await flooder.closed).toEqual({ code: 1008, reason: 'too many messages' });
    await observer.untilLine((l) => l === '* noisy left the chat');
  });

  it('closes an idle connection with 1001, and the chat hears the user left', async () => {
    const { chat, url } = await start({ idleTimeoutMs: 300 });
    const observer = await tcpUser(chat.port, 'observer');
    const web = browser(url);
    await join(web, 'sleepy');
    expect(await web.closed).toEqual({ code: 1001, reason: 'idle for too long' });
    await observer.untilLine((l) => l === '* sleepy left the chat');
  });

  it('a browser that closes leaves the chat; /quit in the chat closes the WebSocket with 1000 after "Goodbye!"', async () => {
    const { chat, url } = await start();
    const observer = await tcpUser(chat.port, 'observer');
    const leaver = browser(url);
    await join(leaver, 'leaver');
    leaver.ws.close(1000);
    await observer.untilLine((l) => l === '* leaver left the chat');
    const quitter = browser(url);
    await join(quitter, 'quitter');
    quitter.ws.send('/quit');
    expect(await quitter.closed).toEqual({ code: 1000, reason: 'the chat closed the connection' });
    expect(quitter.lines().at(-1)).toBe('Goodbye!');
    await observer.untilLine((l) => l === '* quitter left the chat');
  });

  it(`random messages never put a control character or an over-long line into the chat, and others are still served (seed ${FUZZ_SEED})`, async () => {
    const random = prng(FUZZ_SEED);
    const { chat, url } = await start({ lineBurst: 10_000, linesPerMinute: 1_000_000, ipLineBurst: 10_000, ipLinesPerMinute: 1_000_000, messageBurst: 10_000, messagesPerMinute: 1_000_000 });
    const lines: string[] = [];
    chat.observer.on('event', (e: ChatEvent) => e.type === 'line' && lines.push(e.line));
    const fuzzer = browser(url);
    await fuzzer.opened;
    const SENT = 300;
    for (let i = 0; i < SENT; i++) {
      const length = random() < 0.1 ? 4000 + Math.floor(random() * 200) : Math.floor(random() * 40);
      const codes = Array.from({ length }, () => (random() < 0.2 ? Math.floor(random() * 0xa0) : 0x20 + Math.floor(random() * 0x7000)));
      const text = String.fromCodePoint(...codes.map((c) => (c >= 0xd800 && c < 0xe000 ? 0x41 : c)));
      if (random() < 0.1) fuzzer.ws.send(Buffer.from(text), { binary: true });
      else fuzzer.ws.send(text);
    }
    fuzzer.ws.send('fuzz-done');
    await fuzzer.until(() => fuzzer.got.length >= 2 && lines.includes('fuzz-done'), 'the last line to reach the chat');
    expect(lines.filter((l) => /\p{Cc}/u.test(l))).toEqual([]);
    expect(lines.filter((l) => Buffer.byteLength(l) > 4096)).toEqual([]);
    const refusals = fuzzer.got.filter((m) => m.type === 'refused').length;
    expect(refusals).toBeGreaterThan(0);
    expect(refusals + lines.length).toBe(SENT + 1); // every message was either passed on or refused
    const calm = browser(url, 'ip-b');
    await join(calm, 'calm-after');
  });

  it('says so when the chat is not there (1011)', async () => {
    const unused = net.createServer();
    unused.listen(0, '127.0.0.1');
    await once(unused, 'listening');
    const port = (unused.address() as net.AddressInfo).port;
    await new Promise((r) => unused.close(r));
    const { url } = await start({}, port);
    const web = browser(url);
    expect(await web.closed).toEqual({ code: 1011, reason: 'the shared chat is not reachable, try again later' });
  });
});

describe('/live/chat-terminal on the course server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ LOG_REQUESTS: '0' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('reaches the same shared chat as a program connected to its port', async () => {
    const health = await getJson(`${server.url}/api/health`);
    const chatPort = health.json.referenceServers.chat as number;
    const program = await tcpUser(chatPort, 'program');
    const web = browser(`${server.url.replace(/^http/, 'ws')}${CHAT_TERMINAL_PATH}`);
    await join(web, 'learner');
    web.ws.send('/users');
    await web.untilLine('Online users (2): program, learner');
    web.ws.send('hello, program');
    await program.untilLine((l) => l === 'learner: hello, program');
  });
});
