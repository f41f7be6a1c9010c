// The JSON API (see sandbox-server/README.md for the shapes).
import { Router, type Response } from 'express';
import type { Exercise } from '../exercises/catalog.ts';
import { redisInstalled } from '../harness/run-redis.ts';
import { findExercise, inRunSlot, sharedServers, type Services } from '../services.ts';
import { runBodySchema, submissionBodySchema } from '../shapes/requests.ts';
import { readBody } from './validate.ts';
import { ApiError } from './errors.ts';

const summary = (e: Exercise) => ({ id: e.id, title: e.title, lesson: e.lesson, kind: e.kind, difficulty: e.difficulty, order: e.order });

export function apiRouter(services: Services, version: string): Router {
  const { config, catalog, harness, grader } = services;
  const router = Router();
  // Runs and submissions are charged to the client's rate limit before anything else.
  router.post(['/run', '/exercises/:id/submissions'], services.rateLimiter.http(config.trustProxyHops));

  router.get('/health', (_req, res) => {
    res.json({
      status: 'ok',
      isolation: harness.isolation.isolation,
      warmPods: harness.isolation.warmPods ?? null,
      version,
      referenceServers: services.shared?.ports ?? null,
      limits: config.limits,
      runSlots: { slots: services.slots.slots, queue: services.slots.queueLength, active: services.slots.active, queued: services.slots.queued },
      runServices: { redis: redisInstalled() ? 'available' : 'redis-server is not installed (npm run setup installs it)' },
    });
  });

  router.get('/exercises', async (_req, res) => {
    res.json((await catalog.list()).map(summary));
  });

  router.get('/exercises/:id', async (req, res) => {
    const e = await findExercise(services, req.params.id);
    res.json({ ...summary(e), instructions: e.instructions, starter: e.starter, hints: e.hints, limits: harness.limitsFor(e.limits) });
  });

  router.get('/exercises/:id/solution', async (req, res) => {
    const e = await findExercise(services, req.params.id);
    res.json({ id: e.id, solution: e.solution });
  });

  router.post('/exercises/:id/submissions', async (req, res) => {
    const e = await findExercise(services, req.params.id);
    const { code } = readBody(submissionBodySchema, req.body, config.maxCodeBytes);
    const signal = abortWhenGone(res);
    const verdict = await untilGone(signal, inRunSlot(services, signal, () => grader.grade(e, code, { signal })));
    if (verdict) res.json(verdict);
  });

  router.post('/run', async (req, res) => {
    const { code, exerciseId, shared } = readBody(runBodySchema, req.body, config.maxCodeBytes);
    const exercise = exerciseId ? await findExercise(services, exerciseId) : undefined;
    const joined = sharedServers(services, shared);
    const signal = abortWhenGone(res);
    const result = await untilGone(signal, inRunSlot(services, signal, () => harness.run({ code, limits: exercise?.limits, services: exercise?.services, shared: joined, signal })));
    if (result) res.json(result);
  });

  router.use((req, _res) => {
    throw new ApiError(404, 'not_found', `No API route ${req.method} ${req.originalUrl}.`);
  });
  return router;
}

/** Aborts when the response closes: the client went away (a queued job leaves the queue, a running one is stopped). */
function abortWhenGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  return controller.signal;
}

/** The job's result, or undefined if it was abandoned because the client went away (nobody to answer). */
async function untilGone<T>(signal: AbortSignal, job: Promise<T>): Promise<T | undefined> {
  try {
    return await job;
  } catch (err) {
    if (signal.aborted) return undefined;
    throw err;
  }
}
