// @module-tag ghost
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createDistribution,
  freePort,
  GhostServer,
  invalidationsIn,
  MotoServer,
  motoCloudFront,
  waitFor,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { RegisteredWebhooks } from '../src/RegisteredWebhooks.js';
import { signGhostPayload } from '../src/verifyGhostSignature.js';
import { webhookOf } from './support/fixtures.js';
import { startServiceProcess } from './support/serviceProcess.js';
import { newJournalDir, startInvalidator } from './support/startInvalidator.js';

const SECRET_ID = 'ghost-ha/webhook';
const OLD_SECRET = 'rotation-test-secret-before';
const NEW_SECRET = 'rotation-test-secret-after';
/**
 * Scaled down from the default hour so the test sees it end; the least the service takes, as Ghost
 * retries a delivery it timed out for about half a minute with the signature it first made.
 */
const OVERLAP_SECONDS = 60;

/**
 * The webhook secret rotated in Secrets Manager while Ghost keeps publishing, then Ghost's webhooks
 * updated to the new secret (PUT /webhooks/:id with `secret`, as the runbook does): every delivery
 * is accepted across the switch, and the old secret is refused once the overlap has passed.
 */
describe('webhook secret rotation (real Ghost, Secrets Manager in moto)', () => {
  let ghost: GhostServer;
  let moto: MotoServer;
  let restoreEnv: () => void;
  let cloudFront: CloudFrontClient;
  let secrets: SecretsManagerClient;
  let distributionId: string;
  let service: CacheInvalidator;
  let webhookId: string;

  beforeAll(async () => {
    [ghost, moto] = await Promise.all([GhostServer.start(), MotoServer.start()]);
    restoreEnv = moto.useInThisProcess();
    cloudFront = motoCloudFront(moto);
    secrets = new SecretsManagerClient({});
    distributionId = await createDistribution(cloudFront, 'rotation');
    await secrets.send(new CreateSecretCommand({ Name: SECRET_ID, SecretString: OLD_SECRET }));
    service = await startInvalidator(
      {
        SITE_URL: ghost.url,
        CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
        WEBHOOK_SECRET_ID: SECRET_ID,
        WEBHOOK_SECRET_RELOAD_SECONDS: '1',
        WEBHOOK_SECRET_OVERLAP_SECONDS: String(OVERLAP_SECONDS),
        // Every post's own path stays in the batch (no collapse to a wildcard), so each can be found.
        WILDCARD_THRESHOLD: '3000',
        MAX_PATHS_PER_BATCH: '3000',
      },
      cloudFront,
    );
    const created = await ghost.registerWebhook(
      'post.published',
      `${service.url}/webhooks/ghost/post.published`,
      OLD_SECRET,
    );
    webhookId = String(created.id);
  });

  afterAll(async () => {
    await service?.stop();
    restoreEnv?.();
    await Promise.all([ghost?.destroy(), moto?.destroy()]);
  });

  async function webhookCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const { labels, value } of (await service.metrics.webhooks.get()).values) {
      counts[String(labels.result)] = (counts[String(labels.result)] ?? 0) + value;
    }
    return counts;
  }

  const slugs: string[] = [];
  async function publish(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const post = await ghost.admin.add('posts', { title: `Rotation ${slugs.length}`, status: 'published' });
      slugs.push(String(post.slug));
    }
  }

  let rotatedAt = 0;

  it('loses no delivery while the secret rotates and Ghost is switched to the new one', async () => {
    await publish(4);
    rotatedAt = Date.now();
    await secrets.send(new PutSecretValueCommand({ SecretId: SECRET_ID, SecretString: NEW_SECRET }));
    // Several reloads (every second): Ghost still signs with the old secret after the rotation is seen.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await publish(4);
    // The runbook's re-registration: Ghost's webhook gets the new secret.
    await ghost.admin.request('PUT', `/webhooks/${webhookId}/`, { body: { webhooks: [{ secret: NEW_SECRET }] } });
    await publish(4);

    await expect
      .poll(async () => (await webhookCounts()).accepted ?? 0, { timeout: 20_000, interval: 200 })
      .toBe(slugs.length);
    const counts = await webhookCounts();
    expect(counts, 'no delivery refused').toEqual({ accepted: slugs.length });
    // Deliveries signed with the old secret after the rotation were taken through the overlap.
    expect((await service.metrics.previousSecretDeliveries.get()).values[0]?.value ?? 0).toBeGreaterThanOrEqual(4);
    await expect
      .poll(
        async () => {
          const paths = new Set((await invalidationsIn(cloudFront, distributionId)).flatMap((i) => i.paths));
          return slugs.filter((slug) => !paths.has(`/${slug}/`));
        },
        { timeout: 20_000, interval: 250 },
      )
      .toEqual([]);
  });

  it('refuses a delivery signed with the old secret once the overlap has passed', async () => {
    const body = Buffer.from(JSON.stringify(webhookOf('publish post with tags', 'post.published').body));
    const deliver = (secret: string) =>
      fetch(`${service.url}/webhooks/ghost/post.published`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-ghost-signature': signGhostPayload(secret, body, Date.now()),
        },
        body,
      });
    const wait = rotatedAt + OVERLAP_SECONDS * 1000 + 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const old = await deliver(OLD_SECRET);
    expect(old.status).toBe(401);
    expect(await old.json()).toMatchObject({ error: 'bad_signature' });
    expect((await deliver(NEW_SECRET)).status).toBeLessThan(300);
  }, 120_000);

  it('as the service runs in the task: it updates the webhooks it registered to the new secret by itself', async () => {
    const secretId = 'ghost-ha/webhook-registering';
    const [first, second] = ['registering-secret-one', 'registering-secret-two'];
    await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: `{"webhookSecret":"${first}"}` }));
    const distribution = await createDistribution(cloudFront, 'rotation-registering');
    const port = await freePort();
    const journalDir = await newJournalDir();
    const child = await startServiceProcess('cache-invalidator-rotation', {
      ...moto.awsEnv(),
      PORT: String(port),
      SITE_URL: ghost.url,
      CLOUDFRONT_DISTRIBUTION_IDS: distribution,
      WEBHOOK_SECRET_ID: secretId,
      WEBHOOK_SECRET_RELOAD_SECONDS: '1',
      WEBHOOK_SECRET_OVERLAP_SECONDS: String(OVERLAP_SECONDS),
      JOURNAL_DIR: journalDir,
      INVALIDATION_WINDOW_MS: '200',
      WILDCARD_THRESHOLD: '3000',
      MAX_PATHS_PER_BATCH: '3000',
      REGISTER_WEBHOOKS_ON_START: 'true',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      GHOST_ADMIN_API_KEY: ghost.adminApiKey,
    });
    const logged = (message: string, what: string) =>
      waitFor(async () => (child.tail(400).includes(message) ? true : undefined), {
        what,
        timeoutMs: 30_000,
        abortIf: () => (child.isRunning ? undefined : child.tail()),
      });
    try {
      await logged('webhooks registered', 'registration on start');
      const start = slugs.length;
      await publish(3);
      const rotated = Date.now();
      await secrets.send(
        new PutSecretValueCommand({ SecretId: secretId, SecretString: `{"webhookSecret":"${second}"}` }),
      );
      await publish(3);
      await logged("Ghost's webhooks updated to the new secret", 'the webhooks updated');
      // Ghost's own write-back, made certain: after each delivery Ghost saves the whole webhook row it
      // read before the answer (last_triggered_*), so a secret set in between is undone. Here the
      // post.published webhook is put back on the first secret, as that race leaves it.
      const ids = await new RegisteredWebhooks(journalDir).load();
      await ghost.admin.request('PUT', `/webhooks/${ids['post.published']}/`, {
        body: { webhooks: [{ secret: first }] },
      });
      await publish(3);
      await logged('signed a delivery with the previous secret after', 'the reverted webhook seen');
      const wait = rotated + OVERLAP_SECONDS * 1000 + 1000 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Past the overlap: Ghost signs with the new secret, so these are still accepted.
      await publish(3);
      const mine = slugs.slice(start);
      const published = async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return [
          ...metrics.matchAll(
            /cache_invalidator_webhooks_total\{event="post\.published",result="([a-z_]+)"[^}]*\} (\d+)/g,
          ),
        ]
          .map((m) => `${m[1]}=${m[2]}`)
          .sort();
      };
      await expect
        .poll(published, { timeout: 20_000, interval: 250 })
        .toEqual([`accepted=${mine.length}`])
        .catch((error: unknown) => {
          // What the service saw, for the failure message.
          throw new Error(`${(error as Error).message}\nthe service's log:\n${child.tail(6000)}`);
        });
      await expect
        .poll(
          async () => {
            const paths = new Set((await invalidationsIn(cloudFront, distribution)).flatMap((i) => i.paths));
            return mine.filter((slug) => !paths.has(`/${slug}/`));
          },
          { timeout: 20_000, interval: 250 },
        )
        .toEqual([]);
      const body = Buffer.from(JSON.stringify(webhookOf('publish post with tags', 'post.published').body));
      const old = await fetch(`http://127.0.0.1:${port}/webhooks/ghost/post.published`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ghost-signature': signGhostPayload(first, body, Date.now()) },
        body,
      });
      expect(old.status).toBe(401);
    } finally {
      await child.stop();
    }
  }, 240_000);
});
