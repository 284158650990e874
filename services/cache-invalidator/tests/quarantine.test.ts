// @module-tag integration
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { createDistribution, invalidationsIn, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { createCloudFrontClient } from '../src/createCloudFrontClient.js';
import { MAX_SPLIT_CALLS } from '../src/DistributionSender.js';
import { FaultProxy } from './support/FaultProxy.js';
import { newJournalDir, startInvalidator } from './support/startInvalidator.js';

const TOKEN = 'quarantine-test-token';
const REFUSED = '/post-17/';

interface Health {
  status: string;
  checks: Record<string, { status: string; output?: string; observedValue?: number }[]>;
}

describe('a distribution that refuses one path for good (fault proxy in front of moto)', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let direct: CloudFrontClient;
  let distributionId: string;
  let service: CacheInvalidator;
  let env: Record<string, string>;
  let restoreEnv: () => void;

  const start = async () => {
    service = await startInvalidator(env, createCloudFrontClient({ ...moto.awsEnv(), AWS_ENDPOINT_URL: proxy.url }));
  };
  const post = (body: unknown) =>
    fetch(`${service.url}/invalidations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
  const invalidated = async () => (await invalidationsIn(direct, distributionId)).flatMap((i) => i.paths);
  const health = async () => (await (await fetch(`${service.url}/health`)).json()) as Health;
  const quarantinedMetric = async () => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const match = /^cache_invalidator_quarantined_paths(?:\{[^}]*\})? (\d+)$/m.exec(text);
    return match ? Number(match[1]) : undefined;
  };
  /** Sends the paths and resolves with how long until CloudFront has every one of `expected`. */
  const timeToInvalidate = async (paths: string[], expected: string[]) => {
    const started = Date.now();
    expect((await post({ paths })).status).toBe(202);
    await expect
      .poll(
        async () => {
          const done = new Set(await invalidated());
          return expected.filter((path) => !done.has(path));
        },
        { timeout: 10_000, interval: 50 },
      )
      .toEqual([]);
    return Date.now() - started;
  };

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
    direct = motoCloudFront(moto);
    distributionId = await createDistribution(direct, 'quarantine');
    proxy = await FaultProxy.start(moto.endpoint);
    env = {
      SITE_URL: 'https://example.com',
      CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
      ALLOW_UNSIGNED_WEBHOOKS: 'true',
      MANUAL_INVALIDATION_TOKEN: TOKEN,
      JOURNAL_DIR: await newJournalDir(),
    };
    await start();
  });

  afterAll(async () => {
    await service?.stop();
    await proxy?.close();
    await moto?.destroy();
    restoreEnv?.();
  });

  it('50 changes, one path refused: 49 invalidated in the usual time, the refused one quarantined (health, metric), the next publish at once, kept across a restart, released once', async () => {
    // The usual time: 50 changes nobody refuses.
    const control = Array.from({ length: 50 }, (_, i) => `/control-${String(i + 1).padStart(2, '0')}/`);
    const usualMs = await timeToInvalidate(control, control);

    proxy.refusePaths.add(REFUSED);
    const paths = Array.from({ length: 50 }, (_, i) => `/post-${String(i + 1).padStart(2, '0')}/`);
    const others = paths.filter((path) => path !== REFUSED);
    // A throttle and a 500 first: those keep their backoff and are neither split nor quarantined.
    proxy.faults.push('Throttling', '500');
    const callsBefore = proxy.requests.length;
    const withRefusalMs = await timeToInvalidate(paths, others);
    expect(await invalidated()).not.toContain(REFUSED);
    const calls = proxy.requests.length - callsBefore - 2;
    expect(proxy.faults).toEqual([]);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(
      /cache_invalidator_invalidations_total\{distribution="[A-Z0-9]+",result="throttled"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /cache_invalidator_invalidations_total\{distribution="[A-Z0-9]+",result="transient"[^}]*\} 1/,
    );
    // The whole batch, and one half at each of the six halvings down to the single path.
    expect(metrics).toMatch(
      /cache_invalidator_invalidations_total\{distribution="[A-Z0-9]+",result="refused"[^}]*\} 7/,
    );

    // Quarantined: /health warns naming it (readiness stays 200), the metric counts it, nothing is pending.
    await expect.poll(async () => (await health()).checks['invalidations:quarantined']?.[0]?.status).toBe('warn');
    const check = (await health()).checks['invalidations:quarantined']?.[0];
    expect(check?.output).toContain(REFUSED);
    expect(check?.output).toContain(distributionId);
    expect(check?.output).toMatch(/InvalidArgument: Your request contains one or more invalid invalidation paths/);
    expect(check?.observedValue).toBe(1);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    expect((await health()).checks['invalidations:oldestPendingAge']?.[0]?.status).toBe('pass');
    expect((await health()).checks[`distribution:${distributionId}`]?.[0]?.status).toBe('pass');
    expect(await quarantinedMetric()).toBe(1);
    const id = /\b(q-[0-9a-f]{20})\b/.exec(check?.output ?? '')?.[1];
    expect(id).toBeDefined();

    // The next publish goes out at once: nothing waits behind the refused path.
    const nextMs = await timeToInvalidate(['/next-post/'], ['/next-post/']);

    // A restart keeps the quarantine (the journal), and sends nothing again.
    const beforeRestart = proxy.requests.length;
    await service.stop();
    await start();
    expect((await health()).checks['invalidations:quarantined']?.[0]?.output).toContain(REFUSED);
    expect(await quarantinedMetric()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(proxy.requests.length).toBe(beforeRestart);

    // Released before the cause is fixed: refused again, back in the quarantine.
    expect((await post({ release: [id] })).status).toBe(202);
    // Refused again: a new entry (the release's own batch) names the path; the old entry is gone.
    const quarantineId = async () =>
      /\b(q-[0-9a-f]{20})\b/.exec((await health()).checks['invalidations:quarantined']?.[0]?.output ?? '')?.[1];
    await expect.poll(async () => ((await quarantineId()) ?? id) !== id).toBe(true);
    expect((await health()).checks['invalidations:quarantined']?.[0]?.output).toContain(REFUSED);
    expect(await invalidated()).not.toContain(REFUSED);
    const again = await quarantineId();

    // The cause fixed, released: sent once.
    proxy.refusePaths.clear();
    const released = await post({ release: 'all' });
    expect(released.status).toBe(202);
    expect(await released.json()).toMatchObject({ paths: [REFUSED], released: [again] });
    await expect.poll(async () => (await invalidated()).filter((path) => path === REFUSED).length).toBe(1);
    await expect.poll(async () => (await health()).checks['invalidations:quarantined']?.[0]?.status).toBe('pass');
    expect(await quarantinedMetric()).toBe(0);
    await service.stop();
    await start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await invalidated()).filter((path) => path === REFUSED)).toHaveLength(1);
    expect((await post({ release: 'all' })).status).toBe(404);

    process.stdout.write(
      `quarantine: 50 paths in ${usualMs} ms without a refusal, the 49 others in ${withRefusalMs} ms with one refused ` +
        `(${calls} CreateInvalidation calls after a throttle and a 500), the next publish in ${nextMs} ms\n`,
    );
    // Within the usual time (a few split calls more), and bounded calls: 1 + 2 per halving.
    expect(withRefusalMs).toBeLessThan(usualMs + 2_000);
    expect(calls).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(50)));
    expect(calls).toBeLessThanOrEqual(1 + MAX_SPLIT_CALLS);
    expect(nextMs).toBeLessThan(2_000);
  }, 60_000);

  it('a release must name quarantined entries, with the token', async () => {
    const unauthorized = await fetch(`${service.url}/invalidations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ release: 'all' }),
    });
    expect(unauthorized.status).toBe(401);
    for (const release of [[], ['q-nothex'], 'some', [1]]) {
      const answer = await post({ release });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: string }).error).toBe('bad_release');
    }
    expect((await post({ release: ['q-0123456789abcdef0123'] })).status).toBe(404);
  });
});
