import { HEALTH_CONTENT_TYPE, type Logger, type Registry } from '@ghost-ha/core';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { errorResponse } from './errorResponse.js';
import type { ManualRequests } from './ManualRequests.js';
import type { ReadinessSource } from './ReadinessSource.js';

const HEALTH_HEADERS = { 'Content-Type': HEALTH_CONTENT_TYPE, 'Cache-Control': 'no-store' };

export interface AppSettings {
  maxBodyBytes: number;
  registry: Registry;
  logger: Logger;
}

/**
 * HTTP edge for everything but webhooks (see createWebhookHandler): parse, call the service, map
 * errors to status codes. No route ever answers 410.
 */
export function createApp(service: ManualRequests & ReadinessSource, settings: AppSettings): Express {
  const log = settings.logger.child({ module: 'http' });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.post('/invalidations', express.json({ limit: '64kb' }), async (req, res) => {
    const result = await service.requestManual({ authorization: req.get('authorization'), body: req.body });
    res
      .status(202)
      .json({ accepted: result.id, paths: result.paths, ...(result.released ? { released: result.released } : {}) });
  });

  app.get('/health/live', (_req, res) => {
    res.json({ status: 'pass' });
  });

  // Both read the last round of the background checks: a probe never touches the journal itself.
  app.get('/health/ready', (_req, res) => {
    const report = service.health;
    res.status(report.httpStatus).set(HEALTH_HEADERS).send(report.verdictBody);
  });

  app.get('/health', (_req, res) => {
    const report = service.health;
    res.status(report.httpStatus).set(HEALTH_HEADERS).send(report.fullBody);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(settings.registry.contentType).send(await settings.registry.metrics());
  });

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
  });

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    const answer = errorResponse(error, { path: req.path, maxBodyBytes: settings.maxBodyBytes, log });
    res.status(answer.status).json(answer.body);
  };
  app.use(onError);
  return app;
}
