// Chooses the isolation layer. Today there is one ("process"); the OS-isolated layer will be
// chosen here when the host supports it.
import type { Config } from '../config.ts';
import type { Sandbox } from './learner-process.ts';
import { ProcessSandbox } from './process-sandbox.ts';

export function createSandbox(_config: Config): Sandbox {
  return new ProcessSandbox();
}
