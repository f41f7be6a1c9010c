// The grading context of the test that is running now. The grader runs each test inside
// `gradingContext.run(...)`, so concurrent gradings never see each other's session.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Session } from '../harness/session.ts';
import type { LearnerProcess } from '../runner/learner-process.ts';
import type { ExerciseKind } from '../shapes/exercise.ts';

export interface GradeContext {
  session: Session;
  exerciseId: string;
  kind: ExerciseKind;
  /** Values made once per grade (see oncePerGrade). */
  shared: Map<string, unknown>;
  /** Every learner process started in this grade (their output is attached to failing tests). */
  processes: LearnerProcess[];
  /** Closed by the grader when the grade ends. */
  cleanups: Array<() => void>;
}

export const gradingContext = new AsyncLocalStorage<GradeContext>();

export function currentGrade(): GradeContext {
  const ctx = gradingContext.getStore();
  if (!ctx) throw new Error('the grading kit can only be used inside a grading test');
  return ctx;
}

/** Thrown for a failure whose message is written for the learner. */
export class GradingFailure extends Error {
  override name = 'GradingFailure';
}

/**
 * A value made once per grade and shared by that grade's tests (the learner's server, a client
 * run observed by several tests). A grading file is loaded once and serves every grade, so
 * module-level variables would leak between learners: keep per-grade state here instead.
 */
export function oncePerGrade<T>(key: string, create: () => T): T {
  const ctx = currentGrade();
  if (!ctx.shared.has(key)) ctx.shared.set(key, create());
  return ctx.shared.get(key) as T;
}
