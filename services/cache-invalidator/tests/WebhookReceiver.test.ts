import { createRegistry } from '@ghost-ha/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics, type InvalidatorMetrics } from '../src/createMetrics.js';
import { RequestRejectedError } from '../src/errors.js';
import { planEventPaths } from '../src/planEventPaths.js';
import { SitePaths } from '../src/sitePaths.js';
import { signGhostPayload } from '../src/verifyGhostSignature.js';
import { WebhookReceiver } from '../src/WebhookReceiver.js';
import { captured, webhookOf } from './support/fixtures.js';
import { openTestQueue, type TestQueue } from './support/openTestQueue.js';

const SECRET = 'receiver-test-secret';
const site = new SitePaths(captured.siteUrl);
const published = Buffer.from(JSON.stringify(webhookOf('publish post with tags', 'post.published').body));

/** `cache_invalidator_webhooks_total` by `event/result`, as alarms and dashboards read it. */
async function webhookCounts(metrics: InvalidatorMetrics): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { labels, value } of (await metrics.webhooks.get()).values) {
    counts[`${labels.event}/${labels.result}`] = value;
  }
  return counts;
}

describe('WebhookReceiver', () => {
  let testQueue: TestQueue;
  let metrics: InvalidatorMetrics;

  beforeEach(async () => {
    testQueue = await openTestQueue();
    metrics = createMetrics(createRegistry({ service: 'test' }), () => undefined, Date.now);
  });
  afterEach(async () => {
    await testQueue.close();
  });

  const receiver = (webhookSecret: string | undefined) =>
    new WebhookReceiver({
      site,
      queue: testQueue.queue,
      metrics,
      webhookSecrets: webhookSecret === undefined ? undefined : { accepted: () => [webhookSecret] },
      signatureToleranceMs: 300_000,
      now: Date.now,
    });

  it('journals a signed delivery with its planned paths before resolving, and counts it', async () => {
    const result = await receiver(SECRET).receiveWebhook({
      event: 'post.published',
      rawBody: published,
      signature: signGhostPayload(SECRET, published, Date.now()),
    });
    const expected = planEventPaths('post.published', JSON.parse(published.toString('utf8')), site).paths;
    expect(result.paths).toEqual(expected);
    const events = (await testQueue.journaled()).filter((record) => record.type === 'event');
    expect(events.map((record) => [record.id, record.event, record.plan.paths])).toEqual([
      [result.id, 'post.published', expected],
    ]);
    expect(await webhookCounts(metrics)).toEqual({ 'post.published/accepted': 1 });
    expect((await metrics.pathsPlanned.get()).values[0]?.value).toBe(expected.length);
  });

  it('counts each rejection under its reason and journals none of them', async () => {
    const now = Date.now();
    const bad = (rawBody: string, signature: string | undefined, event = 'post.published') => ({
      event,
      rawBody: Buffer.from(rawBody),
      signature,
    });
    const cases = [
      bad('{}', undefined),
      bad('{}', signGhostPayload(SECRET, '{}', now - 3_600_000)),
      bad('{}', signGhostPayload('not-the-secret', '{}', now)),
      bad('{"post":', signGhostPayload(SECRET, '{"post":', now)),
      bad('{"page":{}}', signGhostPayload(SECRET, '{"page":{}}', now)),
      bad('{}', undefined, 'member.added'),
    ];
    const reasons: string[] = [];
    for (const delivery of cases) {
      const error = await receiver(SECRET)
        .receiveWebhook(delivery)
        .then(
          () => undefined,
          (rejected: unknown) => rejected,
        );
      expect(error).toBeInstanceOf(RequestRejectedError);
      reasons.push((error as RequestRejectedError).reason);
    }
    expect(reasons).toEqual([
      'missing_signature',
      'stale_signature',
      'bad_signature',
      'malformed_json',
      'unexpected_payload',
      'unknown_event',
    ]);
    expect(await webhookCounts(metrics)).toEqual({
      'post.published/missing_signature': 1,
      'post.published/stale_signature': 1,
      'post.published/bad_signature': 1,
      'post.published/malformed_json': 1,
      'post.published/unexpected_payload': 1,
      // The event name comes from the URL: an unhandled one must not become a label value.
      'unknown/unknown_event': 1,
    });
    expect(await testQueue.journaled()).toEqual([]);
    expect(testQueue.queue.depth.events).toBe(0);
  });

  it('refuses a replay of an accepted delivery, and takes a delivery again that was not accepted', async () => {
    const webhooks = receiver(SECRET);
    const signature = signGhostPayload(SECRET, published, Date.now());
    const delivery = { event: 'post.published', rawBody: published, signature };
    await webhooks.receiveWebhook(delivery);
    const replay = await webhooks.receiveWebhook(delivery).catch((error: unknown) => error);
    expect(replay).toBeInstanceOf(RequestRejectedError);
    expect((replay as RequestRejectedError).status).toBe(409);
    expect((replay as RequestRejectedError).reason).toBe('replayed_signature');
    // The same signed body for another event is that event's own delivery (Ghost's signature does
    // not cover the URL, so two events' payloads signed in the same millisecond can match).
    await webhooks.receiveWebhook({ ...delivery, event: 'post.published.edited' });
    // A delivery that failed (here: a payload that is not the event's) is not remembered: Ghost's
    // retry of it is judged afresh rather than refused as a replay.
    const wrongShape = Buffer.from('{"post":{}}');
    const failed = {
      event: 'post.published',
      rawBody: wrongShape,
      signature: signGhostPayload(SECRET, wrongShape, Date.now()),
    };
    for (const _ of [1, 2]) {
      const error = await webhooks.receiveWebhook(failed).catch((e: unknown) => e);
      expect((error as RequestRejectedError).reason).toBe('unexpected_payload');
    }
    expect(await webhookCounts(metrics)).toEqual({
      'post.published/accepted': 1,
      'post.published.edited/accepted': 1,
      'post.published/replayed_signature': 1,
      'post.published/unexpected_payload': 2,
    });
  });

  it('tells who keeps Ghost on the current secret of each delivery signed with the previous one, with its signed time', async () => {
    const seen: [string, number][] = [];
    const webhooks = new WebhookReceiver({
      site,
      queue: testQueue.queue,
      metrics,
      webhookSecrets: { accepted: () => [SECRET, 'previous-secret'] },
      signatureToleranceMs: 300_000,
      onPreviousSecretDelivery: (event, signedAtMs) => void seen.push([event, signedAtMs]),
      now: Date.now,
    });
    const signedAt = Date.now() - 1_000;
    await webhooks.receiveWebhook({
      event: 'post.published',
      rawBody: published,
      signature: signGhostPayload('previous-secret', published, signedAt),
    });
    await webhooks.receiveWebhook({
      event: 'post.published.edited',
      rawBody: published,
      signature: signGhostPayload(SECRET, published, signedAt),
    });
    expect(seen).toEqual([['post.published', signedAt]]);
    expect((await metrics.previousSecretDeliveries.get()).values[0]?.value).toBe(1);
  });

  it('takes an unsigned delivery when no secret is configured (ALLOW_UNSIGNED_WEBHOOKS)', async () => {
    const result = await receiver(undefined).receiveWebhook({
      event: 'post.published',
      rawBody: published,
      signature: undefined,
    });
    expect(result.paths.length).toBeGreaterThan(0);
    expect(await webhookCounts(metrics)).toEqual({ 'post.published/accepted': 1 });
  });
});
