// The WebSocket endpoint the editors use (/api/ws): run and check, streamed (the protocol is
// shapes/editor-protocol.ts). This module accepts connections; each one is an EditorConnection.
// Guards: a cap on connections per IP (refused at the upgrade with HTTP 429), a cap on message size
// (ws closes with 1009), and ping/pong heartbeats that drop dead peers (and so stop their jobs).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { clientIp } from '../api/rate-limit.ts';
import type { Services } from '../services.ts';
import type { UpgradeHandler } from '../live-routes.ts';
import { EditorConnection } from './editor-connection.ts';

export const EDITOR_SOCKET_PATH = '/api/ws';

export interface EditorSocket {
  wss: WebSocketServer;
  /** Serves an upgrade request for EDITOR_SOCKET_PATH (the server's upgrade router sends it here). */
  handleUpgrade: UpgradeHandler;
}

export function createEditorSocket(services: Services): EditorSocket {
  const { maxCodeBytes, webSocket, trustProxyHops } = services.config;
  const maxPayload = maxCodeBytes * 2 + 4096;
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  const perIp = new Map<string, number>();
  const connections = new Set<EditorConnection>();
  let nextId = 1;

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const ip = clientIp(req, trustProxyHops);
    if ((perIp.get(ip) ?? 0) >= webSocket.maxPerIp) {
      const body = JSON.stringify({
        error: { code: 'too_many_connections', message: `At most ${webSocket.maxPerIp} WebSocket connections per address; close another tab or try again later.` },
      });
      socket.end(
        `HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    // handleUpgrade calls back in the same tick, so the count cannot be overtaken between check and add.
    wss.handleUpgrade(req, socket, head, (ws) => {
      perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
      const connection = new EditorConnection(ws, services, nextId++, ip);
      connections.add(connection);
      ws.once('close', () => {
        connections.delete(connection);
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left > 0) perIp.set(ip, left);
        else perIp.delete(ip);
      });
      wss.emit('connection', ws, req);
    });
  };

  const heartbeat = setInterval(() => connections.forEach((c) => c.heartbeat()), webSocket.heartbeatMs);
  heartbeat.unref();
  wss.on('close', () => clearInterval(heartbeat));
  return { wss, handleUpgrade };
}
