// @module-tag ghost
import {
  BUCKET,
  type ContentTestBed,
  INTEGRATION_ONLY_SECRET_ID,
  lambdaContext,
  SIGNING_SECRET_ID,
  siteOf,
  startContentTestBed,
} from '@ghost-ha/content/testing';
import type { GhostPost } from '@ghost-ha/core';
import { createHandler as createDeleteHandler, loadConfig as loadDeleteConfig } from '@ghost-ha/delete-all-posts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createHandler, type RestorePostsHandler } from '../src/createHandler.js';

const EVERY_STATUS = 'status:[published,draft,scheduled,sent]';

describe('restore-posts without a staff token: the Admin API backup and restore, on a real Ghost and moto', () => {
  let bed: ContentTestBed;
  let restore: RestorePostsHandler;
  let site: string;
  let originals: GhostPost[];
  let backup: string;

  const browseEverything = async (): Promise<GhostPost[]> =>
    (
      await bed.ghost.admin.browse('posts', {
        filter: EVERY_STATUS,
        limit: 100,
        formats: 'html,lexical',
        include: 'tags,authors',
        order: 'slug asc',
      })
    ).items;

  beforeAll(async () => {
    bed = await startContentTestBed();
    site = siteOf(bed.ghost.url);
    const env = {
      GHOST_SECRET_ID: INTEGRATION_ONLY_SECRET_ID,
      BACKUP_BUCKET: BUCKET,
      BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
      AWS_ENDPOINT_URL: bed.moto.endpoint,
    };
    restore = createHandler(loadConfig(env), { logger: bed.logger, secretsManager: bed.secretsManager });
    await bed.ghost.seedPosts(3, { tags: ['News', 'Long Reads'], titlePrefix: 'Story' });
    await bed.ghost.seedPosts(2, { status: 'draft', tags: ['Ideas'], titlePrefix: 'Draft idea' });
    await bed.ghost.admin.add(
      'posts',
      {
        title: 'Rich post',
        slug: 'a-custom-slug',
        html: '<h2>Heading</h2><p>Text with <strong>bold</strong> and <a href="https://example.com/">a link</a>.</p><ul><li>one</li><li>two</li></ul>',
        status: 'published',
        published_at: '2024-05-06T07:08:09.000Z',
        custom_excerpt: 'An excerpt',
        featured: true,
        tags: [{ name: 'News' }],
      },
      { source: 'html' },
    );
    originals = await browseEverything();
    const deleteAllPosts = createDeleteHandler(loadDeleteConfig(env), {
      logger: bed.logger,
      secretsManager: bed.secretsManager,
    });
    const deleted = await deleteAllPosts({ dryRun: false, confirmSite: site }, lambdaContext());
    expect(deleted).toMatchObject({ deleted: 6, remaining: 0 });
    backup = deleted.backup ?? '';
  });

  afterAll(async () => {
    await bed?.destroy();
  });

  it('dry-runs by default and refuses a real run without the site named', async () => {
    const dry = await restore({ backup }, lambdaContext());
    expect(dry).toMatchObject({
      dryRun: true,
      method: 'admin-api',
      inBackup: 6,
      restored: 6,
      skipped: 0,
      backupSite: site,
      site,
    });
    expect(dry.cannotRestore).toEqual([expect.stringContaining("the posts' comments (not counted")]);
    await expect(restore({ backup, dryRun: false }, lambdaContext())).rejects.toMatchObject({
      name: 'ConfirmationError',
      message: expect.stringContaining('Nothing was restored'),
    });
    await expect(restore({ backup, dryRun: false, confirmSite: 'other.example.com' }, lambdaContext())).rejects.toThrow(
      /configured for/,
    );
    expect(await bed.ghost.admin.count('posts', EVERY_STATUS)).toBe(0);
  });

  it('brings every post back with its title, slug, status, dates, content, tags and author', async () => {
    const result = await restore({ backup, dryRun: false, confirmSite: site }, lambdaContext());

    expect(result).toMatchObject({ dryRun: false, restored: 6, skipped: 0, failed: 0, done: true });
    expect(result.errors).toEqual([]);
    const restored = await browseEverything();
    expect(restored.map((post) => post.slug)).toEqual(originals.map((post) => post.slug));
    for (const original of originals) {
      const copy = restored.find((post) => post.slug === original.slug);
      expect(copy, original.slug).toBeDefined();
      expect(copy?.id).not.toBe(original.id);
      expect(original.lexical).toEqual(expect.stringContaining('"root"'));
      expect(copy).toMatchObject({
        title: original.title,
        status: original.status,
        html: original.html,
        lexical: original.lexical,
        published_at: original.published_at,
        featured: original.featured,
        custom_excerpt: original.custom_excerpt,
      });
      expect(slugsOf(copy?.tags)).toEqual(slugsOf(original.tags));
      expect(slugsOf(copy?.authors)).toEqual(slugsOf(original.authors));
    }
  });

  it('duplicates nothing when run again, and restores only what is missing', async () => {
    const again = await restore({ backup, dryRun: false, confirmSite: site }, lambdaContext());
    expect(again).toMatchObject({ restored: 0, skipped: 6, failed: 0 });
    expect(await bed.ghost.admin.count('posts', EVERY_STATUS)).toBe(6);

    await bed.ghost.admin.bulkDelete('posts', 'tag:ideas');
    const partial = await restore({ backup, dryRun: false, confirmSite: site }, lambdaContext());
    expect(partial).toMatchObject({ restored: 2, skipped: 4 });
    expect((await browseEverything()).map((post) => post.slug)).toEqual(originals.map((post) => post.slug));
  });

  it('says clearly when the backup is missing or outside the backup bucket', async () => {
    await expect(
      restore(
        { backup: `s3://${BUCKET}/delete-all-posts/${site}/nope.json.gz`, dryRun: false, confirmSite: site },
        lambdaContext(),
      ),
    ).rejects.toMatchObject({ name: 'BackupError', message: expect.stringMatching(/NoSuchKey/) });
    await expect(restore({ backup: 's3://someone-elses-bucket/x.json' }, lambdaContext())).rejects.toThrow(
      /must be in the bucket content-backups/,
    );
  });
});

function slugsOf(items: unknown): string[] {
  return ((items as { slug: string }[] | undefined) ?? []).map((item) => item.slug);
}
