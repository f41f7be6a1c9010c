// UDP echo: each datagram goes back to its sender unchanged. The sender's address can be forged,
// so the rate is capped per address and in total (a datagram costs 1 unit plus 1 per KiB); what is
// over the cap is dropped, as UDP may drop anything.
import dgram from 'node:dgram';
import { whenListening } from './listening.ts';
import { TokenBuckets } from '../token-buckets.ts';
import type { TrafficLog } from '../traffic/traffic-log.ts';
import type { DatagramSender } from './registry.ts';

export interface UdpEchoLimits {
  /** Units per second per sender address (a datagram costs 1 + its size in KiB); the burst is the same. */
  perSenderPerSecond: number;
  /** Units per second for all senders together. */
  totalPerSecond: number;
}

export const DEFAULT_UDP_LIMITS: UdpEchoLimits = { perSenderPerSecond: 2000, totalPerSecond: 20_000 };

export class UdpEchoServer {
  readonly name = 'udp-echo';
  private readonly socket = dgram.createSocket('udp4');
  private readonly perSender: TokenBuckets;
  private readonly total: TokenBuckets;
  /** Datagrams dropped for being over the rate (for tests and logs). */
  dropped = 0;

  constructor(
    private readonly traffic?: TrafficLog,
    limits: Partial<UdpEchoLimits> = {},
  ) {
    const { perSenderPerSecond, totalPerSecond } = { ...DEFAULT_UDP_LIMITS, ...limits };
    this.perSender = new TokenBuckets(perSenderPerSecond * 60, perSenderPerSecond);
    this.total = new TokenBuckets(totalPerSecond * 60, totalPerSecond);
    this.socket.on('error', () => {});
    this.socket.on('message', (msg, rinfo) => {
      // A send error (e.g. ICMP unreachable) is not ours to report.
      this.receive(msg, rinfo, (reply) => this.socket.send(reply, rinfo.port, rinfo.address, () => {}));
    });
  }

  /** Serves one datagram, from the server's own socket or relayed from a pod's network. */
  receive(msg: Buffer, from: DatagramSender, reply: (message: Buffer) => void): void {
    const cost = 1 + Math.floor(msg.length / 1024);
    if (this.perSender.waitMs(from.address, cost) > 0 || this.total.waitMs('*', cost) > 0) {
      this.dropped += 1;
      return;
    }
    this.perSender.take(from.address, cost);
    this.total.take('*', cost);
    if (this.traffic) {
      const id = this.traffic.newConnection(this.name);
      this.traffic.data(this.name, id, 'from-learner', msg);
      this.traffic.data(this.name, id, 'to-learner', msg);
    }
    reply(msg);
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await whenListening(this.socket, () => this.socket.bind(port, host));
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
