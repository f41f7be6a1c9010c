// The long-lived objects the API and the WebSocket endpoint share.
import type { Config } from './config.ts';
import type { ExerciseCatalog, Exercise } from './exercises/catalog.ts';
import type { Grader } from './grading/grader.ts';
import type { Harness } from './harness/run-harness.ts';
import type { SharedServer } from './harness/session.ts';
import type { ShareableServer } from './shapes/requests.ts';
import type { ReferenceServers } from './reference-servers/index.ts';
import type { RateLimiter } from './api/rate-limit.ts';
import { RunSlots, RunSlotsBusy } from './harness/run-slots.ts';
import { ApiError } from './api/errors.ts';

export interface Services {
  config: Config;
  catalog: ExerciseCatalog;
  harness: Harness;
  grader: Grader;
  /** Every run and grade from the API or the WebSocket endpoint holds one of these slots. */
  slots: RunSlots;
  /** The one rate-limit policy on runs and submissions, for HTTP and WebSocket alike. */
  rateLimiter: RateLimiter;
  /** The shared, long-running reference servers for live demos (undefined in some tests). */
  shared?: ReferenceServers;
}

export async function findExercise(services: Services, id: string): Promise<Exercise> {
  const exercise = await services.catalog.get(id);
  if (!exercise) throw new ApiError(404, 'unknown_exercise', `There is no exercise "${id}".`);
  return exercise;
}

/** The shared servers a Run asked to join instead of its own (none asked: none). */
export function sharedServers(services: Services, names: readonly ShareableServer[] = []): SharedServer[] {
  if (names.length === 0) return [];
  const shared = services.shared;
  if (!shared) throw new ApiError(503, 'no_shared_servers', 'This server runs no shared reference servers, so a Run cannot join one.');
  return [...new Set(names)].map((name) => ({ name, port: shared.ports[name], server: shared[name] }));
}

/**
 * Runs a run or grade in a run slot. A full queue, or too long a wait, becomes ApiError 429 `busy`
 * with retryAfter; if `signal` aborts while the job waits, it leaves the queue and this rejects with
 * the signal's reason.
 */
export async function inRunSlot<T>(services: Services, signal: AbortSignal | undefined, job: () => Promise<T>): Promise<T> {
  try {
    return await services.slots.run(job, signal);
  } catch (err) {
    if (err instanceof RunSlotsBusy) throw new ApiError(429, 'busy', err.message, err.retryAfter);
    throw err;
  }
}
