// The grading kit: what an exercise's grade.test.ts imports besides vitest's describe/it/expect.
// Its API is documented in README.md beside this file; AUTHORING.md at the repository root shows it in use.
export { GradingFailure, currentGrade, oncePerGrade } from './context.ts';
export { describeBytes, describeLines, firstDifference } from './describe-bytes.ts';
export { TestClient, DEFAULT_WAIT_MS } from './test-client.ts';
export { TestWebSocket, type TestWebSocketOptions, type WebSocketMessage, type CloseInfo } from './test-websocket.ts';
export { TestSocketIo, show, showCall, type TestSocketIoOptions, type ReceivedEvent, type ConnectRefusal } from './test-socket-io.ts';
export { explainFailures } from './explained.ts';
export { request, expectOk, expectRefused, explainCrash, askUntil, type Reply } from './ack-replies.ts';
export { learnerServer, startLearner, expectOutputLine, expectExit, describeExit, outputTail, waitUntil, type LearnerServer } from './learner.ts';
export { learnerModule, type LearnerModule, type RemoteObject } from './learner-module.ts';
export { onReferenceConnection } from './reference-hooks.ts';
export { wsFrame, closePayload, WS_OPCODES, type WsFrameOptions } from './ws-frames.ts';

import net from 'node:net';
import { currentGrade } from './context.ts';
import { TestClient } from './test-client.ts';
import { TestSocketIo, type TestSocketIoOptions } from './test-socket-io.ts';
import type { ReferenceServers, TcpServerName } from '../reference-servers/index.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';

// Types a grading test may name without reaching into the server's modules.
export type { LearnerProcess } from '../runner/learner-process.ts';
export type { TrafficEvent } from '../traffic/traffic-log.ts';
export type { WebSocketFrame } from '../traffic/websocket-frames.ts';

/** This grade's own reference servers (fresh for each grade); instrumented, e.g. `chat.seen`. */
export function referenceServers(): ReferenceServers {
  return currentGrade().session.servers;
}

/** A Socket.IO client connected to this grade's Socket.IO reference server (e.g. to talk to the learner's client). */
export async function connectSocketIoToReference(options: TestSocketIoOptions): Promise<TestSocketIo> {
  const ctx = currentGrade();
  const port = ctx.session.servers.ports.socketIo;
  const traffic = ctx.session.traffic;
  const client = await TestSocketIo.open(() => connectToServer(port, traffic), `http://127.0.0.1:${port}`, options, traffic, 'socketIo');
  ctx.cleanups.push(() => client.close());
  return client;
}

/** A loopback connection to one of the grade's reference servers, which leaves its own record of it to the grader's client (see graderConnecting). */
function connectToServer(port: number, traffic: TrafficLog | undefined): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    traffic?.graderConnecting(socket);
    socket.once('connect', () => resolve(socket)).once('error', reject);
  });
}

/** A test client connected to one of this grade's reference servers (e.g. to chat with the learner's client). */
export async function connectToReference(name: TcpServerName, label: string): Promise<TestClient> {
  const ctx = currentGrade();
  const traffic = ctx.session.traffic;
  const client = new TestClient(await connectToServer(ctx.session.servers.ports[name], traffic), label, traffic, ctx.session.servers[name].name);
  ctx.cleanups.push(() => client.destroy());
  return client;
}

import { GradingFailure } from './context.ts';
import { describeBytes, firstDifference } from './describe-bytes.ts';

/** Fails unless `got` is exactly `sent`, saying what was sent, what came back and where they differ. */
export function expectSameBytes(what: string, sent: Buffer, got: Buffer): void {
  const diff = firstDifference(sent, got);
  if (diff) throw new GradingFailure(`${what}: sent ${describeBytes(sent, 48)}, expected the same bytes back, got ${describeBytes(got, 48)}; ${diff}`);
}
