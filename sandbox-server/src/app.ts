// The express app: one-line request log, JSON API under /api, the built site for everything else.
import express, { type RequestHandler } from 'express';
import compression from 'compression';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { apiRouter } from './api/routes.ts';
import { ApiError, jsonErrors } from './api/errors.ts';
import type { Services } from './services.ts';

function requestLog(): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(`${req.method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)}ms`);
    });
    next();
  };
}

const requireJson: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && !req.is('application/json')) {
    throw new ApiError(415, 'not_json', 'Send the body as JSON with the header "Content-Type: application/json".');
  }
  next();
};

export function createApp(services: Services, version: string): express.Express {
  const { config } = services;
  // JSON escaping can double the size of code; the exact cap on code is checked per request.
  const maxBodyBytes = config.maxCodeBytes * 2 + 4096;
  const app = express();
  app.disable('x-powered-by');
  if (config.logRequests) app.use(requestLog());
  app.use(compression()); // the editor bundle is 12 MB raw, ~3 MB gzipped
  app.use('/api', requireJson, express.json({ limit: maxBodyBytes }), apiRouter(services, version));
  app.use(express.static(config.siteDir, { extensions: ['html'], maxAge: '1h', setHeaders: noCacheHtml }));
  app.use((req, res) => {
    const notFound = path.join(config.siteDir, '404.html');
    if (req.accepts('html') && existsSync(notFound)) res.status(404).sendFile(notFound);
    else res.status(404).json({ error: { code: 'not_found', message: `Nothing at ${req.path}.` } });
  });
  app.use(jsonErrors(maxBodyBytes));
  return app;
}

function noCacheHtml(res: express.Response, file: string): void {
  // Pages change with every build; hashed assets can be cached.
  if (file.endsWith('.html')) res.setHeader('Cache-Control', 'no-cache');
}
