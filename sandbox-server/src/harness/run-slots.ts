// A bounded pool of run slots with a bounded FIFO queue in front of it. Every run and grade started
// from the API or the WebSocket endpoint holds a slot while it executes, so a burst of requests
// cannot start more learner processes and reference servers than the machine can carry. Past the
// queue, or after waiting too long in it, a job is refused (RunSlotsBusy) instead of piling up; a
// waiting job whose signal aborts (its client went away, or pressed Stop) leaves the queue at once.

export class RunSlotsBusy extends Error {
  constructor(
    message: string,
    /** Seconds after which trying again has a fair chance. */
    readonly retryAfter: number,
  ) {
    super(message);
  }
}

interface Waiter {
  grant: (release: () => void) => void;
  refuse: (err: unknown) => void;
}

export class RunSlots {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Moving average of how long a job holds its slot, for the retry hint. */
  private averageMs = 1000;

  constructor(
    readonly slots: number,
    readonly queueLength: number,
    readonly queueTimeoutMs: number,
  ) {
    if (!(slots >= 1)) throw new RangeError('RunSlots needs at least one slot');
  }

  /** Jobs holding a slot now. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` in a slot; see acquire() for how it can be refused. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Resolves with a release function once a slot is free. Rejects with RunSlotsBusy when the queue
   * is full or the wait exceeds queueTimeoutMs, and with the signal's reason if it aborts first.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.slots) {
      this.running += 1;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.queueLength) {
      return Promise.reject(
        new RunSlotsBusy(`The sandbox is busy (${this.running} running, ${this.waiting.length} waiting); try again in ${this.retryAfter()} s.`, this.retryAfter()),
      );
    }
    return new Promise((resolve, reject) => {
      const leave = () => {
        const i = this.waiting.indexOf(waiter);
        if (i !== -1) this.waiting.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        refuse: (err) => {
          leave();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        const seconds = Number((this.queueTimeoutMs / 1000).toFixed(1));
        waiter.refuse(new RunSlotsBusy(`The sandbox is busy: no free slot within ${seconds} s; try again in ${this.retryAfter()} s.`, this.retryAfter()));
      }, this.queueTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Seconds until a slot is likely free for one more job, from the average job length (1 to 60). */
  retryAfter(): number {
    const ms = (this.averageMs * (this.waiting.length + 1)) / this.slots;
    return Math.min(60, Math.max(1, Math.ceil(ms / 1000)));
  }

  private releaser(): () => void {
    const started = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageMs = this.averageMs * 0.8 + (Date.now() - started) * 0.2;
      const next = this.waiting[0];
      if (next) next.grant(this.releaser()); // the slot passes straight to the next job
      else this.running -= 1;
    };
  }
}
