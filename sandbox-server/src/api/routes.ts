// The JSON API (see sandbox-server/README.md for the shapes).
import { Router } from 'express';
import type { Exercise } from '../exercises/catalog.ts';
import { findExercise, type Services } from '../services.ts';
import { optionalExerciseId, requireCode } from './validate.ts';
import { ApiError } from './errors.ts';

const summary = (e: Exercise) => ({ id: e.id, title: e.title, lesson: e.lesson, kind: e.kind, difficulty: e.difficulty, order: e.order });

export function apiRouter(services: Services, version: string): Router {
  const { config, catalog, harness, grader } = services;
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({
      status: 'ok',
      isolation: harness.sandbox.isolation,
      version,
      referenceServers: services.shared?.ports ?? null,
      limits: config.limits,
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
    const code = requireCode(req.body, config.maxCodeBytes);
    res.json(await grader.grade(e, code));
  });

  router.post('/run', async (req, res) => {
    const code = requireCode(req.body, config.maxCodeBytes);
    const exerciseId = optionalExerciseId(req.body);
    const exercise = exerciseId ? await findExercise(services, exerciseId) : undefined;
    const controller = new AbortController();
    res.on('close', () => controller.abort()); // the client went away: stop the program
    res.json(await harness.run({ code, limits: exercise?.limits, signal: controller.signal }));
  });

  router.use((req, _res) => {
    throw new ApiError(404, 'not_found', `No API route ${req.method} ${req.originalUrl}.`);
  });
  return router;
}
