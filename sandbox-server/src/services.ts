// The long-lived objects the API and the WebSocket endpoint share.
import type { Config } from './config.ts';
import type { ExerciseCatalog, Exercise } from './exercises/catalog.ts';
import type { Grader } from './grading/grader.ts';
import type { Harness } from './harness/run-harness.ts';
import type { ReferenceServers } from './reference-servers/index.ts';
import { ApiError } from './api/errors.ts';

export interface Services {
  config: Config;
  catalog: ExerciseCatalog;
  harness: Harness;
  grader: Grader;
  /** The shared, long-running reference servers for live demos (undefined in some tests). */
  shared?: ReferenceServers;
}

export async function findExercise(services: Services, id: string): Promise<Exercise> {
  const exercise = await services.catalog.get(id);
  if (!exercise) throw new ApiError(404, 'unknown_exercise', `There is no exercise "${id}".`);
  return exercise;
}
