// A run's and a grade's traffic from the real server: whole in the JSON result over HTTP, streamed
// in "traffic" messages over the editor socket before the exit or verdict, each event once, with a
// mark for each grading test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trafficSchema, type Traffic, type TrafficWireEvent } from '../src/shapes/traffic.ts';
import { openEditorSocket } from './support/editor-socket.ts';
import { postJson, ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';

const echoClient = readFileSync(path.join(ROOT, 'lessons/samples/03-tcp-sockets/echo-client.ts'), 'utf8');
const echoServerSolution = readFileSync(path.join(ROOT, 'exercises/tcp-echo-server/solution.ts'), 'utf8');

/** What the echo client sample must have exchanged with the echo server: a connect, its two lines out, the echo back, a close. */
function expectEchoConversation(traffic: Traffic) {
  expect(traffic.endpoints).toEqual([{ name: 'echo', role: 'server', transport: 'tcp', title: 'TCP echo' }]);
  const echo = traffic.events.filter((e) => e.endpoint === 'echo');
  expect(echo[0].kind).toBe('open');
  const text = (direction: string) =>
    echo
      .filter((e) => e.kind === 'data' && e.direction === direction)
      .map((e) => e.preview?.text)
      .join('');
  expect(text('from-learner')).toBe('Hello from the client!\nThis is a second message\n');
  expect(text('to-learner')).toBe('Hello from the client!\nThis is a second message\n');
  expect(echo.map((e) => e.kind)).toContain('close');
}

describe('traffic from the server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ RUN_TIMEOUT_MS: '5000' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('POST /api/run: the result holds the whole traffic of the run', async () => {
    const run = await postJson(`${server.url}/api/run`, { code: echoClient });
    expect(run.status).toBe(200);
    expect(run.json.exitCode).toBe(0);
    const traffic = trafficSchema.parse(run.json.traffic);
    expectEchoConversation(traffic);
    expect(traffic).toMatchObject({ truncated: false, omittedEvents: 0, marks: [] });
  });

  it("a submission's verdict holds the traffic, with one mark per test, in the tests' order", async () => {
    const res = await postJson(`${server.url}/api/exercises/tcp-echo-server/submissions`, { code: echoServerSolution });
    expect(res.json.status).toBe('pass');
    const traffic = trafficSchema.parse(res.json.traffic);
    expect(traffic.marks.map((m) => m.test)).toEqual(res.json.tests.map((t: { name: string }) => t.name));
    for (const mark of traffic.marks) expect(mark.end).toBeGreaterThanOrEqual(mark.start);
    expect(traffic.endpoints.length).toBeGreaterThan(0);
    expect(traffic.endpoints.every((e) => e.role === 'grader' && e.name.startsWith('grader:'))).toBe(true);
    // The grader's clients connected to the program: each one's events lie inside the tests' time.
    const first = traffic.marks[0].start;
    expect(traffic.events.every((e) => e.t >= first)).toBe(true);
  });

  it('over the editor socket: streamed before the exit, each event once, the same conversation', async () => {
    const { ws, messages, until } = await openEditorSocket(server.url);
    ws.send(JSON.stringify({ type: 'run', id: 'echo', code: echoClient }));
    const exit = await until((m) => m.type === 'exit' && m.id === 'echo');
    ws.close();
    expect(exit.result.traffic).toBeUndefined();
    const exitAt = messages.indexOf(exit);
    const batches = messages.filter((m) => m.type === 'traffic' && m.id === 'echo');
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((b) => messages.indexOf(b) < exitAt)).toBe(true);
    const events: TrafficWireEvent[] = batches.flatMap((b) => b.events);
    expect(events.map((e) => e.seq)).toEqual([...events.keys()]);
    const last = batches[batches.length - 1];
    expectEchoConversation(trafficSchema.parse({ endpoints: last.endpoints, events, marks: last.marks, truncated: last.truncated, omittedEvents: last.omittedEvents }));
  });
});
