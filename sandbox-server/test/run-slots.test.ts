// The run-slot pool on its own: bounded slots, bounded FIFO queue, refusal past it, queue timeout,
// and a waiting job that is aborted leaves the queue.
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunSlots, RunSlotsBusy } from '../src/harness/run-slots.ts';

/** A job that runs until its `finish` is called. */
function gate() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, job: () => done };
}

describe('RunSlots', () => {
  it('runs at most `slots` jobs at once and starts waiting jobs in arrival order', async () => {
    const slots = new RunSlots(2, 10, 10_000);
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g, i) => slots.run(() => (started.push(i), g.job())));
    await sleep(10);
    expect(started).toEqual([0, 1]);
    expect([slots.active, slots.queued]).toEqual([2, 3]);
    gates[1].finish();
    await sleep(10);
    expect(started).toEqual([0, 1, 2]);
    gates.forEach((g) => g.finish());
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect([slots.active, slots.queued]).toEqual([0, 0]);
  });

  it('refuses at once past the queue, with a retry hint in seconds', async () => {
    const slots = new RunSlots(1, 1, 10_000);
    const g = gate();
    const first = slots.run(g.job);
    const second = slots.run(async () => 'second');
    const t = performance.now();
    const third = await slots.run(async () => 'third').catch((e) => e);
    expect(performance.now() - t).toBeLessThan(20);
    expect(third).toBeInstanceOf(RunSlotsBusy);
    expect(third.message).toMatch(/busy \(1 running, 1 waiting\)/);
    expect(third.retryAfter).toBeGreaterThanOrEqual(1);
    g.finish();
    await first;
    expect(await second).toBe('second');
  });

  it('with no queue, refuses whenever every slot is taken', async () => {
    const slots = new RunSlots(1, 0, 10_000);
    const g = gate();
    const first = slots.run(g.job);
    await expect(slots.run(async () => 1)).rejects.toBeInstanceOf(RunSlotsBusy);
    g.finish();
    await first;
    expect(await slots.run(async () => 2)).toBe(2);
  });

  it('refuses a job that waited longer than the queue timeout, and it leaves the queue', async () => {
    const slots = new RunSlots(1, 5, 100);
    const g = gate();
    const first = slots.run(g.job);
    const t = performance.now();
    const waited = await slots.run(async () => 'never').catch((e) => e);
    expect(waited).toBeInstanceOf(RunSlotsBusy);
    expect(waited.message).toMatch(/no free slot within 0.1 s; try again in \d+ s/);
    expect(performance.now() - t).toBeGreaterThanOrEqual(90);
    expect(slots.queued).toBe(0);
    g.finish();
    await first;
    expect(slots.active).toBe(0);
  });

  it('an aborted waiting job leaves the queue without running, and its place is not lost', async () => {
    const slots = new RunSlots(1, 2, 10_000);
    const g = gate();
    const first = slots.run(g.job);
    const controller = new AbortController();
    let ran = false;
    const leaving = slots.run(async () => void (ran = true), controller.signal).catch((e) => e);
    const staying = slots.run(async () => 'stayed');
    expect(slots.queued).toBe(2);
    controller.abort(new Error('client went away'));
    expect((await leaving).message).toBe('client went away');
    expect(slots.queued).toBe(1);
    g.finish();
    await first;
    expect(await staying).toBe('stayed');
    expect(ran).toBe(false);
    expect([slots.active, slots.queued]).toEqual([0, 0]);
  });

  it('a job that throws still frees its slot', async () => {
    const slots = new RunSlots(1, 0, 10_000);
    await expect(slots.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await slots.run(async () => 'next')).toBe('next');
  });
});
