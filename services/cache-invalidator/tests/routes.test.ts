import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { createLogger } from '@ghost-ha/core';
import { mockClient } from 'aws-sdk-client-mock';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { createApp } from '../src/createApp.js';
import { startInvalidator } from './support/startInvalidator.js';

const TOKEN = 'routes-test-manual-token';
const MAX_BODY_BYTES = 20_000;

// Route-level tests of the HTTP edge, in process (supertest); the webhook path and the wire to
// CloudFront are covered end to end by receiving.test.ts and ghostEndToEnd.test.ts. CloudFront is
// the only stand-in: it accepts every invalidation.
describe('cache-invalidator routes (express app, in process)', () => {
  const cloudFrontMock = mockClient(CloudFrontClient);
  let service: CacheInvalidator;
  let app: Express;

  beforeAll(async () => {
    cloudFrontMock.on(CreateInvalidationCommand).resolves({
      Invalidation: { Id: 'I2EXAMPLE', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined },
    });
    service = await startInvalidator(
      {
        SITE_URL: 'https://blog.example.com',
        CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
        WEBHOOK_SECRET: 'routes-test-webhook-secret',
        MANUAL_INVALIDATION_TOKEN: TOKEN,
        WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      },
      new CloudFrontClient({ region: 'us-east-1' }),
    );
    app = createApp(service, {
      maxBodyBytes: MAX_BODY_BYTES,
      registry: service.registry,
      logger: createLogger({ service: 'routes-test', level: 'silent' }),
    });
  });

  afterAll(async () => {
    await service?.stop();
    cloudFrontMock.restore();
  });

  it('GET /health/live passes while the process runs', async () => {
    const response = await request(app).get('/health/live').expect(200);
    expect(response.body).toEqual({ status: 'pass' });
  });

  it('GET /health/ready answers the verdict as application/health+json, GET /health every check', async () => {
    const ready = await request(app).get('/health/ready').expect(200);
    expect(ready.headers['content-type']).toBe('application/health+json');
    expect(ready.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(ready.text)).toEqual({ status: 'pass' });
    const health = await request(app).get('/health').expect(200);
    expect(health.headers['content-type']).toBe('application/health+json');
    const report = JSON.parse(health.text);
    expect(report.status).toBe('pass');
    expect(Object.keys(report.checks).sort()).toEqual([
      'distribution:E2QWRUHAPOMQZL',
      'invalidations:oldestPendingAge',
      'invalidations:quarantined',
      'journal:writable',
    ]);
    expect(report.checks['journal:writable'][0]).toMatchObject({ status: 'pass', componentType: 'datastore' });
    expect(report.checks['invalidations:oldestPendingAge'][0]).toMatchObject({ observedValue: 0, observedUnit: 's' });
    expect(report.checks['invalidations:quarantined'][0]).toMatchObject({
      status: 'pass',
      observedValue: 0,
      observedUnit: 'paths',
    });
  });

  it('GET /metrics serves Prometheus text with the service metrics', async () => {
    const response = await request(app).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^# HELP cache_invalidator_/m);
  });

  it('POST /invalidations accepts a manual request with the token and sends it to CloudFront', async () => {
    const response = await request(app)
      .post('/invalidations')
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ paths: ['/hello-world/', '/tag/news/*', '/hello-world/'] })
      .expect(202);
    expect(response.body.paths).toEqual(['/hello-world/', '/tag/news/*']);
    expect(response.body.accepted).toMatch(/^[0-9a-f-]{36}$/);
    await expect
      .poll(() => cloudFrontMock.commandCalls(CreateInvalidationCommand).length, { timeout: 5_000 })
      .toBeGreaterThan(0);
    const sent = cloudFrontMock.commandCalls(CreateInvalidationCommand)[0]?.args[0].input;
    expect(sent?.DistributionId).toBe('E2QWRUHAPOMQZL');
    expect(sent?.InvalidationBatch?.Paths?.Items).toEqual(expect.arrayContaining(['/hello-world/', '/tag/news/*']));
  });

  it.each([
    ['no token', undefined, { paths: ['/'] }, 401, 'unauthorized'],
    ['a wrong token', 'Bearer nope', { paths: ['/'] }, 401, 'unauthorized'],
    ['no paths', `Bearer ${TOKEN}`, {}, 400, 'bad_paths'],
    ['a path with a space', `Bearer ${TOKEN}`, { paths: ['/a b/'] }, 400, 'bad_paths'],
    ['a wildcard in the middle', `Bearer ${TOKEN}`, { paths: ['/a*/b/'] }, 400, 'bad_paths'],
  ])(
    'POST /invalidations with %s answers %i, naming the problem',
    async (_case, authorization, body, status, error) => {
      const call = request(app).post('/invalidations').send(body);
      if (authorization) call.set('Authorization', authorization);
      const response = await call.expect(status);
      expect(response.body.error).toBe(error);
      expect(response.body.message.length).toBeGreaterThan(10);
    },
  );

  it('POST /invalidations with malformed JSON answers 400 without a stack trace', async () => {
    const response = await request(app)
      .post('/invalidations')
      .set('Authorization', `Bearer ${TOKEN}`)
      .set('Content-Type', 'application/json')
      .send('{"paths": [')
      .expect(400);
    expect(response.body).toEqual({ error: 'bad_body', message: 'the body could not be read as JSON' });
    expect(response.text).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('POST /invalidations with a body over 64 KB answers 413', async () => {
    const paths = Array.from({ length: 100 }, (_, n) => `/${'x'.repeat(700)}-${n}/`);
    const response = await request(app)
      .post('/invalidations')
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ paths })
      .expect(413);
    expect(response.body.error).toBe('too_large');
  });

  it('answers 404 in JSON for an unknown route, never 410 (Ghost deletes a webhook on 410)', async () => {
    for (const [method, path] of [
      ['get', '/'],
      ['delete', '/invalidations'],
      ['put', '/health/live'],
    ] as const) {
      const response = await request(app)[method](path);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error).toBe('not_found');
    }
  });
});
