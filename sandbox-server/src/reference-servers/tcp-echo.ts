// TCP echo: every byte a client sends comes back unchanged, in order. A client that sends without
// reading is not read from until its echo has been sent (back-pressure, in ReferenceTcpServer),
// so it cannot make the server hold more than about one chunk for it.
import { ReferenceTcpServer, type Connection, type TcpServerLimits } from './tcp-server-base.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';

export class TcpEchoServer extends ReferenceTcpServer {
  constructor(traffic?: TrafficLog, limits: Partial<TcpServerLimits> = {}) {
    super('echo', traffic, limits);
  }

  protected onConnection(): void {}

  protected onData(conn: Connection, chunk: Buffer): void {
    conn.send(chunk);
  }
}
