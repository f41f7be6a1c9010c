// What every reference TCP server shares: listen on a given port, track sockets so close() is
// immediate, record traffic when a run asks for it, and never let one client's error escape.
import net from 'node:net';
import { once } from 'node:events';
import type { TrafficLog } from '../harness/traffic.ts';

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

export abstract class ReferenceTcpServer {
  protected readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly acceptHooks = new Set<AcceptHook>();
  private nextId = 1;

  constructor(
    readonly name: string,
    protected readonly traffic?: TrafficLog,
  ) {
    this.server.on('error', () => {}); // listen errors are reported by listen()'s promise
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.server.listen(port, host);
    await Promise.race([
      once(this.server, 'listening'),
      once(this.server, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    return (this.server.address() as net.AddressInfo).port;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
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

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const id = this.traffic ? this.traffic.newConnection(this.name) : this.nextId++;
    let shaper: OutputShaper | undefined;
    for (const hook of this.acceptHooks) shaper = hook(socket) ?? shaper;
    let ended = false;
    const conn: Connection = {
      socket,
      id,
      send: (data) => {
        if (ended || socket.destroyed) return;
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        this.traffic?.data(this.name, id, 'to-learner', bytes);
        if (shaper) shaper.write(bytes);
        else socket.write(bytes);
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
      this.traffic?.closed(this.name, id, 'close');
      this.onGone(conn);
    };
    socket.on('data', (chunk: Buffer) => {
      this.traffic?.data(this.name, id, 'from-learner', chunk);
      this.onData(conn, chunk);
    });
    socket.on('end', () => {
      this.traffic?.closed(this.name, id, 'end');
      conn.end();
    });
    socket.on('error', leave);
    socket.on('close', leave);
    this.onConnection(conn);
  }
}
