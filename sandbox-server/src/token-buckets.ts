// Keyed token buckets: each key may spend `burst` tokens at once, refilled at `perMinute`. Used for
// the rate limit on runs and submissions (api/rate-limit.ts) and the UDP echo server's per-sender
// datagram rate. Memory stays bounded: a bucket that has refilled is the same as no bucket, so full
// ones are dropped on a periodic sweep, and past `maxKeys` the oldest buckets are forgotten.

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private lastSweep: number;

  constructor(
    readonly perMinute: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = 100_000,
  ) {
    this.perMs = perMinute / 60_000;
    this.lastSweep = now();
  }

  /** perMinute 0 means no limit. */
  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** Milliseconds until `key` has `n` tokens; 0 when it has them now. */
  waitMs(key: string, n = 1): number {
    if (!this.enabled) return 0;
    const tokens = this.refill(key).tokens;
    return tokens >= n ? 0 : Math.ceil((n - tokens) / this.perMs);
  }

  /** Spends `n` tokens of `key` (check waitMs first: this may go below zero). */
  take(key: string, n = 1): void {
    if (!this.enabled) return;
    const bucket = this.refill(key);
    bucket.tokens -= n;
    this.buckets.set(key, bucket);
    this.sweep();
  }

  /** Spends a token if there is one; returns whether it did. */
  tryTake(key: string, n = 1): boolean {
    if (this.waitMs(key, n) > 0) return false;
    this.take(key, n);
    return true;
  }

  /** Drops `key`'s bucket (the key is gone for good, e.g. a closed connection). */
  forget(key: string): void {
    this.buckets.delete(key);
  }

  /** How many keys hold a bucket (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    return bucket;
  }

  private sweep(): void {
    const now = this.now();
    const period = this.burst / this.perMs;
    const full = this.buckets.size > this.maxKeys;
    if (!full && now - this.lastSweep < Math.min(period, 60_000)) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.burst) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key); // insertion order: the longest-known keys go first
    }
  }
}
