// TCP echo: every byte a client sends comes back unchanged, in order.
import { ReferenceTcpServer, type Connection } from './tcp-server-base.ts';
import type { TrafficLog } from '../harness/traffic.ts';

export class TcpEchoServer extends ReferenceTcpServer {
  constructor(traffic?: TrafficLog) {
    super('echo', traffic);
  }

  protected onConnection(): void {}

  protected onData(conn: Connection, chunk: Buffer): void {
    conn.send(chunk);
  }
}
