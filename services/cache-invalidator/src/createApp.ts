import { type Logger, type Registry, summarizeError } from '@ghost-ha/core';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { CacheInvalidator } from './CacheInvalidator.js';
import { JournalWriteError, RequestRejectedError } from './errors.js';

export interface AppSettings {
  maxBodyBytes: number;
  registry: Registry;
  logger: Logger;
}

/** HTTP edge: parse, call the service, map errors to status codes. No route ever answers 410. */
export function createApp(service: CacheInvalidator, settings: AppSettings): Express {
  const log = settings.logger.child({ module: 'http' });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.post(
    '/webhooks/ghost/:event',
    express.raw({ type: () => true, limit: settings.maxBodyBytes }),
    async (req, res) => {
      const result = await service.receiveWebhook({
        event: String(req.params.event),
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        signature: req.get('x-ghost-signature'),
      });
      res.status(202).json({ accepted: result.id, paths: result.paths });
    },
  );

  app.post('/invalidations', express.json({ limit: '64kb' }), async (req, res) => {
    const result = await service.requestManual({ authorization: req.get('authorization'), body: req.body });
    res.status(202).json({ accepted: result.id, paths: result.paths });
  });

  app.get('/health/live', (_req, res) => {
    res.json({ status: 'pass' });
  });

  app.get('/health/ready', (_req, res) => {
    const readiness = service.readiness();
    res
      .status(readiness.ready ? 200 : 503)
      .json({ status: readiness.ready ? 'pass' : 'fail', checks: readiness.checks });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(settings.registry.contentType).send(await settings.registry.metrics());
  });

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
  });

  const onError: ErrorRequestHandler = (error, req, res, _next) => {
    if (error instanceof RequestRejectedError) {
      log.warn({ path: req.path, reason: error.reason, status: error.status }, error.message);
      res.status(error.status).json({ error: error.reason, message: error.message });
      return;
    }
    const parserType = (error as { type?: unknown }).type;
    if (parserType === 'entity.too.large') {
      log.warn({ path: req.path }, 'body too large');
      res.status(413).json({ error: 'too_large', message: `the body is larger than ${settings.maxBodyBytes} bytes` });
      return;
    }
    if (typeof parserType === 'string' && (error as { status?: number }).status === 400) {
      res.status(400).json({ error: 'bad_body', message: 'the body could not be read as JSON' });
      return;
    }
    if (error instanceof JournalWriteError) {
      log.error({ error: summarizeError(error), path: req.path }, 'could not journal a request');
      res
        .status(503)
        .json({ error: 'journal_unavailable', message: 'the request could not be stored; nothing was accepted' });
      return;
    }
    log.error({ error: summarizeError(error), path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal', message: 'internal error; nothing was accepted' });
  };
  app.use(onError);
  return app;
}
