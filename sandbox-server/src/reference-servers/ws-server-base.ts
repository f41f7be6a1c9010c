// What every WebSocket reference server shares (the WebSocket counterpart of tcp-server-base.ts):
// an HTTP server that upgrades (on its own port, for connections relayed from a sandbox, or for a
// request another HTTP server routed to it), traffic recording of handshakes and frames, and the
// containment of hostile clients: caps on connections (in all and per IP), on message size (1009),
// on messages per minute (1008), on what a client leaves unread (dropped), an idle timeout (1001),
// and a heartbeat that drops peers that stop answering pings. A departure is handled once, however
// many of 'error' and 'close' announce it.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpHostedServer } from './http-hosted-server.ts';
import { WebSocketServer, type WebSocket } from 'ws';
import { TokenBuckets } from '../token-buckets.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { WebSocketTap } from '../traffic/websocket-tap.ts';

export interface WsServerLimits {
  /** Open WebSockets; past it an upgrade is answered 503. */
  maxConnections: number;
  /** Open WebSockets per client IP; past it an upgrade is answered 429. */
  maxPerIp: number;
  /** A connection that sends nothing for this long is closed with 1001 (0 = never). */
  idleTimeoutMs: number;
  /** Largest message; a larger one closes the connection with 1009. */
  maxMessageBytes: number;
  /** Messages per minute per connection after a burst; past it the connection is closed with 1008 (0 = no limit). */
  messagesPerMinute: number;
  messageBurst: number;
  /** Messages per minute from one client IP, all its connections together (0 = no limit): many tabs cannot multiply the per-connection rate. */
  ipMessagesPerMinute: number;
  ipMessageBurst: number;
  /** Data queued for a client past which it is taken to have stopped reading, and dropped. */
  maxBufferedBytes: number;
  /** Ping interval; a peer that has not answered the previous ping is dropped (0 = no heartbeat). */
  heartbeatMs: number;
}

/** A run's own servers: roomy (a grading test may push hard), no idle timeout, no heartbeat. */
export const DEFAULT_WS_LIMITS: WsServerLimits = {
  maxConnections: 256,
  maxPerIp: 256,
  idleTimeoutMs: 0,
  maxMessageBytes: 64 * 1024,
  messagesPerMinute: 6000,
  messageBurst: 500,
  ipMessagesPerMinute: 0,
  ipMessageBurst: 0,
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: 0,
};

/** The shared servers' extra strictness, on top of the configuration's caps and idle timeout. */
export const SHARED_WS_LIMITS: Partial<WsServerLimits> = {
  maxPerIp: 20,
  messagesPerMinute: 600,
  messageBurst: 60,
  ipMessagesPerMinute: 1800,
  ipMessageBurst: 120,
  heartbeatMs: 30_000,
};

export interface WsConnection {
  readonly id: number;
  readonly ws: WebSocket;
  /** The client's IP as this server saw it (the routing server's view when routed). */
  readonly ip: string;
  /** Sends text (a string, or JSON of any other value) or binary (a Buffer); drops a client that stopped reading. */
  send(data: unknown): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
}

export abstract class ReferenceWebSocketServer extends HttpHostedServer {
  readonly limits: WsServerLimits;
  protected readonly http = http.createServer((_req, res) => {
    res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' }).end(`This is the course's ${this.name} server: connect with a WebSocket client (ws://).\n`);
  });
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Duplex>();
  private readonly perIp = new Map<string, number>();
  private readonly messageRate: TokenBuckets;
  private readonly ipMessageRate: TokenBuckets;
  private readonly heartbeat?: NodeJS.Timeout;
  /** Connections that answered the last ping (or are new since it). */
  private readonly alive = new WeakSet<WebSocket>();
  private nextId = 1;

  constructor(
    readonly name: string,
    protected readonly traffic?: TrafficLog,
    limits: Partial<WsServerLimits> = {},
  ) {
    super();
    const given = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
    this.limits = { ...DEFAULT_WS_LIMITS, ...given };
    this.messageRate = new TokenBuckets(this.limits.messagesPerMinute, this.limits.messageBurst);
    this.ipMessageRate = new TokenBuckets(this.limits.ipMessagesPerMinute, this.limits.ipMessageBurst);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxMessageBytes, perMessageDeflate: false, clientTracking: true });
    this.http.on('error', () => {}); // listen errors are reported by listen()'s promise
    this.http.on('connection', (socket: net.Socket) => this.track(socket, true));
    this.http.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    if (this.limits.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => {
        for (const ws of this.wss.clients) {
          if (!this.alive.has(ws)) {
            ws.terminate(); // no pong since the last ping
            continue;
          }
          this.alive.delete(ws);
          ws.ping();
        }
      }, this.limits.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Open WebSockets now. */
  get connectionCount(): number {
    return this.wss.clients.size;
  }

  /**
   * Serves an upgrade request another HTTP server received (the course's own server routing a path
   * to this one). `ip` is the client's address as that server knows it.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, ip = req.socket.remoteAddress ?? 'unknown'): void {
    if (!this.sockets.has(socket)) this.track(socket, false);
    const refuse = (status: string): void => void socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    if (this.wss.clients.size >= this.limits.maxConnections) return refuse('503 Service Unavailable');
    if ((this.perIp.get(ip) ?? 0) >= this.limits.maxPerIp) return refuse('429 Too Many Requests');
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.perIp.set(ip, left);
      else this.perIp.delete(ip);
    };
    socket.once('close', uncount);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, socket, req, ip));
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const socket of this.sockets) socket.destroy();
    this.wss.close();
    if (this.http.listening) await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** A new WebSocket, its upgrade request at hand (path, query, headers). */
  protected abstract onConnection(conn: WsConnection, req: http.IncomingMessage): void;
  protected abstract onMessage(conn: WsConnection, data: Buffer, isBinary: boolean): void;
  /** Called once when a connection has gone, however it ended. */
  protected onGone(_conn: WsConnection): void {}

  private track(socket: Duplex, ownConnection: boolean): void {
    socket.on('error', () => {}); // ECONNRESET and the like: 'close' follows
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (!this.traffic || !ownConnection) return; // a routed request's bytes were already read by its server
    // The request's bytes after its head come back through 'data' when ws puts them back on the socket.
    new WebSocketTap(this.traffic, this.name, this.traffic.acceptedConnection(this.name, socket), undefined, 'from-learner').attach(socket);
  }

  private serve(ws: WebSocket, socket: Duplex, req: http.IncomingMessage, ip: string): void {
    const id = this.nextId++;
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    const conn: WsConnection = {
      id,
      ws,
      ip,
      send: (data) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > this.limits.maxBufferedBytes) return ws.terminate(); // it stopped reading
        ws.send(Buffer.isBuffer(data) ? data : typeof data === 'string' ? data : JSON.stringify(data));
      },
      close: (code, reason) => ws.close(code, reason),
    };
    let idle: NodeJS.Timeout | undefined;
    if (this.limits.idleTimeoutMs > 0) {
      idle = setTimeout(() => ws.close(1001, 'idle for too long'), this.limits.idleTimeoutMs);
      idle.unref();
    }
    let gone = false;
    const leave = () => {
      if (gone) return;
      gone = true;
      clearTimeout(idle);
      this.messageRate.forget(String(id));
      this.onGone(conn);
    };
    ws.on('error', leave); // a protocol error: ws closes with the right code; 'close' follows
    ws.on('close', leave);
    socket.once('close', leave);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (gone) return;
      idle?.refresh();
      if (!this.messageRate.tryTake(String(id))) return ws.close(1008, 'too many messages');
      if (!this.ipMessageRate.tryTake(ip)) return ws.close(1008, 'too many messages from your address');
      this.onMessage(conn, data, isBinary);
    });
    this.onConnection(conn, req);
  }
}
