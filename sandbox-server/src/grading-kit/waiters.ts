// Waits for a condition that incoming data makes true, with a deadline: the test clients call
// wake() whenever something arrives, and until() resolves once ready() holds or time is up.
export class Waiters {
  private readonly waiting = new Set<() => void>();

  /** Resolves when `ready()` holds (checked now and at each wake()) or after `within` ms, whichever is first. */
  until(ready: () => boolean, within: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => ready() && done();
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(check);
        resolve();
      };
      const timer = setTimeout(done, within);
      this.waiting.add(check);
    });
  }

  /** Something arrived: each waiter checks its condition again. */
  wake(): void {
    for (const check of [...this.waiting]) check();
  }
}
