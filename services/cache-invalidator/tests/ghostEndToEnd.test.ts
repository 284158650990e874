// @module-tag ghost
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { GhostPost } from '@ghost-ha/core';
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
import { HANDLED_EVENTS } from '../src/ghostEvents.js';
import { LISTINGS } from './support/fixtures.js';
import { runRegisterCommand } from './support/runRegisterCommand.js';
import { startServiceProcess } from './support/serviceProcess.js';
import { newJournalDir, startInvalidator } from './support/startInvalidator.js';

const SECRET = 'end-to-end-webhook-secret';

describe('real Ghost → cache-invalidator → moto CloudFront', () => {
  let ghost: GhostServer;
  let moto: MotoServer;
  let cloudFront: CloudFrontClient;
  let distributionId: string;
  let service: CacheInvalidator;
  const seen = new Set<string>();

  beforeAll(async () => {
    [ghost, moto] = await Promise.all([GhostServer.start(), MotoServer.start()]);
    cloudFront = motoCloudFront(moto);
    distributionId = await createDistribution(cloudFront, 'end-to-end');
    service = await startInvalidator(
      { SITE_URL: ghost.url, CLOUDFRONT_DISTRIBUTION_IDS: distributionId, WEBHOOK_SECRET: SECRET },
      cloudFront,
    );
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([ghost?.destroy(), moto?.destroy()]);
  });

  /** The paths of the one invalidation a step caused; fails if it caused none or more than one. */
  async function invalidationOf(step: string): Promise<string[]> {
    const fresh = async () => (await invalidationsIn(cloudFront, distributionId)).filter((i) => !seen.has(i.id));
    await expect.poll(async () => (await fresh()).length, { timeout: 10_000, interval: 100 }).toBeGreaterThan(0);
    // Anything else this step causes would arrive within the echo window and the batch window.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const created = await fresh();
    for (const invalidation of created) seen.add(invalidation.id);
    expect(created, `${step} created ${JSON.stringify(created)}`).toHaveLength(1);
    return created[0]?.paths ?? [];
  }

  function archivesOf(post: GhostPost): string[] {
    const tags = (post.tags as { slug: string }[]).map((tag) => `/tag/${tag.slug}/*`);
    const authors = (post.authors as { slug: string }[]).map((author) => `/author/${author.slug}/*`);
    return [...tags, ...authors];
  }

  async function fresh(id: string, resource: 'posts' | 'pages' = 'posts'): Promise<GhostPost> {
    const read = (await ghost.admin.request('GET', `/${resource}/${id}/?include=tags,authors`)) as Record<
      string,
      GhostPost[]
    >;
    const found = read[resource]?.[0];
    if (!found) throw new Error(`${resource} ${id} not found`);
    return found;
  }

  it('registers its webhooks with the command, idempotently', async () => {
    const env = {
      SITE_URL: ghost.url,
      CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
      WEBHOOK_SECRET: SECRET,
      GHOST_ADMIN_API_KEY: ghost.adminApiKey,
      PUBLIC_URL: service.url,
    };
    const first = await runRegisterCommand(env);
    expect(first.code).toBe(0);
    expect(first.lines.at(-1)).toMatchObject({ created: [...HANDLED_EVENTS], alreadyRegistered: [] });
    const again = await runRegisterCommand(env);
    expect(again.code).toBe(0);
    expect(again.lines.at(-1)).toMatchObject({ created: [], alreadyRegistered: [...HANDLED_EVENTS] });
    const badKey = await runRegisterCommand({ ...env, GHOST_ADMIN_API_KEY: 'not-a-key' });
    expect(badKey.code).not.toBe(0);
    expect(JSON.stringify(badKey.lines)).toContain('Admin API key');
  });

  let post: GhostPost;

  it('publish a post with tags and an author: the post, listings, its tag and author archives, sitemaps', async () => {
    post = await ghost.admin.add(
      'posts',
      { title: 'Launch Day', html: '<p>Hello</p>', status: 'published', tags: ['Announcements', 'Deep Dive'] },
      { source: 'html' },
    );
    post = await fresh(post.id);
    expect(archivesOf(post)).toHaveLength(3);
    expect(await invalidationOf('publish')).toEqual([`/${post.slug}/`, ...LISTINGS, ...archivesOf(post)].sort());
  });

  it('edit it: the same paths', async () => {
    await ghost.admin.edit('posts', { id: post.id, updated_at: post.updated_at as string, title: 'Launch Day!' });
    expect(await invalidationOf('edit')).toEqual([`/${post.slug}/`, ...LISTINGS, ...archivesOf(post)].sort());
  });

  it('change its slug: the new and the old URL', async () => {
    const current = await fresh(post.id);
    await ghost.admin.edit('posts', { id: post.id, updated_at: current.updated_at as string, slug: 'launch-moved' });
    expect(await invalidationOf('slug change')).toEqual(
      [`/${post.slug}/`, '/launch-moved/', ...LISTINGS, ...archivesOf(post)].sort(),
    );
    post = await fresh(post.id);
  });

  it('unpublish: the public URL it had, not the preview', async () => {
    await ghost.admin.edit('posts', { id: post.id, updated_at: post.updated_at as string, status: 'draft' });
    expect(await invalidationOf('unpublish')).toEqual(['/launch-moved/', ...LISTINGS, ...archivesOf(post)].sort());
  });

  it('delete (after publishing again): its URL and archives', async () => {
    const current = await fresh(post.id);
    await ghost.admin.edit('posts', { id: post.id, updated_at: current.updated_at as string, status: 'published' });
    await invalidationOf('republish');
    await ghost.admin.delete('posts', post.id);
    expect(await invalidationOf('delete')).toEqual(['/launch-moved/', ...LISTINGS, ...archivesOf(post)].sort());
  });

  it('publish a page: its URL and the sitemaps', async () => {
    const page = await ghost.admin.add(
      'pages',
      { title: 'About', html: '<p>About</p>', status: 'published' },
      { source: 'html' },
    );
    expect(await invalidationOf('page')).toEqual([`/${page.slug}/`, '/sitemap-pages.xml', '/sitemap.xml']);
  });

  it('rename a tag: everything, as its name shows on pages the payload does not name', async () => {
    const tags = (await ghost.admin.request('GET', '/tags/?filter=slug:announcements')) as { tags: { id: string }[] };
    const tag = tags.tags[0];
    if (!tag) throw new Error('tag missing');
    await ghost.admin.request('PUT', `/tags/${tag.id}/`, { body: { tags: [{ name: 'News & Announcements' }] } });
    expect(await invalidationOf('rename tag')).toEqual(['/*']);
  });

  it('change a site setting: a lone site.changed, which is everything', async () => {
    const answer = await ghost.staffRequest('PUT', '/settings/', {
      settings: [{ key: 'title', value: 'Renamed site' }],
    });
    expect(answer.status).toBe(200);
    expect(await invalidationOf('setting')).toEqual(['/*']);
  });

  it('reports what it did in its metrics', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/cache_invalidator_webhooks_total\{event="post.published",result="accepted"[^}]*\} 2/);
    expect(metrics).toMatch(/cache_invalidator_webhooks_total\{event="site.changed",result="accepted"[^}]*\} \d+/);
    expect(metrics).toMatch(/cache_invalidator_invalidations_total\{distribution="[A-Z0-9]+",result="sent"[^}]*\} 9/);
    expect(metrics).toMatch(/cache_invalidator_webhook_to_invalidation_seconds_count\{[^}]*\} \d+/);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
  });

  it('registers its webhooks on start with REGISTER_WEBHOOKS_ON_START and then receives them', async () => {
    const second = await createDistribution(cloudFront, 'register-on-start');
    const port = await freePort();
    const child = await startServiceProcess('cache-invalidator-register-on-start', {
      ...moto.awsEnv(),
      PORT: String(port),
      SITE_URL: ghost.url,
      CLOUDFRONT_DISTRIBUTION_IDS: second,
      WEBHOOK_SECRET: 'another-secret',
      JOURNAL_DIR: await newJournalDir(),
      INVALIDATION_WINDOW_MS: '200',
      REGISTER_WEBHOOKS_ON_START: 'true',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      GHOST_ADMIN_API_KEY: ghost.adminApiKey,
    });
    try {
      await waitFor(async () => (child.tail(200).includes('webhooks registered') ? true : undefined), {
        what: 'registration on start',
        timeoutMs: 30_000,
        abortIf: () => (child.isRunning ? undefined : child.tail()),
      });
      const line = child
        .tail(200)
        .split('\n')
        .find((l) => l.includes('webhooks registered'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ created: [...HANDLED_EVENTS] });
      const page = await ghost.admin.add(
        'pages',
        { title: 'Contact', html: '<p>x</p>', status: 'published' },
        { source: 'html' },
      );
      await expect
        .poll(async () => (await invalidationsIn(cloudFront, second)).map((i) => i.paths), { timeout: 10_000 })
        .toEqual([[`/${page.slug}/`, '/sitemap-pages.xml', '/sitemap.xml']]);
    } finally {
      await child.stop();
    }
  });
});
