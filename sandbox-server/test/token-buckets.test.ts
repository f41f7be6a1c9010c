// Token buckets and the rate-limit policy built on them, with a fake clock.
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../src/token-buckets.ts';
import { RateLimiter, clientIp } from '../src/api/rate-limit.ts';
import { ApiError } from '../src/api/errors.ts';
import type { IncomingMessage } from 'node:http';

describe('TokenBuckets', () => {
  it('allows a burst, then refills at the per-minute rate', () => {
    let now = 0;
    const b = new TokenBuckets(60, 3, () => now);
    expect([b.tryTake('a'), b.tryTake('a'), b.tryTake('a'), b.tryTake('a')]).toEqual([true, true, true, false]);
    expect(b.waitMs('a')).toBe(1000);
    expect(b.tryTake('b')).toBe(true); // keys are independent
    now += 1000;
    expect(b.tryTake('a')).toBe(true);
    expect(b.tryTake('a')).toBe(false);
  });

  it('perMinute 0 means no limit', () => {
    const b = new TokenBuckets(0, 1);
    for (let i = 0; i < 1000; i++) expect(b.tryTake('a')).toBe(true);
    expect(b.size).toBe(0);
  });

  it('forgets refilled buckets, and never holds more than maxKeys', () => {
    let now = 0;
    const b = new TokenBuckets(60, 2, () => now, 100);
    for (let i = 0; i < 50; i++) b.take(`k${i}`);
    expect(b.size).toBe(50);
    now += 61_000;
    b.take('late');
    expect(b.size).toBe(1);
    for (let i = 0; i < 500; i++) b.take(`x${i}`);
    expect(b.size).toBeLessThanOrEqual(101);
  });
});

describe('RateLimiter', () => {
  it('charges the client and its IP; refuses with 429 rate_limited and retryAfter, charging nothing', () => {
    const limiter = new RateLimiter({ perMin: 60, burst: 2, ipPerMin: 120, ipBurst: 3 });
    limiter.take('ws:1', '10.0.0.1');
    limiter.take('ws:1', '10.0.0.1');
    const err = (() => {
      try {
        limiter.take('ws:1', '10.0.0.1');
      } catch (e) {
        return e as ApiError;
      }
    })()!;
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.code, err.retryAfter]).toEqual([429, 'rate_limited', 1]);
    expect(err.message).toMatch(/at most 60 a minute \(bursts of 2\)/);
    // another connection from the same IP has its own bucket, but the IP's is nearly spent
    limiter.take('ws:2', '10.0.0.1');
    expect(() => limiter.take('ws:3', '10.0.0.1')).toThrow(/at most 120 a minute from one address/);
    // other addresses are not affected
    limiter.take('ws:4', '10.0.0.2');
  });
});

describe('clientIp', () => {
  const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as IncomingMessage;
  it('is the socket address unless proxies are trusted, then read from the right', () => {
    expect(clientIp(req('::ffff:127.0.0.1', '1.2.3.4'))).toBe('127.0.0.1');
    expect(clientIp(req('127.0.0.1', 'forged, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientIp(req('127.0.0.1', 'forged, 1.2.3.4, 10.0.0.9'), 2)).toBe('1.2.3.4');
    expect(clientIp(req('127.0.0.1'), 1)).toBe('127.0.0.1');
  });
});
