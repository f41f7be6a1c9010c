// What the dashboard reference server measures on the machine it runs on: CPU usage from the change in
// os.cpus() counters between two samples (not a separate 100 ms wait per request, as the guide does),
// memory, the load average and the server's own uptime. One sample per broadcast tick.
import os from 'node:os';

/** The cumulative per-core CPU counters, in ms; an empty list where the platform gives none. */
export type CpuTimes = ReadonlyArray<{ user: number; nice: number; sys: number; idle: number; irq: number }>;

export interface MemoryValue {
  totalBytes: number;
  freeBytes: number;
  usedBytes: number;
  /** usedBytes / totalBytes in percent, one decimal. */
  usedPercent: number;
}

/** One sample of everything the machine says about itself; `cpu` is null until there are two samples to compare. */
export interface SystemSample {
  cpu: number | null;
  memory: MemoryValue;
  /** The 1, 5 and 15 minute load averages, two decimals ([0, 0, 0] on Windows). */
  load: [number, number, number];
  /** Whole seconds since the source was created (the server started). */
  uptime: number;
}

/**
 * CPU usage over the interval between two calls: the share of all cores' time that was not idle.
 * The counters are cumulative since boot, so one reading says nothing about now; the difference of
 * two readings does. Returns null when it cannot tell (the first call, no time counted, cores
 * added or removed), rather than a made-up 0 or 100.
 */
export class CpuUsage {
  private previous?: CpuTimes;

  constructor(private readonly read: () => CpuTimes = () => os.cpus().map((c) => c.times)) {}

  sample(): number | null {
    const now = this.read();
    const before = this.previous;
    this.previous = now;
    if (!before || now.length === 0 || now.length !== before.length) return null;
    let busy = 0;
    let total = 0;
    for (const [i, core] of now.entries()) {
      const was = before[i];
      // A counter that went backwards (a core reset) counts as no time rather than negative time.
      const idle = Math.max(0, core.idle - was.idle);
      const all = idle + [core.user - was.user, core.nice - was.nice, core.sys - was.sys, core.irq - was.irq].reduce((sum, d) => sum + Math.max(0, d), 0);
      total += all;
      busy += all - idle;
    }
    if (total === 0) return null; // the guide's version computes 0/0 here and reports 100 %
    return round(100 * (busy / total), 1);
  }
}

/** A metric source: called once per tick, with the tick's number. */
export interface MetricSource {
  sample(tick: number): SystemSample;
}

export class SystemMetrics implements MetricSource {
  private readonly cpu = new CpuUsage();
  private readonly startedAt = Date.now();

  sample(): SystemSample {
    const totalBytes = os.totalmem();
    const freeBytes = os.freemem();
    const usedBytes = totalBytes - freeBytes;
    const [one, five, fifteen] = os.loadavg();
    return {
      cpu: this.cpu.sample(),
      memory: { totalBytes, freeBytes, usedBytes, usedPercent: round((100 * usedBytes) / totalBytes, 1) },
      load: [round(one, 2), round(five, 2), round(fifteen, 2)],
      uptime: Math.floor((Date.now() - this.startedAt) / 1000),
    };
  }
}

function round(n: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}
