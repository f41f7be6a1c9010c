// The shared reference servers (TCP echo, TCP chat, UDP echo) against hostile clients, black-box,
// in the real server process: a bounded fuzz run, a 10 MB line, a sender that never reads,
// 1,000 concurrent connections, slowloris, and a datagram flood (the last in-process, where the
// kernel's own drops cannot hide the server's cap). After each, the process is alive
// and serves a well-behaved client correctly. Everything here is bounded in count and time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import dgram from 'node:dgram';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { getJson, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { TestClient } from '../src/grading-kit/test-client.ts';
import { UdpEchoServer } from '../src/reference-servers/udp-echo.ts';
import { TcpChatServer } from '../src/reference-servers/tcp-chat.ts';
import { FUZZ_SEED, prng } from './support/prng.ts';

interface Ports {
  echo: number;
  chat: number;
  udpEcho: number;
}

async function start(env: Record<string, string> = {}): Promise<{ server: ServerProcess; ports: Ports }> {
  const server = await startServerProcess({ LOG_REQUESTS: '0', ...env });
  const ports = (await getJson(`${server.url}/api/health`)).json.referenceServers as Ports;
  return { server, ports };
}

/** Resident memory of the server process, in MB. */
function rssMb(server: ServerProcess): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]);
  return kb / 1024;
}

/** Echo round-trip of a short message. */
async function echoWorks(port: number): Promise<void> {
  const c = await TestClient.connect(port, 'probe');
  try {
    await c.write('still there?\n');
    await c.expectLine('still there?', { within: 3000 });
  } finally {
    c.destroy();
  }
}

/** Two chat clients: register, message, /users. */
async function chatWorks(port: number, tag: string): Promise<void> {
  const join = async (name: string) => {
    const c = await TestClient.connect(port, name);
    await c.expectLine('Please enter your username:', { within: 3000 });
    await c.write(`${name}\n`);
    await c.expectLine(`Welcome, ${name}!`, { within: 3000 });
    return c;
  };
  const a = await join(`a_${tag}`);
  const b = await join(`b_${tag}`);
  try {
    await a.expectLine(`* b_${tag} joined the chat`, { within: 3000 });
    await b.write('hello after the storm\n');
    await a.expectLine(`b_${tag}: hello after the storm`, { within: 3000 });
    await a.write('/users\n');
    await a.expectLine(new RegExp(`^Online users \\(\\d+\\): .*a_${tag}, b_${tag}`), { within: 3000 });
  } finally {
    a.destroy();
    b.destroy();
  }
}

async function udpWorks(port: number): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    const reply = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
    // UDP may drop; try a few times
    for (let i = 0; i < 5; i++) {
      socket.send('ping after the storm', port, '127.0.0.1');
      const got = await Promise.race([reply, sleep(300).then(() => undefined)]);
      if (got) return void expect(got).toBe('ping after the storm');
    }
    throw new Error('the UDP echo server did not answer');
  } finally {
    socket.close();
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s)).once('error', reject);
  });
}

// ---- fuzz ------------------------------------------------------------------------------------


const SEED = FUZZ_SEED;
const FUZZ_PAYLOADS = 2000;

function payloads(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const name = () => {
    const alphabet = ['a', 'Z', '_', ' ', '\t', 'é', '漢', '😀', '\u0000', '\r', '/', '"', '%s'];
    return Array.from({ length: int(30) }, () => pick(alphabet)).join('');
  };
  const command = () =>
    pick([
      '/users', '/USERS', '/help', '/quit', '/whisper', '/pm', `/whisper ${name()}`, `/pm ${name()} ${name()}`,
      `/whisper ${name()} hi there`, '/dance', '/', '', '   ', name(), `hello ${name()}`,
    ]);
  const utf8 = Buffer.from('é漢😀✓');
  return {
    /** One hostile payload for a TCP server: bytes to send, in pieces. */
    tcp(): Buffer {
      switch (int(8)) {
        case 0: return bytes(1 + int(8192));
        case 1: return Buffer.from(Array.from({ length: 1 + int(20) }, command).join(pick(['\n', '\r\n', '\n\n', '\r'])) + '\n');
        case 2: return Buffer.from('x'.repeat(4097 + int(200_000)) + (rand() < 0.5 ? '\n' : ''));
        case 3: return utf8.subarray(0, 1 + int(utf8.length - 1)); // a character cut in half
        case 4: return Buffer.concat([Buffer.from(`${name()}\n`), utf8.subarray(int(4)), Buffer.from('\n')]);
        case 5: return Buffer.from(`${name()}\n${command()}\n`.repeat(1 + int(300)));
        case 6: return Buffer.alloc(int(3), 0);
        default: return Buffer.from(`${command()}\n`);
      }
    },
    datagram(): Buffer {
      return rand() < 0.05 ? bytes(60_000) : bytes(int(2000));
    },
    int,
  };
}

/** Sends `data` in a few pieces, then ends the connection in a random way. */
async function hostileConnection(port: number, data: Buffer, rand: ReturnType<typeof payloads>): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.on('data', () => {}); // reads, or not:
  if (rand.int(3) === 0) socket.pause();
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', () => resolve());
  });
  const pieces = 1 + rand.int(4);
  for (let i = 0, at = 0; i < pieces && !socket.destroyed; i++) {
    const next = i === pieces - 1 ? data.length : at + rand.int(data.length - at + 1);
    socket.write(data.subarray(at, next));
    at = next;
    if (rand.int(2)) await sleep(rand.int(5));
  }
  switch (rand.int(4)) {
    case 0: socket.resetAndDestroy(); break; // ECONNRESET on the server's side
    case 1: socket.destroy(); break;
    case 2: socket.end(); break;
    default: await sleep(rand.int(30)); socket.resetAndDestroy();
  }
}

describe('reference servers under fuzz', () => {
  let server: ServerProcess;
  let ports: Ports;
  beforeAll(async () => {
    ({ server, ports } = await start());
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(`${FUZZ_PAYLOADS} random payloads, then each server still serves a well-behaved client`, async () => {
    const rand = payloads(prng(SEED));
    const started = performance.now();
    const rssBefore = rssMb(server);
    let sent = 0;
    const udp = dgram.createSocket('udp4');
    udp.on('error', () => {});
    const worker = async () => {
      while (sent < FUZZ_PAYLOADS && performance.now() - started < 15_000) {
        const n = sent++;
        const target = n % 5;
        if (target === 4) {
          for (let i = 0; i < 5; i++) udp.send(rand.datagram(), ports.udpEcho, '127.0.0.1');
          await sleep(1);
        } else {
          await hostileConnection(target % 2 === 0 ? ports.chat : ports.echo, rand.tcp(), rand);
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, worker));
    udp.close();
    const seconds = (performance.now() - started) / 1000;
    console.log(`fuzz (seed ${SEED}): ${sent} payloads in ${seconds.toFixed(1)} s, server RSS ${rssBefore.toFixed(0)} → ${rssMb(server).toFixed(0)} MB`);
    expect(sent, `seed ${SEED}`).toBeGreaterThanOrEqual(FUZZ_PAYLOADS);
    expect(server.child.exitCode, `seed ${SEED}: the server exited\n${server.log().slice(-2000)}`).toBeNull();
    expect((await getJson(`${server.url}/api/health`)).json.status).toBe('ok');
    await echoWorks(ports.echo);
    await chatWorks(ports.chat, 'fuzz');
    await udpWorks(ports.udpEcho);
    expect(server.log()).not.toMatch(/uncaught|unhandled|TypeError|RangeError/i);
  }, 30_000);
});

describe('reference servers: targeted attacks', () => {
  let server: ServerProcess;
  let ports: Ports;
  beforeAll(async () => {
    ({ server, ports } = await start());
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a 10 MB line without a newline: the chat client is told "Error: line too long" and disconnected; RSS stays flat', async () => {
    const c = await TestClient.connect(ports.chat, 'flood');
    try {
      await c.expectLine('Please enter your username:');
      await sleep(200);
      const before = rssMb(server);
      void c.write(Buffer.alloc(10 * 1024 * 1024, 'x')).catch(() => {}); // never completes: the server stops reading
      await c.expectLine('Error: line too long', { within: 3000 });
      await c.expectClosed(4000);
      const after = rssMb(server);
      console.log(`10 MB line: server RSS ${before.toFixed(1)} → ${after.toFixed(1)} MB`);
      expect(after - before).toBeLessThan(5);
    } finally {
      c.destroy();
    }
    await chatWorks(ports.chat, 'line');
  });

  it('echo: a client that sends 32 MB and reads nothing cannot grow server memory; then it gets every byte back in order', async () => {
    const size = 32 * 1024 * 1024;
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) data.writeUInt32LE(i, i);
    const socket = await connect(ports.echo);
    socket.pause();
    const before = rssMb(server);
    socket.write(data);
    await sleep(1500); // the server echoes until the socket buffers are full, then stops reading
    const during = rssMb(server);
    console.log(`echo non-reader: server RSS ${before.toFixed(1)} → ${during.toFixed(1)} MB with 32 MB offered`);
    expect(during - before).toBeLessThan(8); // a few MB of allocator churn, not the 32 MB offered
    const hash = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        if (received >= size) resolve();
      });
      socket.on('close', () => reject(new Error(`closed after ${received} bytes`)));
    });
    socket.resume();
    await done;
    socket.destroy();
    expect(received).toBe(size);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('1,000 concurrent connections: up to the cap (256) served, the rest told "server full"; others unaffected; served again after', async () => {
    const sockets: net.Socket[] = [];
    const firstLines: Promise<string>[] = [];
    const t = performance.now();
    for (let i = 0; i < 1000; i++) {
      const s = net.connect(ports.chat, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
      firstLines.push(new Promise((resolve) => {
        let text = '';
        s.on('data', (d) => {
          text += d;
          if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
        });
        s.on('close', () => resolve(text || '(closed)'));
      }));
    }
    try {
      const lines = await Promise.all(firstLines);
      const welcomed = lines.filter((l) => l === 'Welcome to TCP Chat!').length;
      const full = lines.filter((l) => l === 'Error: server full, try again later').length;
      console.log(`1,000 connections in ${(performance.now() - t).toFixed(0)} ms: ${welcomed} welcomed, ${full} refused politely; RSS ${rssMb(server).toFixed(0)} MB`);
      expect(welcomed).toBe(256);
      expect(full).toBe(744);
      // past the cap a new client is refused politely, at once
      const late = await TestClient.connect(ports.chat, 'late');
      await late.expectLine('Error: server full, try again later');
      await late.expectClosed();
      // the other servers and the API are not affected
      await echoWorks(ports.echo);
      expect((await getJson(`${server.url}/api/health`)).json.status).toBe('ok');
    } finally {
      sockets.forEach((s) => s.resetAndDestroy());
    }
    await sleep(200);
    await chatWorks(ports.chat, 'crowd');
  });
});

describe('UDP echo rate cap (in-process, 100 a second per sender)', () => {
  it('echoes a burst, drops what is over the rate, and serves the sender again a moment later', async () => {
    const udpEcho = new UdpEchoServer(undefined, { perSenderPerSecond: 100, totalPerSecond: 1000 });
    const port = await udpEcho.listen(0);
    const socket = dgram.createSocket('udp4');
    let echoed = 0;
    socket.on('message', () => echoed++);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    try {
      const t = performance.now();
      for (let i = 0; i < 300; i++) {
        socket.send(Buffer.alloc(16, i % 256), port, '127.0.0.1');
        if (i % 10 === 9) await sleep(1); // paced, so the kernel drops nothing on its own
      }
      const seconds = (performance.now() - t) / 1000;
      await sleep(200);
      expect(echoed + udpEcho.dropped).toBe(300);
      expect(echoed).toBeGreaterThanOrEqual(100);
      expect(echoed).toBeLessThanOrEqual(100 + Math.ceil((seconds + 0.2) * 100) + 5);
      // a 60 KB datagram costs 1 + 58 units
      await sleep(1000);
      const before = echoed;
      socket.send(Buffer.alloc(60_000), port, '127.0.0.1');
      await sleep(200);
      expect(echoed).toBe(before + 1);
    } finally {
      socket.close();
      await udpEcho.close();
    }
  });
});

describe('chat line rate (in-process, burst of 5)', () => {
  it('a client sending lines faster than the rate is told to slow down and disconnected; the others get only the allowed lines', async () => {
    const chat = new TcpChatServer(undefined, { lineBurst: 5, linesPerMinute: 60 });
    await chat.listen(0);
    const clients: TestClient[] = [];
    try {
      for (const name of ['listener', 'flooder']) {
        const c = await TestClient.connect(chat.port, name);
        clients.push(c);
        await c.write(`${name}\n`);
        await c.expectLine(`Welcome, ${name}!`);
      }
      const [listener, flooder] = clients;
      await flooder.write(Array.from({ length: 20 }, (_, i) => `spam ${i}\n`).join(''));
      await flooder.expectLine('Error: too many lines, slow down');
      await flooder.expectClosed();
      await listener.expectLine('* flooder left the chat');
      // the name line was the first of the burst of 5: four messages got through
      expect(listener.lines.filter((l) => l.startsWith('flooder: spam'))).toEqual(['flooder: spam 0', 'flooder: spam 1', 'flooder: spam 2', 'flooder: spam 3']);
    } finally {
      clients.forEach((c) => c.destroy());
      await chat.close();
    }
  });
});

describe('reference servers: slowloris (idle 1 s, register within 0.8 s)', () => {
  let server: ServerProcess;
  let ports: Ports;
  beforeAll(async () => {
    ({ server, ports } = await start({ REF_IDLE_TIMEOUT_MS: '1000', REF_REGISTER_TIMEOUT_MS: '800' }));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('chat: a connection that never registers, or trickles its name, is told and closed after the registration limit', async () => {
    const silent = await TestClient.connect(ports.chat, 'silent');
    const trickle = await TestClient.connect(ports.chat, 'trickle');
    const t = performance.now();
    const dripping = (async () => {
      for (const ch of 'slowname') {
        if (trickle.isClosed) return;
        await trickle.write(ch).catch(() => {});
        await sleep(150);
      }
    })();
    for (const c of [silent, trickle]) {
      await c.expectLine('Error: no username within 0.8 s, disconnecting', { within: 2000 });
      await c.expectClosed(1000);
    }
    await dripping;
    const ms = performance.now() - t;
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(2000);
  });

  it('chat: a registered connection idle for the idle timeout is told and closed; activity keeps one open', async () => {
    const idle = await TestClient.connect(ports.chat, 'idle');
    await idle.write('idler\n');
    await idle.expectLine('Welcome, idler!');
    const busy = await TestClient.connect(ports.chat, 'busy');
    await busy.write('busybee\n');
    await busy.expectLine('Welcome, busybee!');
    for (let i = 0; i < 8; i++) {
      await sleep(200);
      await busy.write('/users\n');
    }
    await idle.expectLine('Error: idle for 1 s, disconnecting', { within: 1500 });
    await idle.expectClosed(1000);
    expect(busy.isClosed).toBe(false); // 1.6 s old, never idle for 1 s
    await busy.expectLine('* idler left the chat');
    busy.destroy();
  });

  it('echo: an idle connection is closed (silently: nothing is added to an echo stream)', async () => {
    const c = await TestClient.connect(ports.echo, 'idle-echo');
    await c.write('abc');
    await c.readBytes(3);
    const t = performance.now();
    await c.expectClosed(2500);
    expect(performance.now() - t).toBeGreaterThanOrEqual(800);
    expect(c.received.toString()).toBe('abc');
  });
});
