// @module-tag ghost
import { createHmac, timingSafeEqual } from 'node:crypto';
import { GhostApiError } from '@ghost-ha/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GhostServer } from '../src/GhostServer.js';
import { WebhookListener } from '../src/WebhookListener.js';

describe('GhostServer (real Ghost from the npm package)', () => {
  let ghost: GhostServer;
  let listener: WebhookListener;

  beforeAll(async () => {
    [ghost, listener] = await Promise.all([GhostServer.start(), WebhookListener.start()]);
  });

  afterAll(async () => {
    await Promise.all([ghost?.destroy(), listener?.close()]);
  });

  it('is set up with an owner and an integration whose Admin API key works', async () => {
    const site = await ghost.admin.site();
    expect(site.title).toBe('Ghost HA test site');
    // The release GHOST_VERSION selects is the one answering (Ghost reports major.minor).
    expect(site.version).toBe(ghost.version.split('.').slice(0, 2).join('.'));
    expect(ghost.adminApiKey).toMatch(/^[0-9a-f]{24}:[0-9a-f]{64}$/);
  });

  it('delivers a signed webhook on publish whose signature is HMAC-SHA256 of body + timestamp', async () => {
    const secret = 'webhook-secret-for-test';
    await ghost.registerWebhook('post.published', `${listener.url}/hooks/post.published`, secret);
    const [post] = await ghost.seedPosts(1, { tags: ['News'], titlePrefix: 'Signed' });

    const request = await listener.waitForRequest('/hooks/post.published');
    const header = String(request.headers['x-ghost-signature']);
    const match = /^sha256=([0-9a-f]{64}), t=(\d+)$/.exec(header);
    expect(match, `unexpected X-Ghost-Signature: ${header}`).not.toBeNull();
    const [, signature = '', timestamp = ''] = match ?? [];
    const expected = createHmac('sha256', secret)
      .update(Buffer.concat([request.rawBody, Buffer.from(timestamp)]))
      .digest();
    expect(timingSafeEqual(Buffer.from(signature, 'hex'), expected)).toBe(true);
    // The body alone (without the timestamp) must not verify: that is the common mistake.
    const bodyOnly = createHmac('sha256', secret).update(request.rawBody).digest('hex');
    expect(signature).not.toBe(bodyOnly);
    expect(Math.abs(Date.now() - Number(timestamp))).toBeLessThan(60_000);

    const payload = JSON.parse(request.rawBody.toString('utf8'));
    expect(payload.post.current.id).toBe(post?.id);
    expect(payload.post.current.tags[0].slug).toBe('news');
  });

  it('bulk-deletes by filter through the adapter, leaving what the filter does not match', async () => {
    await ghost.seedPosts(5, { tags: ['doomed'], titlePrefix: 'Doomed' });
    await ghost.seedPosts(2, { tags: ['kept'], titlePrefix: 'Kept' });
    expect(await ghost.admin.count('posts', 'tag:doomed')).toBe(5);

    const result = await ghost.admin.bulkDelete('posts', 'tag:doomed');

    expect(result).toMatchObject({ successful: 5, unsuccessful: 0 });
    expect(await ghost.admin.count('posts', 'tag:doomed')).toBe(0);
    expect(await ghost.admin.count('posts', 'tag:kept')).toBe(2);
  });

  it('turns a rejected key into a GhostApiError that carries no token', async () => {
    const { GhostAdminClient } = await import('@ghost-ha/core');
    const wrongKey = `${'a'.repeat(24)}:${'b'.repeat(64)}`;
    const client = new GhostAdminClient({ url: ghost.url, adminApiKey: wrongKey });
    const error = await client.count('posts').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GhostApiError);
    expect((error as GhostApiError).status).toBe(401);
    expect(JSON.stringify(error)).not.toContain('Ghost ey');
    expect(String((error as Error).message)).not.toContain('b'.repeat(64));
  });

  it('survives a stop and a start with its content', async () => {
    const before = await ghost.admin.count('posts');
    await ghost.stop();
    expect(ghost.isRunning).toBe(false);
    const error = await ghost.admin.count('posts').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GhostApiError);
    expect((error as GhostApiError).status).toBeUndefined();
    await ghost.start();
    expect(await ghost.admin.count('posts')).toBe(before);
  });
});
