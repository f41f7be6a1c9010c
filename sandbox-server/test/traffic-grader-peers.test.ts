// A grader's client connected to a reference server (not to the learner's program) is one
// conversation in the traffic: recorded once, on the grader's side, its events naming that server as
// their peer; the server's own record of the same connection is left out, while the program's
// connection to that server is recorded as before. With real sockets and real reference servers
// (TCP and Socket.IO), and once through a real grade of a client exercise.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trafficSchema, type Traffic, type TrafficWireEvent } from '../src/shapes/traffic.ts';
import { TrafficLog } from '../src/traffic/traffic-log.ts';
import { serializeTraffic, TrafficReader } from '../src/traffic/traffic-wire.ts';
import { TcpEchoServer } from '../src/reference-servers/tcp-echo.ts';
import { SocketIoReferenceServer } from '../src/reference-servers/socket-io.ts';
import { TestClient } from '../src/grading-kit/test-client.ts';
import { TestSocketIo } from '../src/grading-kit/test-socket-io.ts';
import { waitUntil } from '../src/grading-kit/learner.ts';
import { postJson, ROOT, startServerProcess } from './support/server-process.ts';

const ECHO = { name: 'echo', transport: 'tcp' as const, title: 'TCP echo' };
const SOCKET_IO = { name: 'socketIo', transport: 'socket.io' as const, title: 'Socket.IO' };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A loopback connection; `log` told first that it is a grader's, as the kit does. */
function connect(port: number, log?: TrafficLog): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    log?.graderConnecting(socket);
    cleanups.push(() => socket.destroy());
    socket.once('connect', () => resolve(socket)).once('error', reject);
  });
}

async function echoServer(log: TrafficLog): Promise<TcpEchoServer> {
  const server = new TcpEchoServer(log);
  await server.listen(0);
  cleanups.push(() => server.close());
  return server;
}

const connectionsOf = (traffic: Traffic, endpoint: string) => new Set(traffic.events.filter((e) => e.endpoint === endpoint).map((e) => e.connection));
const textOf = (events: TrafficWireEvent[], direction: string) =>
  events
    .filter((e) => e.kind === 'data' && e.direction === direction)
    .map((e) => e.preview?.text)
    .join('');

describe("a grader's client connected to a reference server", () => {
  it('is recorded once, as a conversation between the grader and the server; the program\'s connection stays the program\'s', async () => {
    const log = new TrafficLog();
    const echo = await echoServer(log);
    const program = await connect(echo.port);
    program.write('from the program\n');
    const grader = new TestClient(await connect(echo.port, log), 'alice', log, 'echo');
    await grader.write('from alice\n');
    expect(await grader.readLine()).toBe('from alice');
    grader.destroy();
    program.destroy();
    await waitUntil(() => echo.connectionCount === 0 && grader.isClosed, 2000);

    const traffic = serializeTraffic(log, [ECHO]);
    expect(trafficSchema.parse(traffic)).toEqual(traffic);
    expect(traffic.endpoints).toEqual([
      { ...ECHO, role: 'server' },
      { name: 'grader:alice', role: 'grader', transport: 'tcp' },
    ]);
    // The server recorded one connection (the program's), the grader one (its own): no copy of it.
    expect(connectionsOf(traffic, 'echo').size).toBe(1);
    expect(connectionsOf(traffic, 'grader:alice').size).toBe(1);
    const echoEvents = traffic.events.filter((e) => e.endpoint === 'echo');
    const aliceEvents = traffic.events.filter((e) => e.endpoint === 'grader:alice');
    expect(echoEvents.every((e) => e.peer === undefined)).toBe(true);
    expect(aliceEvents.every((e) => e.peer === 'echo')).toBe(true);
    expect(textOf(echoEvents, 'from-learner')).toBe('from the program\n');
    expect(textOf(aliceEvents, 'to-learner')).toBe('from alice\n');
    expect(textOf(aliceEvents, 'from-learner')).toBe('from alice\n');
    expect(aliceEvents.map((e) => e.kind)).toEqual(expect.arrayContaining(['open', 'close']));
    // Every payload was recorded once: the bytes the server echoed to alice are not there twice.
    expect(traffic.events.filter((e) => e.preview?.text?.includes('from alice')).length).toBe(2);
  });

  it('names its server among the endpoints from its first event, in a streamed batch too', async () => {
    const log = new TrafficLog();
    const echo = await echoServer(log);
    const reader = new TrafficReader(log, [ECHO]);
    const grader = new TestClient(await connect(echo.port, log), 'bob', log, 'echo');
    const first = reader.next();
    expect(first.events.map((e) => [e.endpoint, e.kind, e.peer])).toEqual([['grader:bob', 'open', 'echo']]);
    expect(first.endpoints.map((e) => [e.name, e.role])).toEqual([
      ['grader:bob', 'grader'],
      ['echo', 'server'],
    ]);
    await grader.write('ping\n');
    await grader.readLine();
    const second = reader.next();
    expect(second.events.map((e) => [e.endpoint, e.kind, e.direction, e.peer])).toEqual([
      ['grader:bob', 'data', 'to-learner', 'echo'],
      ['grader:bob', 'data', 'from-learner', 'echo'],
    ]);
  });

  it("is told apart from the program's connection made at the same moment", async () => {
    const log = new TrafficLog();
    const echo = await echoServer(log);
    // Both connect before either is accepted: only the registered one is the grader's.
    const [programSocket, graderSocket] = await Promise.all([connect(echo.port), connect(echo.port, log)]);
    const grader = new TestClient(graderSocket, 'carol', log, 'echo');
    programSocket.write('p\n');
    await grader.write('g\n');
    await grader.readLine();
    await waitUntil(() => log.events.some((e) => e.endpoint === 'echo' && e.event === 'data' && e.direction === 'to-learner'), 2000);
    const traffic = serializeTraffic(log, [ECHO]);
    expect(textOf(traffic.events.filter((e) => e.endpoint === 'echo'), 'from-learner')).toBe('p\n');
    expect(textOf(traffic.events.filter((e) => e.endpoint === 'grader:carol'), 'from-learner')).toBe('g\n');
    expect(connectionsOf(traffic, 'echo').size).toBe(1);
  });

  it('over Socket.IO: the handshake and packets are the grader\'s, with the server as peer, and the server records no copy', async () => {
    const log = new TrafficLog();
    const server = new SocketIoReferenceServer(log);
    const port = await server.listen(0);
    cleanups.push(() => server.close());
    const client = await TestSocketIo.open(() => connect(port, log), `http://127.0.0.1:${port}`, { label: 'ada', auth: { name: 'ada' } }, log, 'socketIo');
    cleanups.push(() => client.close());
    expect(await client.emitWithAck('say', [{ text: 'hello' }])).toEqual([expect.objectContaining({ ok: true })]);
    const traffic = serializeTraffic(log, [SOCKET_IO]);
    expect(connectionsOf(traffic, 'socketIo').size).toBe(0);
    const ada = traffic.events.filter((e) => e.endpoint === 'grader:ada');
    expect(ada.every((e) => e.peer === 'socketIo')).toBe(true);
    expect(ada.some((e) => e.kind === 'handshake')).toBe(true);
    expect(ada.some((e) => e.socketIo?.socketIo?.event === 'say' && e.direction === 'to-learner')).toBe(true);
    expect(traffic.endpoints).toEqual([
      { name: 'grader:ada', role: 'grader', transport: 'socket.io' },
      { ...SOCKET_IO, role: 'server' },
    ]);
  });
});

describe('a real grade of a client exercise', () => {
  /** The traffic of grading `exercise`'s solution on a real server (started for each: a grade's servers are its own anyway). */
  async function gradeSolution(exercise: string): Promise<Traffic> {
    const server = await startServerProcess();
    cleanups.push(() => server.stop());
    const code = readFileSync(path.join(ROOT, 'exercises', exercise, 'solution.ts'), 'utf8');
    const res = await postJson(`${server.url}/api/exercises/${exercise}/submissions`, { code });
    expect(res.json.status).toBe('pass');
    return trafficSchema.parse(res.json.traffic);
  }

  it("tcp-chat-client: the grader's chat with the reference chat is drawn between those two, the program's with the chat as the program's", async () => {
    const traffic = await gradeSolution('tcp-chat-client');
    const grader = traffic.events.filter((e) => e.endpoint === 'grader:grader');
    const chat = traffic.events.filter((e) => e.endpoint === 'chat');
    expect(grader.length).toBeGreaterThan(0);
    expect(grader.every((e) => e.peer === 'chat')).toBe(true);
    expect(chat.every((e) => e.peer === undefined)).toBe(true);
    // The grader logs in as "grader"; that line reaches the chat once in the traffic, on the grader's connection.
    const logins = traffic.events.filter((e) => e.kind === 'data' && e.preview?.text?.startsWith('grader\n'));
    expect(logins.map((e) => [e.endpoint, e.direction])).toEqual([['grader:grader', 'to-learner']]);
    // The program talked to the chat on its own connection (the grade starts it once).
    expect(connectionsOf(traffic, 'chat').size).toBe(1);
    expect(chat.some((e) => e.kind === 'data' && e.direction === 'from-learner')).toBe(true);
    expect(traffic.endpoints.find((e) => e.name === 'chat')).toMatchObject({ role: 'server' });
  }, 120_000);

  it("sio-client: the kit's two Socket.IO clients talk to the reference server as themselves; the server's record is the programs' alone", async () => {
    const traffic = await gradeSolution('sio-client');
    const kit = traffic.events.filter((e) => e.endpoint.startsWith('grader:'));
    expect(new Set(kit.map((e) => e.endpoint))).toEqual(new Set(['grader:grader', 'grader:ada']));
    expect(kit.every((e) => e.peer === 'socketIo')).toBe(true);
    // Each kit client's CONNECT (its auth names it) is recorded once, on its own connection; the
    // server's record holds the programs' connections only.
    const kitConnects = kit.filter((e) => e.socketIo?.socketIo?.type === 'CONNECT' && e.direction === 'to-learner');
    expect(kitConnects.map((e) => e.endpoint).sort()).toEqual(['grader:ada', 'grader:grader']);
    const naming = (e: TrafficWireEvent) => /"name":"(grader|ada)"/.test(e.preview?.text ?? '');
    expect(traffic.events.filter((e) => e.endpoint === 'socketIo').some(naming)).toBe(false);
    expect(traffic.events.filter((e) => e.endpoint === 'socketIo' && e.kind === 'open').length).toBeGreaterThan(0);
  }, 120_000);
});
