// A test file's worth of hooks and tests that record the order they run in, declared through either
// vitest's API or the grading shim's: sandbox-server/test/vitest-shim.test.ts runs it under both
// (real vitest through hook-order.vitest.ts) and requires the same order.
/** The part of vitest's API the probe uses: the real one's, or the shim's. */
export interface HookApi {
  describe(name: string, body: () => void): void;
  it(name: string, fn: () => unknown): void;
  beforeAll(fn: () => unknown): void;
  afterAll(fn: () => unknown): void;
  beforeEach(fn: () => unknown): void;
  afterEach(fn: () => unknown): void;
}

/** Declares tests and hooks (some of them failing) that record, through `log`, what ran when. */
export function declareHookOrderProbe({ afterAll, afterEach, beforeAll, beforeEach, describe, it }: HookApi, log: { push(step: string): unknown }): void {
  beforeAll(() => {
    log.push('beforeAll 1');
    return () => log.push('beforeAll 1 cleanup');
  });
  beforeAll(() => {
    log.push('beforeAll 2');
    return () => log.push('beforeAll 2 cleanup');
  });
  afterAll(() => void log.push('afterAll 1'));
  afterAll(() => void log.push('afterAll 2'));
  beforeEach(() => {
    log.push('outer beforeEach 1');
    return () => log.push('outer beforeEach 1 cleanup');
  });
  beforeEach(() => {
    log.push('outer beforeEach 2');
    return () => log.push('outer beforeEach 2 cleanup');
  });
  afterEach(() => void log.push('outer afterEach 1'));
  afterEach(() => void log.push('outer afterEach 2'));
  describe('inner', () => {
    beforeEach(() => {
      log.push('inner beforeEach 1');
      return () => log.push('inner beforeEach 1 cleanup');
    });
    afterEach(() => void log.push('inner afterEach 1'));
    afterEach(() => void log.push('inner afterEach 2'));
    it('t1', () => void log.push('t1'));
  });
  describe('failing beforeEach', () => {
    beforeEach(() => {
      log.push('bad beforeEach');
      throw new Error('boom');
    });
    beforeEach(() => void log.push('beforeEach after the bad one'));
    afterEach(() => void log.push('afterEach after a bad beforeEach'));
    it('t2', () => void log.push('t2'));
  });
  describe('failing afterEach', () => {
    afterEach(() => {
      log.push('bad afterEach');
      throw new Error('after boom');
    });
    afterEach(() => void log.push('afterEach declared after the bad one'));
    it('t3', () => void log.push('t3'));
  });
  it('t4', () => void log.push('t4'));
}
