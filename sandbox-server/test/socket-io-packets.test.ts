// The traffic log's Socket.IO reading: packets made by a real socket.io server and socket.io-client
// (the open packet, CONNECT with auth, events with arguments and an ack, the ack, a binary event and
// its attachment, ping and pong), recorded by the WebSocket tap as the reference servers record, and
// hand-made packets it must refuse or can read only in part.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { trafficSchema, type SocketIoInfo, type TrafficWireEvent } from '../src/shapes/traffic.ts';
import { decodeSocketIoPacket, isEngineIoRequest, SocketIoMessageDecoder } from '../src/traffic/socket-io-packets.ts';
import { TrafficLog } from '../src/traffic/traffic-log.ts';
import { serializeTraffic } from '../src/traffic/traffic-wire.ts';
import { WebSocketTap } from '../src/traffic/websocket-tap.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A socket.io server whose every connection is recorded in `log` as the endpoint "sio" (the learner is the client). */
async function recordedServer(log: TrafficLog): Promise<{ io: Server; url: string }> {
  const httpServer = http.createServer();
  httpServer.on('connection', (socket) => new WebSocketTap(log, 'sio', log.newConnection('sio'), undefined, 'from-learner').attach(socket));
  const io = new Server(httpServer, { transports: ['websocket'], pingInterval: 100, pingTimeout: 2000 });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => io.close(() => resolve())));
  return { io, url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}` };
}

function client(url: string, options: Parameters<typeof connectClient>[1] = {}): ClientSocket {
  const socket = connectClient(url, { transports: ['websocket'], reconnection: false, ...options });
  closers.push(async () => void socket.disconnect());
  return socket;
}

/** The decoded frames, as [direction, info], until `done` holds of them (polled: the log fills as the sockets go). */
async function framesUntil(log: TrafficLog, done: (infos: { direction: string; info: SocketIoInfo }[]) => boolean): Promise<{ direction: string; info: SocketIoInfo }[]> {
  for (let i = 0; i < 200; i++) {
    const infos = serializeTraffic(log, [{ name: 'sio', transport: 'socket.io' }])
      .events.filter((e): e is TrafficWireEvent & { socketIo: SocketIoInfo } => !!e.socketIo)
      .map((e) => ({ direction: e.direction!, info: e.socketIo }));
    if (done(infos)) return infos;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the expected packets were not recorded');
}

describe('Socket.IO packets from socket.io itself', () => {
  it('reads the open packet, CONNECT with auth, an event with arguments and an ack, and the ack', async () => {
    const log = new TrafficLog();
    const { io, url } = await recordedServer(log);
    io.on('connection', (socket) => {
      socket.on('greet', (text: string, extra: unknown, ack: (reply: unknown) => void) => ack({ heard: text, extra }));
    });
    const socket = client(url, { auth: { name: 'Ada' } });
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    const reply = await socket.emitWithAck('greet', 'hi', { n: 1 });
    expect(reply).toEqual({ heard: 'hi', extra: { n: 1 } });

    const infos = await framesUntil(log, (all) => all.some((f) => f.info.socketIo?.type === 'ACK'));
    const open = infos.find((f) => f.info.engineIo === 'open')!;
    expect(open.direction).toBe('to-learner');
    expect(JSON.parse(open.info.engineIoData!)).toMatchObject({ sid: expect.any(String), upgrades: [], pingInterval: 100 });

    const connects = infos.filter((f) => f.info.socketIo?.type === 'CONNECT');
    expect(connects.map((f) => f.direction)).toEqual(['from-learner', 'to-learner']);
    expect(connects[0].info.socketIo).toEqual({ type: 'CONNECT', namespace: '/', args: '{"name":"Ada"}' });
    expect(JSON.parse(connects[1].info.socketIo!.args!)).toEqual({ sid: expect.any(String) });

    const event = infos.find((f) => f.info.socketIo?.type === 'EVENT')!;
    expect(event.direction).toBe('from-learner');
    expect(event.info).toEqual({ engineIo: 'message', socketIo: { type: 'EVENT', namespace: '/', event: 'greet', args: '["hi",{"n":1}]', ackId: 0 } });
    const ack = infos.find((f) => f.info.socketIo?.type === 'ACK')!;
    expect(ack.direction).toBe('to-learner');
    expect(ack.info.socketIo).toEqual({ type: 'ACK', namespace: '/', args: '[{"heard":"hi","extra":{"n":1}}]', ackId: 0 });
  });

  it('reads a binary event with its attachments, events in a namespace, and ping/pong', async () => {
    const log = new TrafficLog();
    const { io, url } = await recordedServer(log);
    io.of('/chat').on('connection', (socket) => socket.emit('welcome', 'to chat'));
    const socket = client(url);
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.emit('upload', Buffer.from([1, 2, 3]), 'meta', Buffer.from([4]));
    const chat = client(`${url}/chat`);
    await new Promise<void>((resolve) => chat.on('welcome', () => resolve()));

    const infos = await framesUntil(log, (all) => all.some((f) => f.info.engineIo === 'pong') && all.some((f) => f.info.socketIo?.event === 'welcome'));
    const binaryAt = infos.findIndex((f) => f.info.socketIo?.type === 'BINARY_EVENT');
    expect(infos[binaryAt].info.socketIo).toEqual({
      type: 'BINARY_EVENT',
      namespace: '/',
      event: 'upload',
      args: '[{"_placeholder":true,"num":0},"meta",{"_placeholder":true,"num":1}]',
      attachments: 2,
    });
    expect(infos.slice(binaryAt + 1, binaryAt + 3).map((f) => f.info)).toEqual([
      { engineIo: 'message', attachment: { index: 1, of: 2 } },
      { engineIo: 'message', attachment: { index: 2, of: 2 } },
    ]);
    const welcome = infos.find((f) => f.info.socketIo?.event === 'welcome')!;
    expect(welcome.info.socketIo).toEqual({ type: 'EVENT', namespace: '/chat', event: 'welcome', args: '["to chat"]' });
    expect(infos.find((f) => f.info.engineIo === 'ping')?.direction).toBe('to-learner');
    expect(infos.find((f) => f.info.engineIo === 'pong')?.direction).toBe('from-learner');
    // What goes over the wire satisfies its shape.
    expect(() => trafficSchema.parse(serializeTraffic(log, [{ name: 'sio', transport: 'socket.io' }]))).not.toThrow();
  });
});

describe('SocketIoMessageDecoder on hand-made messages', () => {
  const text = (s: string, length = Buffer.byteLength(s)) => ({ binary: false, payload: Buffer.from(s), length });

  it('says what is not Engine.IO or not Socket.IO', () => {
    const decoder = new SocketIoMessageDecoder();
    expect(decoder.decode(text('hello')).error).toMatch(/not an Engine\.IO packet/);
    expect(decoder.decode(text('4{"a":1'))).toEqual({ engineIo: 'message', error: expect.stringMatching(/not a valid Socket\.IO packet/) });
    expect(decoder.decode(text('42["connect"]'))).toEqual({ engineIo: 'message', error: expect.stringMatching(/not a valid Socket\.IO packet: invalid payload/) });
    expect(decoder.decode({ binary: true, payload: Buffer.from([1]), length: 1 })).toEqual({ engineIo: 'message', error: 'binary data that no binary packet announced' });
  });

  it('reads the header of a message of which only the first bytes were kept', () => {
    const decoder = new SocketIoMessageDecoder();
    const cut = text('42/room,7["big \\"one\\"","xxxx', 3000);
    expect(decoder.decode(cut)).toEqual({
      engineIo: 'message',
      socketIo: { type: 'EVENT', namespace: '/room', ackId: 7, event: 'big "one"' },
      error: expect.stringMatching(/only the first 29 of its 3000 bytes were recorded/),
    });
  });

  it('cuts long arguments and keeps the ack id of a packet in a namespace', () => {
    const long = 'x'.repeat(1000);
    const packet = decodeSocketIoPacket(`2/admin,15["say","${long}"]`);
    expect(packet).toMatchObject({ type: 'EVENT', namespace: '/admin', event: 'say', ackId: 15 });
    expect('args' in packet && packet.args!.length).toBe(301);
    expect('args' in packet && packet.args!.endsWith('…')).toBe(true);
  });

  it('knows an Engine.IO upgrade request by its EIO query', () => {
    expect(isEngineIoRequest('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n')).toBe(true);
    expect(isEngineIoRequest('GET /chat?x=1&EIO=4 HTTP/1.1\r\n')).toBe(true);
    expect(isEngineIoRequest('GET /ws HTTP/1.1\r\n')).toBe(false);
  });
});
