// The rate limit on runs and submissions, one policy for the HTTP API and the WebSocket endpoint.
// Two token buckets are charged per request: the client's own (an HTTP client is known only by its
// IP; a WebSocket connection is a client of its own) and its IP's, shared by HTTP and every
// WebSocket connection from that address. The IP bucket is larger, so learners behind one NAT (a
// classroom) are not throttled as one, while one host cannot multiply its allowance by opening
// many connections.
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { RateLimits } from '../config.ts';
import { TokenBuckets } from '../token-buckets.ts';
import { ApiError } from './errors.ts';

export class RateLimiter {
  private readonly clients: TokenBuckets;
  private readonly ips: TokenBuckets;

  constructor(readonly limits: RateLimits) {
    this.clients = new TokenBuckets(limits.perMin, limits.burst);
    this.ips = new TokenBuckets(limits.ipPerMin, limits.ipBurst);
  }

  /**
   * Charges one run or submission to `client` and `ip`. Throws ApiError 429 `rate_limited` (with
   * retryAfter in seconds) when either bucket is empty; nothing is charged then.
   */
  take(client: string, ip: string): void {
    const waitMs = Math.max(this.clients.waitMs(client), this.ips.waitMs(ip));
    if (waitMs > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      const clientWait = this.clients.waitMs(client) > 0;
      const policy = clientWait
        ? `at most ${this.limits.perMin} a minute (bursts of ${this.limits.burst})`
        : `at most ${this.limits.ipPerMin} a minute from one address`;
      throw new ApiError(429, 'rate_limited', `Too many runs and checks: ${policy}; try again in ${retryAfter} s.`, retryAfter);
    }
    this.clients.take(client);
    this.ips.take(ip);
  }

  /** Express middleware: charges the request's IP as the client. */
  http(trustProxyHops: number): RequestHandler {
    return (req, _res, next) => {
      const ip = clientIp(req, trustProxyHops);
      this.take(`http:${ip}`, ip);
      next();
    };
  }
}

/**
 * The client's address: the socket's peer, or with `trustProxyHops` reverse proxies in front, the
 * address the outermost trusted proxy saw (X-Forwarded-For read from the right, as express's numeric
 * "trust proxy" does). IPv4-mapped IPv6 addresses are written as plain IPv4.
 */
export function clientIp(req: IncomingMessage, trustProxyHops = 0): string {
  const chain = [req.socket.remoteAddress ?? 'unknown'];
  if (trustProxyHops > 0) {
    const forwarded = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .reverse();
    chain.push(...forwarded);
  }
  const ip = chain[Math.min(trustProxyHops, chain.length - 1)];
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
