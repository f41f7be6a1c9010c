// The WebSocket tap on a server's side records the learner's upgrade request before the server's
// answer, although node's HTTP server reads the request in its own 'data' listener, where the 101
// and the first messages may be written at once (the tap listens before it).
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { TrafficLog } from '../src/traffic/traffic-log.ts';
import { WebSocketTap } from '../src/traffic/websocket-tap.ts';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

describe('WebSocketTap on a server', () => {
  it('records the request, then the 101, then what the server sent at once', async () => {
    const log = new TrafficLog();
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    server.on('connection', (socket) => new WebSocketTap(log, 'srv', log.newConnection('srv'), undefined, 'from-learner').attach(socket));
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.send('hi at once')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/path`);
    closers.push(() => ws.terminate());
    await new Promise((resolve) => ws.once('message', resolve));
    ws.send('and back');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (log.events.some((e) => e.event === 'frame' && e.direction === 'from-learner')) resolve(clearInterval(poll));
      }, 5);
    });
    const seen = log.events
      .filter((e) => e.event === 'handshake' || e.event === 'frame')
      .map((e) => `${e.direction} ${e.event} ${(e.bytes ?? Buffer.alloc(0)).toString('latin1').split('\r\n')[0]}`);
    expect(seen).toEqual([
      'from-learner handshake GET /path HTTP/1.1',
      'to-learner handshake HTTP/1.1 101 Switching Protocols',
      'to-learner frame hi at once',
      'from-learner frame and back',
    ]);
  });
});
