// WebSocket echo: every message comes back as it came, text as text and binary as binary, and a
// close is answered with the client's own code (ws does that in the closing handshake).
import type { TrafficLog } from '../traffic/traffic-log.ts';
import { ReferenceWebSocketServer, type WsConnection, type WsServerLimits } from './ws-server-base.ts';

export class WsEchoServer extends ReferenceWebSocketServer {
  constructor(traffic?: TrafficLog, limits: Partial<WsServerLimits> = {}) {
    super('ws-echo', traffic, limits);
  }

  protected onConnection(): void {}

  protected onMessage(conn: WsConnection, data: Buffer, isBinary: boolean): void {
    if (conn.ws.bufferedAmount > this.limits.maxBufferedBytes) return conn.ws.terminate(); // it stopped reading
    conn.ws.send(data, { binary: isBinary });
  }
}
