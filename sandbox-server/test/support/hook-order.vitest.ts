// Run by real vitest (not part of the suite: vitest-shim.test.ts starts it with a config of its
// own): records the order vitest runs the probe's hooks in, one line per step, to HOOK_ORDER_LOG.
// Lines are written as they happen, because beforeAll's cleanups run after every hook of the file.
import { appendFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { declareHookOrderProbe } from './hook-order-probe.ts';

const file = process.env.HOOK_ORDER_LOG;
if (!file) throw new Error('set HOOK_ORDER_LOG to the file to record the order in');
declareHookOrderProbe({ afterAll, afterEach, beforeAll, beforeEach, describe, it }, { push: (step) => appendFileSync(file, `${step}\n`) });
