// What the reference servers that live on an HTTP server (WebSocket, Socket.IO) do alike: listen,
// tell their port, and serve a connection relayed from a pod as if their HTTP server had accepted it.
import type http from 'node:http';
import type net from 'node:net';
import { whenListening } from './listening.ts';
import type { StreamReferenceServer } from './registry.ts';

export abstract class HttpHostedServer implements StreamReferenceServer {
  protected abstract readonly http: http.Server;

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await whenListening(this.http, () => this.http.listen(port, host));
    return this.port;
  }

  get port(): number {
    return (this.http.address() as net.AddressInfo).port;
  }

  /** Serves a connection that arrived some other way (relayed from an isolated program's network). */
  acceptSocket(socket: net.Socket): void {
    this.http.emit('connection', socket);
  }

  abstract close(): Promise<void>;
}
