// UDP echo: each datagram goes back to its sender unchanged.
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { TrafficLog } from '../harness/traffic.ts';

export class UdpEchoServer {
  readonly name = 'udp-echo';
  private readonly socket = dgram.createSocket('udp4');

  constructor(private readonly traffic?: TrafficLog) {
    this.socket.on('error', () => {});
    this.socket.on('message', (msg, rinfo) => {
      if (this.traffic) {
        const id = this.traffic.newConnection(this.name);
        this.traffic.data(this.name, id, 'from-learner', msg);
        this.traffic.data(this.name, id, 'to-learner', msg);
      }
      this.socket.send(msg, rinfo.port, rinfo.address);
    });
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    this.socket.bind(port, host);
    await Promise.race([
      once(this.socket, 'listening'),
      once(this.socket, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    return this.port;
  }

  get port(): number {
    return this.socket.address().port;
  }

  async close(): Promise<void> {
    try {
      await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    } catch {
      // never bound, or already closed
    }
  }
}
