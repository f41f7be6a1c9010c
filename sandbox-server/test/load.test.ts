// Load and bad traffic on the API and the WebSocket endpoint, black-box, against the real server
// process: run slots and their queue, the rate limit, the per-IP connection cap, message size and
// heartbeats. Every test is bounded: a handful of requests, short programs, short timeouts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { getJson, postJson, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { openEditorSocket, type EditorSocket } from './support/editor-socket.ts';


/** A program that runs for `ms` and prints "started" first. */
const slow = (ms: number) => `console.log('started'); setTimeout(() => console.log('done'), ${ms});`;

/** Every socket a test opened, terminated after each test whatever its outcome. */
const sockets: WebSocket[] = [];
afterEach(() => sockets.splice(0).forEach((ws) => ws.terminate()));

async function openSocket(server: ServerProcess, options: WebSocket.ClientOptions = {}): Promise<EditorSocket> {
  const client = await openEditorSocket(server.url, options);
  sockets.push(client.ws);
  return client;
}

/** Waits until /api/health reports this many jobs running and waiting. */
async function slotsReach(server: ServerProcess, active: number, queued: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { runSlots } = (await getJson(`${server.url}/api/health`)).json;
    if (runSlots.active === active && runSlots.queued === queued) return;
    if (Date.now() > deadline) throw new Error(`run slots stayed at ${JSON.stringify(runSlots)}, expected active ${active}, queued ${queued}`);
    await sleep(25);
  }
}

describe('run slots (RUN_SLOTS=1, RUN_QUEUE=1)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ RUN_SLOTS: '1', RUN_QUEUE: '1', RATE_LIMIT_PER_MIN: '0' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('health reports the pool', async () => {
    const { json } = await getJson(`${server.url}/api/health`);
    expect(json.runSlots).toEqual({ slots: 1, queue: 1, active: 0, queued: 0 });
  });

  it('HTTP: past the slot and the queue, 429 busy with Retry-After, at once; the queued run still runs', async () => {
    const running = postJson(`${server.url}/api/run`, { code: slow(1500) });
    await slotsReach(server, 1, 0);
    const queued = postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code: '' });
    await slotsReach(server, 1, 1);
    const t = performance.now();
    const refused = await postJson(`${server.url}/api/run`, { code: 'console.log(1)' });
    const refusedInMs = performance.now() - t;
    expect(refused.status).toBe(429);
    expect(refused.json.error).toMatchObject({ code: 'busy', message: expect.stringMatching(/busy \(1 running, 1 waiting\); try again in \d+ s/) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refusedInMs).toBeLessThan(500);
    console.log(`refused at the queue bound in ${refusedInMs.toFixed(1)} ms, Retry-After ${refused.headers.get('retry-after')} s`);
    expect((await running).json).toMatchObject({ stdout: 'started\ndone\n', exitCode: 0 });
    expect((await queued).json).toMatchObject({ version: 2, status: 'fail' });
    await slotsReach(server, 0, 0);
  });

  it('WebSocket: busy error with retryAfter; HTTP and WebSocket share the slots', async () => {
    const c = await openSocket(server);
    c.ws.send(JSON.stringify({ type: 'run', id: 'a', code: slow(1500) }));
    await c.until((m) => m.type === 'output' && m.id === 'a');
    const queued = postJson(`${server.url}/api/run`, { code: 'console.log("queued ran")' });
    await slotsReach(server, 1, 1);
    c.ws.send(JSON.stringify({ type: 'check', id: 'b', exerciseId: 'tcp-echo-server', code: '' }));
    const err = await c.until((m) => m.id === 'b');
    expect(err).toMatchObject({ type: 'error', code: 'busy', message: expect.stringMatching(/busy/) });
    expect(err.retryAfter).toBeGreaterThanOrEqual(1);
    expect((await c.until((m) => m.type === 'exit' && m.id === 'a')).result.exitCode).toBe(0);
    expect((await queued).json.stdout).toBe('queued ran\n');
    c.ws.close();
  });

  it('a queued HTTP client that goes away leaves the queue, and its place goes to the next client', async () => {
    const running = postJson(`${server.url}/api/run`, { code: slow(1500) });
    await slotsReach(server, 1, 0);
    const controller = new AbortController();
    const gone = fetch(`${server.url}/api/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'console.log("should not run")' }),
      signal: controller.signal,
    }).catch((e) => e);
    await slotsReach(server, 1, 1);
    controller.abort();
    expect(await gone).toMatchObject({ name: 'AbortError' });
    await slotsReach(server, 1, 0); // left the queue while the first run still runs
    const next = postJson(`${server.url}/api/run`, { code: 'console.log("next")' }); // takes the freed place
    await slotsReach(server, 1, 1);
    expect((await running).status).toBe(200);
    expect((await next).json.stdout).toBe('next\n');
  });

  it('WebSocket: a stopped queued job ends at once; a closed socket takes its queued job with it', async () => {
    const c = await openSocket(server);
    c.ws.send(JSON.stringify({ type: 'run', id: 'a', code: slow(1500) }));
    await c.until((m) => m.type === 'output' && m.id === 'a');
    c.ws.send(JSON.stringify({ type: 'run', id: 'q', code: 'console.log("q")' }));
    await slotsReach(server, 1, 1);
    c.ws.send(JSON.stringify({ type: 'stop', id: 'q' }));
    const exit = await c.until((m) => m.type === 'exit' && m.id === 'q', 1000);
    expect(exit.result).toMatchObject({ limit: 'stopped on request', stdout: '', exitCode: null });
    await slotsReach(server, 1, 0);

    const d = await openSocket(server);
    d.ws.send(JSON.stringify({ type: 'check', id: 'c', exerciseId: 'tcp-echo-server', code: '' }));
    await slotsReach(server, 1, 1);
    d.ws.terminate();
    await slotsReach(server, 1, 0);
    await c.until((m) => m.type === 'exit' && m.id === 'a');
    c.ws.close();
  });

  it('a job that waits longer than RUN_QUEUE_TIMEOUT_MS is refused as busy', async () => {
    const own = await startServerProcess({ RUN_SLOTS: '1', RUN_QUEUE: '4', RUN_QUEUE_TIMEOUT_MS: '500', RATE_LIMIT_PER_MIN: '0' });
    try {
      const running = postJson(`${own.url}/api/run`, { code: slow(2000) });
      await slotsReach(own, 1, 0);
      const t = performance.now();
      const waited = await postJson(`${own.url}/api/run`, { code: 'console.log(1)' });
      const ms = performance.now() - t;
      expect(waited.status).toBe(429);
      expect(waited.json.error).toMatchObject({ code: 'busy', message: expect.stringMatching(/no free slot within 0.5 s/) });
      expect(waited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(ms).toBeGreaterThanOrEqual(450);
      expect(ms).toBeLessThan(1500);
      expect((await running).status).toBe(200);
    } finally {
      await own.stop();
    }
  });
});

describe('rate limit (2 per client, 5 per IP, then 1 per 10 s / 5 s)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ RATE_LIMIT_PER_MIN: '6', RATE_LIMIT_BURST: '2', RATE_LIMIT_IP_PER_MIN: '12', RATE_LIMIT_IP_BURST: '5' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('per client and per IP, one policy for HTTP and WebSocket', async () => {
    // HTTP: the client is the IP
    for (let i = 0; i < 2; i++) expect((await postJson(`${server.url}/api/run`, { code: 'console.log(1)' })).status).toBe(200);
    const http = await postJson(`${server.url}/api/run`, { code: 'console.log(1)' });
    expect(http.status).toBe(429);
    expect(http.json.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/at most 6 a minute \(bursts of 2\); try again in \d+ s/) });
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThanOrEqual(5);
    expect((await postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code: '' })).status).toBe(429);
    // reading is not limited
    expect((await getJson(`${server.url}/api/exercises`)).status).toBe(200);

    // WebSocket: each connection is a client of its own; the IP's bucket (5) is shared with HTTP (2 spent)
    const a = await openSocket(server);
    for (const id of ['a1', 'a2']) {
      a.ws.send(JSON.stringify({ type: 'run', id, code: 'console.log(1)' }));
      await a.until((m) => m.type === 'exit' && m.id === id);
    }
    a.ws.send(JSON.stringify({ type: 'run', id: 'a3', code: 'console.log(1)' }));
    const perConnection = await a.until((m) => m.id === 'a3');
    expect(perConnection).toMatchObject({ type: 'error', code: 'rate_limited', message: expect.stringMatching(/bursts of 2/) });
    expect(perConnection.retryAfter).toBeGreaterThanOrEqual(5);

    const b = await openSocket(server);
    b.ws.send(JSON.stringify({ type: 'run', id: 'b1', code: 'console.log(1)' }));
    await b.until((m) => m.type === 'exit' && m.id === 'b1');
    b.ws.send(JSON.stringify({ type: 'check', id: 'b2', exerciseId: 'tcp-echo-server', code: '' }));
    const perIp = await b.until((m) => m.id === 'b2');
    expect(perIp).toMatchObject({ type: 'error', code: 'rate_limited', message: expect.stringMatching(/at most 12 a minute from one address/) });
    a.ws.close();
    b.ws.close();
  });
});

describe('WebSocket guards (heartbeat 300 ms, 3 connections per IP, messages up to 6 kB)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // MAX_CODE_BYTES=1000 makes maxPayload 2 × 1000 + 4096 bytes
    server = await startServerProcess({ WS_HEARTBEAT_MS: '300', WS_MAX_PER_IP: '3', RATE_LIMIT_PER_MIN: '0', MAX_CODE_BYTES: '1000' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a message over maxPayload closes that socket with 1009; the server stays up', async () => {
    const c = await openSocket(server);
    c.ws.send(JSON.stringify({ type: 'run', id: 'big', code: 'x'.repeat(7_000) }));
    expect((await c.closed).code).toBe(1009);
    expect((await getJson(`${server.url}/api/health`)).json.status).toBe('ok');
    const d = await openSocket(server);
    d.ws.send(JSON.stringify({ type: 'run', id: 'ok', code: 'console.log("fine")' }));
    expect((await d.until((m) => m.type === 'exit')).result.stdout).toBe('fine\n');
    d.ws.close();
  });

  it('drops a peer that stops answering pings, and stops its running job', async () => {
    const live = await openSocket(server);
    const dead = await openSocket(server, { autoPong: false });
    let answering = true; // answers pings until its job runs, then goes silent
    dead.ws.on('ping', (data) => answering && dead.ws.pong(data));
    dead.ws.send(JSON.stringify({ type: 'run', id: 'forever', code: 'console.log("up"); setInterval(() => {}, 1000);' }));
    await dead.until((m) => m.type === 'output');
    await slotsReach(server, 1, 0);
    answering = false;
    const t = performance.now();
    const { code } = await dead.closed;
    const ms = performance.now() - t;
    expect(code).toBe(1006); // terminated: no closing handshake
    expect(ms).toBeLessThan(2000);
    await slotsReach(server, 0, 0, 2000); // its run was stopped and its slot freed
    expect(live.ws.readyState).toBe(WebSocket.OPEN); // a peer that answers pings stays
    live.ws.close();
  });

  it('refuses a 4th connection from one IP with HTTP 429, and accepts again after one closes', async () => {
    const open = await Promise.all([openSocket(server), openSocket(server), openSocket(server)]);
    const refused = await new Promise<{ status: number; body: string; retryAfter?: string }>((resolve, reject) => {
      const ws = new WebSocket(server.url.replace('http', 'ws') + '/api/ws');
      ws.on('open', () => reject(new Error('a 4th connection was accepted')));
      ws.on('error', () => {});
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, retryAfter: res.headers['retry-after'] }));
      });
    });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('5');
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'too_many_connections', message: expect.stringMatching(/At most 3 WebSocket connections per address/) });
    open[0].ws.close();
    await open[0].closed;
    await sleep(50);
    const again = await openSocket(server);
    again.ws.close();
    open.slice(1).forEach((c) => c.ws.close());
  });
});
