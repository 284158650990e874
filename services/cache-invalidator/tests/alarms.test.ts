// @module-tag integration
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import {
  createDistribution,
  evaluateAlarm,
  freePort,
  type ManagedProcess,
  MotoServer,
  motoCloudFront,
  parseEmfLines,
  resolveAlarm,
  waitFor,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../../../infra/src/parseTemplate.js';
import { FaultProxy } from './support/FaultProxy.js';
import { motoS3 } from './support/MirrorTestBed.js';
import { StreamingOrigin } from './support/StreamingOrigin.js';
import { startServiceProcess } from './support/serviceProcess.js';
import { FAST_SETTINGS, newJournalDir } from './support/startInvalidator.js';

/**
 * Each cache-invalidator alarm of observability.yaml, driven for real: the service as a process,
 * publishing EMF lines every second, pushed into the alarm's condition; its output evaluated as
 * CloudWatch would evaluate the alarm. A renamed metric or dimension makes these fail.
 */
const TOKEN = 'alarm-test-token';
const PARAMETERS = { ProjectName: 'ghost-ha', InvalidationBacklogSeconds: '2', MirrorBacklogSeconds: '2' };

function alarm(id: string) {
  const resource = loadTemplate('observability').Resources[id];
  if (!resource?.Properties) throw new Error(`observability.yaml has no ${id}`);
  return resolveAlarm(resource.Properties, PARAMETERS);
}

describe('cache-invalidator alarms, from the EMF lines the service writes', () => {
  let moto: MotoServer;
  const running: ManagedProcess[] = [];

  beforeAll(async () => {
    moto = await MotoServer.start();
  });
  afterAll(async () => {
    await Promise.all(running.map((child) => child.stop()));
    await moto?.destroy();
  });

  async function runAgainst(
    distributionId: string,
    env: Record<string, string> = {},
    paths: string[] = ['/a-post/'],
  ): Promise<ManagedProcess & { url: string }> {
    const port = await freePort();
    const child = await startServiceProcess(`cache-invalidator-alarms-${distributionId}`, {
      ...moto.awsEnv(),
      ...FAST_SETTINGS,
      PORT: String(port),
      JOURNAL_DIR: join(await newJournalDir(), 'journal'),
      SITE_URL: 'https://example.com',
      CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
      ALLOW_UNSIGNED_WEBHOOKS: 'true',
      MANUAL_INVALIDATION_TOKEN: TOKEN,
      METRICS_NAMESPACE: 'ghost-ha/CacheInvalidator',
      METRICS_INTERVAL_SECONDS: '1',
      ...env,
    });
    running.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${url}/health/live`).catch(() => undefined))?.ok ? true : undefined), {
      what: 'the cache invalidator to listen',
      timeoutMs: 30_000,
    });
    const sent = await fetch(`${url}/invalidations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ paths }),
    });
    expect(sent.status).toBe(202);
    return Object.assign(child, { url });
  }

  it('a distribution that refuses every invalidation breaches the failure and backlog alarms', async () => {
    const child = await runAgainst('EMISSING000000');
    const failures = alarm('InvalidationFailureAlarm');
    const backlog = alarm('InvalidationBacklogAlarm');
    await waitFor(
      async () => {
        const documents = parseEmfLines(child.tail(100_000));
        return evaluateAlarm(failures, documents).breaching && evaluateAlarm(backlog, documents).breaching
          ? true
          : undefined;
      },
      { what: 'both alarms to breach', timeoutMs: 20_000 },
    );
  });

  it('a path the distribution refuses for good breaches the quarantine alarm, not the failure alarm', async () => {
    const distributionId = await createDistribution(motoCloudFront(moto), 'alarm-refusing');
    const proxy = await FaultProxy.start(moto.endpoint);
    try {
      proxy.refusePaths.add('/a-post/');
      const child = await runAgainst(distributionId, { AWS_ENDPOINT_URL: proxy.url });
      const quarantine = alarm('InvalidationQuarantineAlarm');
      await waitFor(
        async () => (evaluateAlarm(quarantine, parseEmfLines(child.tail(100_000))).breaching ? true : undefined),
        { what: 'the quarantine alarm to breach', timeoutMs: 20_000 },
      );
      // Refused content is no failed call: the failure alarm stays for what retrying may mend.
      expect(evaluateAlarm(alarm('InvalidationFailureAlarm'), parseEmfLines(child.tail(100_000))).breaching).toBe(
        false,
      );
    } finally {
      await proxy.close();
    }
  });

  it('a healthy distribution breaches none (the alarms can tell)', async () => {
    const distributionId = await createDistribution(motoCloudFront(moto), 'alarm-healthy');
    const child = await runAgainst(distributionId);
    // Long enough for several publishes after the invalidation went through.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const documents = parseEmfLines(child.tail(100_000));
    expect(documents.length).toBeGreaterThan(3);
    expect(evaluateAlarm(alarm('InvalidationFailureAlarm'), documents).breaching).toBe(false);
    expect(evaluateAlarm(alarm('InvalidationBacklogAlarm'), documents).breaching).toBe(false);
    expect(evaluateAlarm(alarm('InvalidationQuarantineAlarm'), documents).breaching).toBe(false);
  });

  it('a mirror page that always answers 500 and a mirror origin that is down breach the parked and mirror backlog alarms; two paths over a budget of one breach the budget alarm', async () => {
    const distributionId = await createDistribution(motoCloudFront(moto), 'alarm-mirror');
    const s3 = motoS3(moto.endpoint);
    const [parkedBucket, downBucket] = [`alarm-parked-${Date.now()}`, `alarm-down-${Date.now()}`];
    for (const bucket of [parkedBucket, downBucket]) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const origin = await StreamingOrigin.start();
    try {
      origin.route('/robots.txt', { kind: 'page', contentType: 'text/plain', body: 'User-agent: *' });
      origin.route('/a-post/', { kind: 'status', status: 500 });
      const mirror = (bucket: string, originUrl: string) => ({
        MIRROR_BUCKET: bucket,
        MIRROR_ORIGIN_URL: originUrl,
        MIRROR_BUILD_ON_EMPTY: 'false',
        MIRROR_RECONCILE_ON_START: 'false',
        MIRROR_MAX_ATTEMPTS: '1',
      });
      const parked = await runAgainst(
        distributionId,
        { ...mirror(parkedBucket, origin.url), DAILY_INVALIDATION_PATH_BUDGET: '1' },
        ['/a-post/', '/b-post/'],
      );
      const down = await runAgainst(distributionId, mirror(downBucket, `http://127.0.0.1:${await freePort()}`));
      await waitFor(
        async () => {
          const parkedDocuments = parseEmfLines(parked.tail(100_000));
          const downDocuments = parseEmfLines(down.tail(100_000));
          return evaluateAlarm(alarm('MirrorParkedAlarm'), parkedDocuments).breaching &&
            evaluateAlarm(alarm('InvalidationPathBudgetAlarm'), parkedDocuments).breaching &&
            evaluateAlarm(alarm('MirrorBacklogAlarm'), downDocuments).breaching
            ? true
            : undefined;
        },
        { what: 'the parked, budget and mirror backlog alarms to breach', timeoutMs: 30_000 },
      );
      const health = (await (await fetch(`${parked.url}/health`)).json()) as {
        status: string;
        checks: Record<string, { status: string; output?: string }[]>;
      };
      expect(health.status, 'a parked page warns, it never takes invalidations out of rotation').toBe('warn');
      expect(health.checks['mirror:parkedPaths']?.[0]).toMatchObject({ status: 'warn' });
      expect(health.checks['mirror:parkedPaths']?.[0]?.output).toContain('/a-post/');
      // The parked page holds up nothing: that process's mirror is not behind.
      expect(evaluateAlarm(alarm('MirrorBacklogAlarm'), parseEmfLines(parked.tail(100_000))).breaching).toBe(false);
      expect(evaluateAlarm(alarm('MirrorParkedAlarm'), parseEmfLines(down.tail(100_000))).breaching).toBe(false);
    } finally {
      await origin.close();
    }
  });
});
