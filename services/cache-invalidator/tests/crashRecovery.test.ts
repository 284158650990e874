// @module-tag integration
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CONFIG_EXIT_CODE } from '@ghost-ha/core';
import {
  createDistribution,
  freePort,
  invalidationsIn,
  type ManagedProcess,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  MotoServer,
  motoCloudFront,
  waitFor,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../src/JournalRecord.js';
import { signGhostPayload } from '../src/verifyGhostSignature.js';
import { captured, webhookOf } from './support/fixtures.js';
import { startServiceProcess } from './support/serviceProcess.js';
import { newJournalDir } from './support/startInvalidator.js';

const SECRET = 'crash-test-secret';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the service as a process: kill -9, restart, SIGTERM', () => {
  let moto: MotoServer;
  let cloudFront: CloudFrontClient;
  const running: ManagedProcess[] = [];

  beforeAll(async () => {
    moto = await MotoServer.start();
    cloudFront = motoCloudFront(moto);
  });

  afterAll(async () => {
    await Promise.all(running.map((child) => child.kill()));
    await moto?.destroy();
  });

  /** `node src/main.ts` as the container runs it, on its own port, ready when /health/live answers. */
  async function startProcess(env: Record<string, string>): Promise<{ child: ManagedProcess; url: string }> {
    const port = await freePort();
    const child = await startServiceProcess('cache-invalidator', {
      ...moto.awsEnv(),
      PORT: String(port),
      SITE_URL: captured.siteUrl,
      WEBHOOK_SECRET: SECRET,
      RETRY_BASE_DELAY_MS: '20',
      ...env,
    });
    running.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${url}/health/live`)).ok ? true : undefined), {
      what: 'the cache invalidator to listen',
      timeoutMs: 30_000,
      intervalMs: 100,
      abortIf: () => (child.isRunning ? undefined : `it exited:\n${child.tail()}`),
    });
    return { child, url };
  }

  async function deliver(url: string, step: string, event: string): Promise<number> {
    const body = JSON.stringify(webhookOf(step, event).body);
    const response = await fetch(`${url}/webhooks/ghost/${event}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now()) },
      body,
    });
    return response.status;
  }

  it('kill -9 with a batch pending: after a restart the invalidation reaches CloudFront exactly once', async () => {
    const distributionId = await createDistribution(cloudFront, 'crash');
    const journal = await newJournalDir();
    const env = { CLOUDFRONT_DISTRIBUTION_IDS: distributionId, JOURNAL_DIR: journal };
    const first = await startProcess({ ...env, INVALIDATION_WINDOW_MS: '10000', INVALIDATION_MAX_WAIT_MS: '20000' });
    expect(await deliver(first.url, 'publish post with tags', 'post.published')).toBe(202);
    expect(await deliver(first.url, 'publish post with tags', 'site.changed')).toBe(202);
    await first.child.kill();
    expect(await invalidationsIn(cloudFront, distributionId)).toEqual([]);

    const second = await startProcess({ ...env, INVALIDATION_WINDOW_MS: '200' });
    await expect
      .poll(async () => (await invalidationsIn(cloudFront, distributionId)).length, { timeout: 10_000 })
      .toBe(1);
    await sleep(1500);
    const [invalidation, ...others] = await invalidationsIn(cloudFront, distributionId);
    expect(others).toEqual([]);
    expect(invalidation?.paths).toContain('/hello-world/');
    expect(invalidation?.paths).toContain('/tag/news/*');
    expect(invalidation?.paths).not.toContain('/*');
    await second.child.stop();
    expect(await readFile(join(journal, 'journal.log'), 'utf8')).toBe('');
  });

  it('a crash after CloudFront accepted a batch but before the journal said so: not sent again', async () => {
    const distributionId = await createDistribution(cloudFront, 'crash-after-send');
    const journal = await newJournalDir();
    const batchId = 'ghost-ha-0123456789abcdef0123456789abcdef01234567';
    await cloudFront.send(
      new CreateInvalidationCommand({
        DistributionId: distributionId,
        InvalidationBatch: { CallerReference: batchId, Paths: { Quantity: 1, Items: ['/already/'] } },
      }),
    );
    const record: JournalRecord = {
      type: 'batch',
      id: batchId,
      createdAt: Date.now() - 1000,
      paths: ['/already/'],
      events: [{ id: 'e1', receivedAt: Date.now() - 1200 }],
      sent: {},
    };
    await mkdir(journal, { recursive: true });
    await writeFile(join(journal, 'journal.log'), `${JSON.stringify(record)}\n`);

    const service = await startProcess({ CLOUDFRONT_DISTRIBUTION_IDS: distributionId, JOURNAL_DIR: journal });
    await expect
      .poll(async () => readFile(join(journal, 'journal.log'), 'utf8'), { timeout: 10_000, interval: 100 })
      .toBe('');
    expect((await invalidationsIn(cloudFront, distributionId)).map((i) => i.callerReference)).toEqual([batchId]);
    await service.child.stop();
  });

  it('SIGTERM: sends the open window, ignores a second signal, writes the final metrics, exits 0', async () => {
    const distributionId = await createDistribution(cloudFront, 'sigterm');
    const journal = await newJournalDir();
    const service = await startProcess({
      CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
      JOURNAL_DIR: journal,
      INVALIDATION_WINDOW_MS: '30000',
      INVALIDATION_MAX_WAIT_MS: '60000',
      // No periodic publish during the test: every metrics line comes from the final flush.
      METRICS_NAMESPACE: 'ghost-ha/CacheInvalidator',
      METRICS_INTERVAL_SECONDS: '3600',
    });
    expect(await deliver(service.url, 'publish page', 'page.published')).toBe(202);
    // Back to back, so the second comes while the first stop runs (the kernel may deliver either first).
    service.child.signal('SIGTERM');
    service.child.signal('SIGINT');
    expect(await service.child.exited()).toBe(0);
    expect((await invalidationsIn(cloudFront, distributionId)).map((i) => i.paths)).toEqual([
      ['/about-us/', '/sitemap-pages.xml', '/sitemap.xml'],
    ]);
    const lines = service.child
      .tail(1_000)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.msg === 'stopping')).toHaveLength(1);
    expect(lines.filter((line) => line.msg === 'already stopping; signal ignored')).toHaveLength(1);
    const stopped = lines.findIndex((line) => line.msg === 'cache invalidator stopped');
    expect(stopped).toBeGreaterThan(-1);
    // Published after the stop, so the invalidation sent on the way out is counted.
    expect(lines.slice(stopped + 1)).toContainEqual(
      expect.objectContaining({ result: 'sent', cache_invalidator_invalidations_total: 1 }),
    );
  });

  it('refuses to start on bad settings, naming the variable', async () => {
    const child = await startServiceProcess('cache-invalidator-bad-config', {
      SITE_URL: 'https://example.com/blog/',
      CLOUDFRONT_DISTRIBUTION_IDS: 'E1',
    });
    expect(await child.exited()).toBe(CONFIG_EXIT_CODE);
    const log = child.tail();
    expect(log).toContain('SITE_URL');
    expect(log).toContain('WEBHOOK_SECRET');
  });

  it('refuses to start with exit 78 when the webhook secret in Secrets Manager is blank', async () => {
    const secrets = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: MOTO_REGION,
      credentials: MOTO_CREDENTIALS,
    });
    await secrets.send(new CreateSecretCommand({ Name: 'blank-webhook-secret', SecretString: ' ' }));
    const child = await startServiceProcess('cache-invalidator-blank-secret', {
      ...moto.awsEnv(),
      SITE_URL: captured.siteUrl,
      CLOUDFRONT_DISTRIBUTION_IDS: 'E1',
      JOURNAL_DIR: await newJournalDir(),
      WEBHOOK_SECRET_ID: 'blank-webhook-secret',
    });
    expect(await child.exited()).toBe(CONFIG_EXIT_CODE);
    expect(child.tail()).toContain("'WEBHOOK_SECRET_ID' names the secret 'blank-webhook-secret', whose value is blank");
  });
});
