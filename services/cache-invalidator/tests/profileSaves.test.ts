// @module-tag ghost
import { invalidationsIn } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MirrorTestBed } from './support/MirrorTestBed.js';

const SAVES = 100;

/**
 * The `/*` budget against a real Ghost: a staff user saving their profile over and over. Ghost fires
 * a lone `site.changed` per save; with SITE_CHANGED_MIN_INTERVAL_MS a minute, the saves of a minute
 * cost one `/*` and one full mirror crawl.
 */
describe('100 profile saves in a minute through a real Ghost (gate, invalidator, moto CloudFront and S3)', () => {
  let bed: MirrorTestBed;

  beforeAll(async () => {
    bed = await MirrorTestBed.start({ seedPosts: 3 });
    await bed.startInvalidator({
      MIRROR_BUILD_ON_EMPTY: 'false',
      MIRROR_RECONCILE_ON_START: 'false',
      SITE_CHANGED_MIN_INTERVAL_MS: '60000',
    });
    await bed.registerWebhooks(bed.invalidator.url);
  });

  afterAll(async () => {
    await bed?.destroy();
  });

  it(`${SAVES} saves of a staff bio: at most one \`/*\` and one full crawl within the minute`, async () => {
    const me = await bed.ghost.staffRequest('GET', '/users/me/');
    const id = (me.body as { users: { id: string }[] }).users[0]?.id;
    expect(id).toBeDefined();
    const started = Date.now();
    for (let save = 0; save < SAVES; save++) {
      const answer = await bed.ghost.staffRequest('PUT', `/users/${id}/`, { users: [{ bio: `Bio number ${save}` }] });
      expect(answer.status).toBe(200);
    }
    const savedInMs = Date.now() - started;
    // The window, the longest wait and the echo window after the last save; then the crawl.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await bed.invalidator.mirror?.idle(60_000)).toBe(true);
    const everything = (await invalidationsIn(bed.cloudFront, bed.distributionId)).filter((i) =>
      i.paths.includes('/*'),
    ).length;
    // A crawl reads the sitemap index once; a read that failed (the gate's 503 while a loaded Ghost
    // answers its health check late) is retried within the same crawl.
    const sitemapReads = bed.gateWitness.requests.filter((r) => r.path === '/sitemap.xml');
    const crawls = sitemapReads.filter((r) => r.status === 200).length;
    const waiting = bed.invalidator.queueDepth?.events;
    process.stdout.write(
      `${SAVES} profile saves through Ghost in ${Math.round(savedInMs / 1000)} s: ${everything} /* invalidation(s), ${crawls} full crawl(s) (sitemap index read ${sitemapReads.length} time(s): ${sitemapReads.map((r) => r.status ?? 'no answer').join(', ')}), ${waiting} site change(s) waiting, merged, for the next period\n`,
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(everything).toBe(1);
    expect(crawls).toBe(1);
    expect(waiting ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
