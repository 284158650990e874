// @module-tag integration
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { createDistribution, invalidationsIn, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { createCloudFrontClient } from '../src/createCloudFrontClient.js';
import { type Fault, FaultProxy } from './support/FaultProxy.js';
import { startInvalidator } from './support/startInvalidator.js';

const TOKEN = 'manual-token-for-tests';

describe('sending through CloudFront failures (fault proxy in front of moto)', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let direct: CloudFrontClient;
  let distributionId: string;
  let service: CacheInvalidator;
  let restoreEnv: () => void;

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
    direct = motoCloudFront(moto);
    distributionId = await createDistribution(direct, 'faults');
    proxy = await FaultProxy.start(moto.endpoint);
    const cloudFront = createCloudFrontClient({ ...moto.awsEnv(), AWS_ENDPOINT_URL: proxy.url });
    service = await startInvalidator(
      {
        SITE_URL: 'https://example.com',
        CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
        ALLOW_UNSIGNED_WEBHOOKS: 'true',
        MANUAL_INVALIDATION_TOKEN: TOKEN,
      },
      cloudFront,
    );
  });

  afterAll(async () => {
    await service?.stop();
    await proxy?.close();
    await moto?.destroy();
    restoreEnv?.();
  });

  async function invalidate(paths: string[]): Promise<Response> {
    return fetch(`${service.url}/invalidations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ paths }),
    });
  }

  it('gets every batch accepted exactly once through throttles, busy answers, 500s and resets', async () => {
    const faults: Fault[] = [
      'Throttling',
      'TooManyInvalidationsInProgress',
      '500',
      'reset',
      'reset-after-create',
      'Throttling',
      '500',
      'reset-after-create',
      'TooManyInvalidationsInProgress',
      'reset',
    ];
    proxy.faults.push(...faults);
    const batches = Array.from({ length: 5 }, (_, i) => [`/fault-${i}/`, `/tag/t${i}/*`]);
    for (const paths of batches) {
      expect((await invalidate(paths)).status).toBe(202);
    }

    await expect
      .poll(async () => (await invalidationsIn(direct, distributionId)).length, { timeout: 20_000, interval: 200 })
      .toBe(batches.length);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const created = await invalidationsIn(direct, distributionId);
    expect(created.map((i) => i.paths).sort()).toEqual(batches.map((paths) => [...paths].sort()).sort());
    expect(new Set(created.map((i) => i.callerReference)).size).toBe(batches.length);
    expect(proxy.faults).toEqual([]);
    expect(proxy.seen.filter((fault) => fault !== 'pass')).toEqual(faults);

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(
      /cache_invalidator_invalidations_total\{distribution="[A-Z0-9]+",result="throttled"[^}]*\} 2/,
    );
    expect(metrics).toMatch(/cache_invalidator_invalidations_total\{distribution="[A-Z0-9]+",result="busy"[^}]*\} 2/);
    expect(metrics).toMatch(/cache_invalidator_invalidations_total\{distribution="[A-Z0-9]+",result="sent"[^}]*\} 5/);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
  });

  it('rejects manual requests without the token or with bad paths, sending nothing', async () => {
    const before = (await invalidationsIn(direct, distributionId)).length;
    const noToken = await fetch(`${service.url}/invalidations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ paths: ['/x/'] }),
    });
    expect(noToken.status).toBe(401);
    for (const paths of [[], ['no-slash'], ['/a*b/'], ['/with space/'], 'x']) {
      const response = await invalidate(paths as string[]);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('bad_paths');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await invalidationsIn(direct, distributionId)).length).toBe(before);
  });
});

describe('a distribution that refuses (permanent error)', () => {
  let moto: MotoServer;
  let direct: CloudFrontClient;
  let service: CacheInvalidator;
  let restoreEnv: () => void;

  afterAll(async () => {
    await service?.stop();
    await moto?.destroy();
    restoreEnv?.();
  });

  it('keeps the batch, fails readiness and metrics, and keeps receiving and serving the good distribution', async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
    direct = motoCloudFront(moto);
    const good = await createDistribution(direct, 'good');
    service = await startInvalidator(
      {
        SITE_URL: 'https://example.com',
        CLOUDFRONT_DISTRIBUTION_IDS: `${good},EMISSING000000`,
        ALLOW_UNSIGNED_WEBHOOKS: 'true',
        MANUAL_INVALIDATION_TOKEN: TOKEN,
      },
      createCloudFrontClient(moto.awsEnv()),
    );
    const send = (paths: string[]) =>
      fetch(`${service.url}/invalidations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ paths }),
      });
    expect((await send(['/one/'])).status).toBe(202);
    await expect.poll(async () => (await invalidationsIn(direct, good)).length, { timeout: 5000 }).toBe(1);

    await expect.poll(async () => (await fetch(`${service.url}/health/ready`)).status, { timeout: 5000 }).toBe(503);
    const health = (await (await fetch(`${service.url}/health`)).json()) as {
      checks: Record<string, { status: string; output?: string }[]>;
    };
    expect(health.checks['distribution:EMISSING000000']?.[0]).toMatchObject({
      status: 'fail',
      output: expect.stringMatching(/^NoSuchDistribution: /),
    });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/cache_invalidator_distributions_failing\{[^}]*\} 1/);
    expect(metrics).toMatch(/cache_invalidator_queue_depth\{kind="batches"[^}]*\} 1/);

    // Receiving is not blocked: a new request is accepted and reaches the good distribution.
    expect((await send(['/two/'])).status).toBe(202);
    await expect.poll(async () => (await invalidationsIn(direct, good)).length, { timeout: 5000 }).toBe(2);
  });
});
