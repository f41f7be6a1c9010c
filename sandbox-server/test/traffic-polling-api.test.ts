// A run's traffic from the real server, for a program whose socket.io-client keeps its default
// transports: the Engine.IO open, the Socket.IO CONNECT, an emit and its ack are decoded from the
// HTTP long-polling requests and answers, then come the upgrade's handshake and Socket.IO over frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trafficSchema } from '../src/shapes/traffic.ts';
import { postJson, startServerProcess, type ServerProcess } from './support/server-process.ts';

/**
 * The program. Its WebSocket's connection is held back until the emit over polling was answered:
 * otherwise the upgrade races with that emit, which could then go either way.
 */
const PROGRAM = `
import http from 'node:http';
import net from 'node:net';
import { io } from 'socket.io-client';

let release!: () => void;
const answered = new Promise<void>((resolve) => (release = resolve));
class HeldAgent extends http.Agent {
  override createConnection(options: net.NetConnectOpts, callback?: (err: Error | null, socket: net.Socket) => void): undefined {
    void answered.then(() => callback!(null, net.connect(options)));
    return undefined;
  }
}

const socket = io(\`http://\${process.env.HOST}:\${process.env.SOCKET_IO_PORT}\`, {
  auth: { name: 'Ada' },
  reconnection: false,
  transportOptions: { websocket: { agent: new HeldAgent() } },
});
socket.io.engine.once('upgradeError', (err: Error) => {
  console.error('the upgrade failed:', err.message);
  process.exit(1);
});
console.log('ack over', socket.io.engine.transport.name, await socket.emitWithAck('echo', 'over polling'));
const upgraded = new Promise((resolve) => socket.io.engine.once('upgrade', resolve));
release();
await upgraded;
console.log('ack over', socket.io.engine.transport.name, await socket.emitWithAck('echo', 'over websocket'));
socket.close();
`;

describe('traffic of a Socket.IO run with the default transports', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ RUN_TIMEOUT_MS: '10000' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('POST /api/run: the CONNECT, the emit and its ack decoded from polling, then the upgrade and frames', async () => {
    const run = await postJson(`${server.url}/api/run`, { code: PROGRAM });
    expect(run.status).toBe(200);
    expect(run.json.stdout).toBe('ack over polling over polling\nack over websocket over websocket\n');
    expect(run.json.exitCode).toBe(0);
    const traffic = trafficSchema.parse(run.json.traffic);
    const sio = traffic.events.filter((e) => e.endpoint === 'socketIo');
    const step = (kind: string, direction: string, test: (e: (typeof sio)[number]) => boolean) => sio.findIndex((e) => e.kind === kind && e.direction === direction && test(e));
    const steps = [
      step('http', 'from-learner', (e) => /^GET \/socket\.io\/\?EIO=4&transport=polling&t=[^&\s]+ HTTP\/1\.1\r\n/.test(e.preview?.text ?? '')),
      step('packet', 'to-learner', (e) => e.socketIo?.engineIo === 'open'),
      step('packet', 'from-learner', (e) => e.socketIo?.socketIo?.type === 'CONNECT' && e.socketIo.socketIo.args === '{"name":"Ada"}'),
      step('packet', 'to-learner', (e) => e.socketIo?.socketIo?.type === 'CONNECT'),
      step('packet', 'from-learner', (e) => e.socketIo?.socketIo?.event === 'echo' && e.socketIo.socketIo.args === '["over polling"]' && e.socketIo.socketIo.ackId === 0),
      step('packet', 'to-learner', (e) => e.socketIo?.socketIo?.type === 'ACK' && e.socketIo.socketIo.args === '["over polling"]' && e.socketIo.socketIo.ackId === 0),
      step('handshake', 'from-learner', (e) => /^GET \/socket\.io\/\?EIO=4&transport=websocket&sid=/.test(e.preview?.text ?? '')),
      step('handshake', 'to-learner', (e) => /^HTTP\/1\.1 101 /.test(e.preview?.text ?? '')),
      step('frame', 'from-learner', (e) => e.socketIo?.engineIo === 'upgrade'),
      step('frame', 'from-learner', (e) => e.socketIo?.socketIo?.event === 'echo' && e.socketIo.socketIo.args === '["over websocket"]'),
      step('frame', 'to-learner', (e) => e.socketIo?.socketIo?.type === 'ACK' && e.socketIo.socketIo.args === '["over websocket"]'),
    ];
    // Each is there, in this order.
    expect(steps.every((at) => at !== -1), JSON.stringify(steps)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    // Polling packets carry where they were in their body; their chunks are recorded too.
    const packets = sio.filter((e) => e.kind === 'packet');
    expect(packets.every((e) => e.polling && e.polling.index >= 1 && e.bytes !== undefined)).toBe(true);
    expect(sio.some((e) => e.kind === 'data' && /^POST \/socket\.io\/\?EIO=4&transport=polling/.test(e.preview?.text ?? ''))).toBe(true);
  });
});
