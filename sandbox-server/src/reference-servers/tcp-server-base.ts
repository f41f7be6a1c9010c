// What every reference TCP server shares: listen on a given port, track sockets so close() is
// immediate, record traffic when a run asks for it, and never let one client's error escape.
// Hostile clients are contained here too: a cap on connections (past it a client is told and
// disconnected), an idle timeout (nothing received for that long), back-pressure (a client whose
// replies are not being read is not read from either) and a cap on data queued for a client that
// stops reading while others talk to it (it is dropped).
import net from 'node:net';
import { whenListening } from './listening.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';

export interface Connection {
  readonly socket: net.Socket;
  readonly id: number;
  send(data: string | Buffer): void;
  /** Ends the connection after everything sent so far. */
  end(): void;
  readonly ended: boolean;
}

/** Takes over how a server's bytes reach one connection (a grading test shaping the network). */
export interface OutputShaper {
  write(bytes: Buffer): void;
  end(): void;
}

/** Sees each accepted socket before the server does; may return a shaper for its output. */
export type AcceptHook = (socket: net.Socket) => OutputShaper | void;

export interface TcpServerLimits {
  /** Open connections; a client past it gets `fullMessage` and is disconnected. */
  maxConnections: number;
  /** A connection that sends nothing for this long is closed (0 = never). */
  idleTimeoutMs: number;
}

/** The per-run servers' limits; the shared servers get theirs from the configuration. */
export const DEFAULT_TCP_LIMITS: TcpServerLimits = { maxConnections: 256, idleTimeoutMs: 0 };

/** Unsent bytes for one client past which it is taken to have stopped reading, and dropped. */
export const MAX_UNSENT_BYTES = 1024 * 1024;
/** After a server dismisses a client (last words, then end), how long it may take to close. */
export const DISMISS_GRACE_MS = 2000;

export abstract class ReferenceTcpServer {
  protected readonly server = net.createServer((socket) => this.acceptSocket(socket));
  private readonly sockets = new Set<net.Socket>();
  /** Sockets refused because the server was full, until they close. */
  private readonly refused = new Set<net.Socket>();
  private readonly acceptHooks = new Set<AcceptHook>();
  private nextId = 1;
  readonly limits: TcpServerLimits;
  /** Said to a client refused because the server is full. */
  protected fullMessage = 'Error: server full, try again later\n';

  constructor(
    readonly name: string,
    protected readonly traffic?: TrafficLog,
    limits: Partial<TcpServerLimits> = {},
  ) {
    this.limits = {
      maxConnections: limits.maxConnections ?? DEFAULT_TCP_LIMITS.maxConnections,
      idleTimeoutMs: limits.idleTimeoutMs ?? DEFAULT_TCP_LIMITS.idleTimeoutMs,
    };
    this.server.on('error', () => {}); // listen errors are reported by listen()'s promise
  }

  /** Connections being served now. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await whenListening(this.server, () => this.server.listen(port, host));
    return (this.server.address() as net.AddressInfo).port;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of [...this.sockets, ...this.refused]) socket.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** For trusted grading code: watch, and optionally shape, every new connection. Returns an unsubscribe. */
  onAccept(hook: AcceptHook): () => void {
    this.acceptHooks.add(hook);
    return () => this.acceptHooks.delete(hook);
  }

  protected abstract onConnection(conn: Connection): void;
  protected abstract onData(conn: Connection, chunk: Buffer): void;
  protected onGone(_conn: Connection): void {}
  /** Called when a connection has sent nothing for limits.idleTimeoutMs; the default closes it. */
  protected onIdle(conn: Connection): void {
    this.dismiss(conn);
  }

  /**
   * Says `lastWords` (if any), ends the connection and stops reading from it; if the client has
   * not closed its side within DISMISS_GRACE_MS, the socket is destroyed.
   */
  protected dismiss(conn: Connection, lastWords?: string): void {
    if (conn.ended) return;
    if (lastWords) conn.send(lastWords);
    conn.end();
    conn.socket.pause(); // whatever else it sends is not read (and not buffered here)
    const timer = setTimeout(() => conn.socket.destroy(), DISMISS_GRACE_MS);
    timer.unref();
    conn.socket.once('close', () => clearTimeout(timer));
  }

  /**
   * Serves a connection that arrived some other way (relayed from an isolated program's network).
   * `recordIn`: a run's traffic log to record this one connection in, when this server is shared
   * and keeps no log of its own (a Run that joined the lessons' chat sees its own conversation).
   */
  acceptSocket(socket: net.Socket, recordIn?: TrafficLog): void {
    socket.on('error', () => {}); // ECONNRESET and the like: 'close' follows and cleans up
    // A client's end is answered by conn.end() below, after whatever an output shaper still holds
    // (node's default would end this side at once and lose it), on TCP and relayed sockets alike.
    socket.allowHalfOpen = true;
    if (this.sockets.size >= this.limits.maxConnections) {
      this.refused.add(socket);
      socket.resume(); // read and drop what it sends, so its close is seen at once
      socket.end(this.fullMessage);
      const timer = setTimeout(() => socket.destroy(), DISMISS_GRACE_MS);
      timer.unref();
      socket.once('close', () => {
        clearTimeout(timer);
        this.refused.delete(socket);
      });
      return;
    }
    this.sockets.add(socket);
    const id = this.traffic ? this.traffic.acceptedConnection(this.name, socket) : this.nextId++;
    // Where this connection's traffic goes, under which number there (a shared server's ids are its own).
    const log = recordIn ?? this.traffic;
    const logId = recordIn ? recordIn.newConnection(this.name) : id;
    let shaper: OutputShaper | undefined;
    for (const hook of this.acceptHooks) shaper = hook(socket) ?? shaper;
    let ended = false;
    const conn: Connection = {
      socket,
      id,
      send: (data) => {
        if (ended || socket.destroyed) return;
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        log?.data(this.name, logId, 'to-learner', bytes);
        if (shaper) return shaper.write(bytes);
        if (socket.writableLength > MAX_UNSENT_BYTES) {
          socket.destroy(); // it stopped reading: dropping it is the only bound on what it would cost
          return;
        }
        socket.write(bytes);
      },
      get ended() {
        return ended;
      },
      end: () => {
        if (ended) return;
        ended = true;
        if (shaper) shaper.end();
        else socket.end();
      },
    };
    let gone = false;
    const leave = () => {
      if (gone) return; // 'error' is followed by 'close': handle the departure once
      gone = true;
      this.sockets.delete(socket);
      log?.closed(this.name, logId, 'close');
      this.onGone(conn);
    };
    let idle: NodeJS.Timeout | undefined;
    if (this.limits.idleTimeoutMs > 0) {
      idle = setTimeout(() => this.onIdle(conn), this.limits.idleTimeoutMs);
      idle.unref();
      socket.once('close', () => clearTimeout(idle));
    }
    let waitingForDrain = false;
    socket.on('data', (chunk: Buffer) => {
      idle?.refresh();
      log?.data(this.name, logId, 'from-learner', chunk);
      this.onData(conn, chunk);
      // Back-pressure: while this client's replies wait to be sent, read nothing more from it.
      if (socket.writableNeedDrain && !waitingForDrain && !socket.destroyed) {
        waitingForDrain = true;
        socket.pause();
        socket.once('drain', () => {
          waitingForDrain = false;
          if (!ended) socket.resume();
        });
      }
    });
    socket.on('end', () => {
      log?.closed(this.name, logId, 'end');
      conn.end();
    });
    socket.on('error', leave);
    socket.on('close', leave);
    this.onConnection(conn);
  }
}
