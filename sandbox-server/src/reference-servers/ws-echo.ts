// WebSocket echo: every message comes back as it came, text as text and binary as binary, and a
// close is answered with the client's own code. Hostile clients are contained: a cap on connections
// (past it the upgrade is refused with 503), on message size (1009) and on what a client leaves
// unread (it is dropped), and an idle timeout. Plain HTTP gets 426 and a sentence saying what this is.
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { WebSocketTap } from '../traffic/websocket-tap.ts';
import type { StreamReferenceServer } from './registry.ts';

export interface WsEchoLimits {
  maxConnections: number;
  /** A connection that sends nothing for this long is closed with 1001 (0 = never). */
  idleTimeoutMs: number;
  /** Largest message; a larger one closes the connection with 1009. */
  maxMessageBytes: number;
  /** Echoes waiting to be sent to a client past which it is taken to have stopped reading, and dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_WS_ECHO_LIMITS: WsEchoLimits = { maxConnections: 256, idleTimeoutMs: 0, maxMessageBytes: 64 * 1024, maxBufferedBytes: 1024 * 1024 };

export class WsEchoServer implements StreamReferenceServer {
  readonly name = 'ws-echo';
  readonly limits: WsEchoLimits;
  private readonly http = http.createServer((_req, res) => {
    res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' }).end('This is a WebSocket echo server: connect with a WebSocket client (ws://).\n');
  });
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly traffic?: TrafficLog,
    limits: Partial<WsEchoLimits> = {},
  ) {
    this.limits = { ...DEFAULT_WS_ECHO_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxMessageBytes, perMessageDeflate: false });
    this.http.on('error', () => {}); // listen errors are reported by listen()'s promise
    this.http.on('connection', (socket: net.Socket) => this.track(socket));
    this.http.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
      if (this.wss.clients.size >= this.limits.maxConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, socket));
    });
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.http.listen(port, host);
    await Promise.race([
      once(this.http, 'listening'),
      once(this.http, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    return this.port;
  }

  get port(): number {
    return (this.http.address() as net.AddressInfo).port;
  }

  /** Serves a connection that arrived some other way (relayed from an isolated program's network). */
  acceptSocket(socket: net.Socket): void {
    this.http.emit('connection', socket);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.wss.close();
    if (this.http.listening) await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private track(socket: net.Socket): void {
    socket.on('error', () => {}); // ECONNRESET and the like: 'close' follows
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (!this.traffic) return;
    const traffic = this.traffic;
    const id = traffic.newConnection(this.name);
    // The request's bytes after its head come back through 'data' when ws puts them back on the socket.
    const tap = new WebSocketTap(traffic, this.name, id, undefined, 'from-learner');
    socket.on('data', (chunk: Buffer) => tap.push('from-learner', chunk));
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk) || typeof chunk === 'string') tap.push('to-learner', Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as typeof socket.write;
    socket.once('close', () => traffic.closed(this.name, id, 'close'));
  }

  private serve(ws: WebSocket, socket: net.Socket): void {
    let idle: NodeJS.Timeout | undefined;
    if (this.limits.idleTimeoutMs > 0) {
      idle = setTimeout(() => ws.close(1001, 'idle for too long'), this.limits.idleTimeoutMs);
      idle.unref();
      socket.once('close', () => clearTimeout(idle));
    }
    ws.on('error', () => {}); // a protocol error (ws closes with the right code); 'close' follows
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      idle?.refresh();
      if (ws.bufferedAmount > this.limits.maxBufferedBytes) return ws.terminate(); // it stopped reading
      ws.send(data, { binary: isBinary });
    });
  }
}
