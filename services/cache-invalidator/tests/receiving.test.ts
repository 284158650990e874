// @module-tag integration
import { rm } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { createDistribution, invalidationsIn, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { signGhostPayload } from '../src/verifyGhostSignature.js';
import { captured, webhookOf } from './support/fixtures.js';
import { newJournalDir, startInvalidator } from './support/startInvalidator.js';

const SECRET = 'receiving-test-secret';

describe('receiving webhooks (service on moto CloudFront)', () => {
  let moto: MotoServer;
  let cloudFront: CloudFrontClient;
  let distributionId: string;
  let service: CacheInvalidator;
  let journalDir: string;

  beforeAll(async () => {
    moto = await MotoServer.start();
    cloudFront = motoCloudFront(moto);
    distributionId = await createDistribution(cloudFront, 'receiving');
    journalDir = await newJournalDir();
    service = await startInvalidator(
      {
        SITE_URL: captured.siteUrl,
        CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_MAX_BODY_BYTES: '20000',
        JOURNAL_DIR: journalDir,
      },
      cloudFront,
    );
  });

  afterAll(async () => {
    await service?.stop();
    await moto?.destroy();
  });

  async function post(
    event: string,
    body: string,
    headers: Record<string, string> = { 'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now()) },
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${service.url}/webhooks/ghost/${event}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('rejects bad inputs with a clear 4xx, sends nothing and stays alive', async () => {
    const published = JSON.stringify(webhookOf('publish post with tags', 'post.published').body);
    const signedAt = (t: number, body = published) => ({ 'X-Ghost-Signature': signGhostPayload(SECRET, body, t) });
    const cases: [string, Promise<{ status: number; json: Record<string, unknown> }>, number, string][] = [
      [
        'wrong signature',
        post('post.published', published, {
          'X-Ghost-Signature': signGhostPayload('not-the-secret', published, Date.now()),
        }),
        401,
        'bad_signature',
      ],
      ['no signature', post('post.published', published, {}), 401, 'missing_signature'],
      ['stale timestamp', post('post.published', published, signedAt(Date.now() - 3_600_000)), 401, 'stale_signature'],
      ['malformed JSON', post('post.published', '{"post":', signedAt(Date.now(), '{"post":')), 400, 'malformed_json'],
      [
        'not a post payload',
        post('post.published', '{"page":{}}', signedAt(Date.now(), '{"page":{}}')),
        400,
        'unexpected_payload',
      ],
      ['oversized body', post('post.published', `{"x":"${'a'.repeat(30_000)}"}`), 413, 'too_large'],
      ['unknown event', post('member.added', '{}'), 404, 'unknown_event'],
    ];
    for (const [what, response, status, reason] of cases) {
      const answer = await response;
      expect({ what, status: answer.status, error: answer.json.error }).toEqual({ what, status, error: reason });
      expect(typeof answer.json.message).toBe('string');
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await invalidationsIn(cloudFront, distributionId)).toEqual([]);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/cache_invalidator_webhooks_total\{event="post.published",result="bad_signature"[^}]*\} 1/);
    expect(metrics).toMatch(/cache_invalidator_webhooks_total\{event="unknown",result="unknown_event"[^}]*\} 1/);
  });

  it('refuses an oversized body sent without Content-Length (chunked) while it streams in', async () => {
    const chunk = new TextEncoder().encode('a'.repeat(8000));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(`${service.url}/webhooks/ghost/post.published`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
  });

  it('never answers 410, whatever is asked', async () => {
    for (const [method, path] of [
      ['GET', '/webhooks/ghost/post.published'],
      ['POST', '/webhooks/ghost/'],
      ['POST', '/webhooks/ghost/site.deleted'],
      ['DELETE', '/'],
    ] as const) {
      const response = await fetch(`${service.url}${path}`, { method });
      expect(response.status).not.toBe(410);
      expect(response.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('accepts a signed delivery quickly and creates the planned invalidation', async () => {
    const body = JSON.stringify(webhookOf('publish post with tags', 'post.published').body);
    const started = Date.now();
    const answer = await post('post.published', body);
    expect(Date.now() - started).toBeLessThan(500);
    expect(answer.status).toBe(202);
    const planned = [...(answer.json.paths as string[])].sort();
    expect(planned).toContain('/hello-world/');

    await expect
      .poll(async () => (await invalidationsIn(cloudFront, distributionId)).map((i) => i.paths), { timeout: 5000 })
      .toEqual([planned]);
  });

  it('refuses a replayed delivery (the same signed request again inside the signature window) with 409', async () => {
    const body = JSON.stringify(webhookOf('publish post with tags', 'post.published').body);
    const signature = { 'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now()) };
    expect((await post('post.published', body, signature)).status).toBe(202);
    const replayed = await post('post.published', body, signature);
    expect(replayed.status).toBe(409);
    expect(replayed.json.error).toBe('replayed_signature');
    // Ghost signs each delivery afresh: the same event sent again is a new signature and is taken.
    const resent = { 'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now() + 1) };
    expect((await post('post.published', body, resent)).status).toBe(202);
  });

  it('listens on the loopback interface only, unless LISTEN_HOST says otherwise', async () => {
    // Ghost and the container health check reach it on 127.0.0.1 in the task; nothing else may.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address?.family === 'IPv4' && !address.internal)?.address;
    expect(external, 'this test needs an interface besides loopback').toBeDefined();
    const own = await startInvalidator(
      { SITE_URL: captured.siteUrl, CLOUDFRONT_DISTRIBUTION_IDS: distributionId, WEBHOOK_SECRET: SECRET, PORT: '0' },
      cloudFront,
      { host: undefined },
    );
    try {
      expect((await fetch(`${own.url}/health/live`)).status).toBe(200);
      const outside = await fetch(`http://${external}:${own.port}/health/live`).then(
        (response) => response.status,
        (error: { cause?: { code?: string } }) => error.cause?.code,
      );
      expect(outside).toBe('ECONNREFUSED');
    } finally {
      await own.stop();
    }
  });

  it('fails readiness when the journal directory is gone (last: it breaks the service)', async () => {
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    await rm(journalDir, { recursive: true, force: true });
    // The checks run every CHECK_INTERVAL_MS (100 ms here); a probe reads the last round.
    await expect.poll(async () => (await fetch(`${service.url}/health/ready`)).status, { timeout: 2000 }).toBe(503);
    const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as { status: string; output: string };
    expect(ready).toEqual({ status: 'fail', output: expect.stringMatching(/^journal:writable: JournalWriteError: /) });
    const body = (await (await fetch(`${service.url}/health`)).json()) as {
      checks: Record<string, { status: string }[]>;
    };
    expect(body.checks['journal:writable']?.[0]?.status).toBe('fail');
  });
});
