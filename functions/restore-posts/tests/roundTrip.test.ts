// @module-tag ghost
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { backupText } from '@ghost-ha/content';
import {
  BUCKET,
  type ContentTestBed,
  GhostDatabase,
  lambdaContext,
  objectId,
  SECRET_ID,
  SIGNING_SECRET_ID,
  siteOf,
  startContentTestBed,
} from '@ghost-ha/content/testing';
import { GhostAdminClient } from '@ghost-ha/core';
import { createHandler as createDeleteHandler, loadConfig as loadDeleteConfig } from '@ghost-ha/delete-all-posts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createHandler, type RestorePostsHandler } from '../src/createHandler.js';

type Row = Record<string, unknown>;

/**
 * What the README announces as not coming back through Ghost's import, by field name. Every other
 * field of every post, its posts_meta row, its tags and authors (in order) and its tiers must come
 * back equal.
 */
const ANNOUNCED_LOSSES = ['id', 'comments', 'emails'];

describe('restore-posts: a complete round trip through the export and Ghost import, on a real Ghost', () => {
  let bed: ContentTestBed;
  let staff: GhostAdminClient;
  let site: string;
  let restore: RestorePostsHandler;
  let deleteAll: ReturnType<typeof createDeleteHandler>;
  let before: Map<string, Row>;
  let backup: string;

  beforeAll(async () => {
    bed = await startContentTestBed();
    site = siteOf(bed.ghost.url);
    staff = new GhostAdminClient({ url: bed.ghost.url, adminApiKey: bed.staffAccessToken });
    const env = {
      GHOST_SECRET_ID: SECRET_ID,
      BACKUP_BUCKET: BUCKET,
      BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
      AWS_ENDPOINT_URL: bed.moto.endpoint,
    };
    restore = createHandler(loadConfig(env), { logger: bed.logger, secretsManager: bed.secretsManager });
    deleteAll = createDeleteHandler(loadDeleteConfig(env), { logger: bed.logger, secretsManager: bed.secretsManager });
    await seedVariedContent(bed);
    before = await dump(staff);
    // Twelve posts and a page of ours, and the pages a new Ghost comes with.
    expect(before.size).toBeGreaterThanOrEqual(13);
  });

  afterAll(async () => {
    await bed?.destroy();
  });

  it('names the comments and email records the delete takes for good, before anyone confirms', async () => {
    const dry = await deleteAll({ includePages: true }, lambdaContext());
    expect(dry).toMatchObject({
      matched: before.size,
      backupSource: 'ghost-db-export',
      unrestorable: { comments: 2, emails: 1 },
    });
    expect(dry.message).toContain(
      'This also deletes 2 comment(s) and 1 email record(s), which restore cannot bring back',
    );
  });

  it('backs everything up without a secret or password hash, and deletes it', async () => {
    const result = await deleteAll({ dryRun: false, confirmSite: site, includePages: true }, lambdaContext());
    expect(result).toMatchObject({
      matched: before.size,
      backedUp: before.size,
      deleted: before.size,
      remaining: 0,
      method: 'bulk',
    });
    backup = result.backup ?? '';

    const stored = await objectText(bed, backup);
    const raw = (await staff.request('GET', '/db/')) as { db: { data: Record<string, Row[]> }[] };
    const secrets = [
      ...(raw.db[0]?.data.users ?? []).map((user) => String(user.password)),
      ...(raw.db[0]?.data.settings ?? [])
        .filter(
          (setting) => /secret|private|key|token/i.test(String(setting.key)) && String(setting.value ?? '').length > 8,
        )
        .map((setting) => String(setting.value)),
    ];
    // At least the two staff users' password hashes; Ghost 5's export also carries settings secrets.
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const secret of secrets)
      expect(stored.includes(secret), 'a secret from the export is in the backup').toBe(false);
    expect(stored).not.toMatch(/\$2[aby]\$\d\d\$/);
    expect(stored).not.toContain('"password"');
    expect(await bed.ghost.admin.count('posts', 'status:[published,draft,scheduled,sent]')).toBe(0);
  });

  it('says what cannot come back in the restore dry run', async () => {
    const dry = await restore({ backup }, lambdaContext());
    expect(dry).toMatchObject({
      dryRun: true,
      method: 'ghost-import',
      inBackup: before.size,
      restored: before.size,
      skipped: 0,
    });
    expect(dry.cannotRestore).toEqual([
      expect.stringMatching(/^2 comment\(s\)/),
      expect.stringMatching(/^1 email record\(s\)/),
    ]);
  });

  it('brings back every field of every post and page, except the announced losses', async () => {
    const result = await restore({ backup, dryRun: false, confirmSite: site }, lambdaContext());
    expect(result).toMatchObject({ restored: before.size, skipped: 0, failed: 0, done: true, errors: [] });

    const after = await dump(staff);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const differing = new Set<string>();
    for (const [uuid, original] of before) {
      const copy = after.get(uuid) as Row;
      for (const field of Object.keys(original)) {
        if (JSON.stringify(copy[field]) !== JSON.stringify(original[field])) differing.add(field);
      }
    }
    expect([...differing].sort()).toEqual(ANNOUNCED_LOSSES.filter((field) => differing.has(field)).sort());
    // The fields the issue names, spelled out.
    const byTitle = new Map([...after.values()].map((row) => [row.title, row]));
    expect(byTitle.get('Tier only')).toMatchObject({ visibility: 'tiers', tiers: ['default-product'] });
    expect(byTitle.get('Two and two')).toMatchObject({ tags: ['first', 'second'], authors: ['second-author', 'test'] });
    expect(byTitle.get('Sent newsletter')).toMatchObject({ status: 'sent', email_only: 1 });
    expect(byTitle.get('Commented')).toMatchObject({ comments: 0 });
    expect(await tagNames(staff)).not.toContainEqual(expect.stringMatching(/^#Import/));
  });

  it('restores nothing twice when run again', async () => {
    const again = await restore({ backup, dryRun: false, confirmSite: site }, lambdaContext());
    expect(again).toMatchObject({ restored: 0, skipped: before.size });
    expect((await dump(staff)).size).toBe(before.size);
  });
});

describe('restore-posts: two restores of one backup at the same instant', () => {
  let bed: ContentTestBed;

  beforeAll(async () => {
    bed = await startContentTestBed();
  });

  afterAll(async () => {
    await bed?.destroy();
  });

  it('brings back exactly one copy of each post: the second is refused while the first holds the lease', async () => {
    const site = siteOf(bed.ghost.url);
    const env = {
      GHOST_SECRET_ID: SECRET_ID,
      BACKUP_BUCKET: BUCKET,
      BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
      AWS_ENDPOINT_URL: bed.moto.endpoint,
    };
    const dependencies = { logger: bed.logger, secretsManager: bed.secretsManager };
    const seeded = await bed.ghost.seedPosts(12, { tags: ['twice'], titlePrefix: 'Once' });
    const deleted = await createDeleteHandler(loadDeleteConfig(env), dependencies)(
      { dryRun: false, confirmSite: site },
      lambdaContext(),
    );
    expect(deleted).toMatchObject({ deleted: 12, remaining: 0 });
    // Two Lambda instances: each its own handler, clients and secret cache.
    const first = createHandler(loadConfig(env), dependencies);
    const second = createHandler(loadConfig(env), dependencies);
    const event = { backup: deleted.backup, dryRun: false, confirmSite: site };

    const outcomes = await Promise.allSettled([
      first(event, lambdaContext(undefined, 'request-1')),
      second(event, lambdaContext(undefined, 'request-2')),
    ]);

    const fulfilled = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(fulfilled).toEqual([expect.objectContaining({ restored: 12, done: true })]);
    expect(refused).toEqual([
      expect.objectContaining({
        name: 'RestoreInProgressError',
        message: expect.stringMatching(/Another restore of s3:\/\/.* is running \(invocation request-\d/),
      }),
    ]);
    const slugs = (await bed.ghost.admin.browse('posts', { limit: 100, fields: 'slug' })).items.map(
      (post) => post.slug,
    );
    // No second copy (Ghost would have given it the slug `once-1-2`).
    expect(slugs.sort()).toEqual(seeded.map((post) => post.slug).sort());

    // A retry afterwards (the CLI's, after its read timeout) finds every post present.
    const retry = await second(event, lambdaContext(undefined, 'request-3'));
    expect(retry).toMatchObject({ restored: 0, skipped: 12 });
    expect(await bed.backupKeys()).not.toContainEqual(expect.stringMatching(/restore-lease$/));
  });
});

/** Ghost's own export of every post and page, keyed by uuid, relations resolved to slugs in order. */
async function dump(staff: GhostAdminClient): Promise<Map<string, Row>> {
  const response = (await staff.request('GET', '/db/', { params: { include: 'comments,emails' } })) as {
    db: { data: Record<string, Row[]> }[];
  };
  const data = response.db[0]?.data ?? {};
  const rows = (table: string): Row[] => data[table] ?? [];
  const slugOf = (table: string, id: unknown): unknown => rows(table).find((row) => row.id === id)?.slug;
  const related = (table: string, postId: unknown, column: string, target: string): unknown[] =>
    rows(table)
      .filter((row) => row.post_id === postId)
      .sort((a, b) => Number(a.sort_order ?? 0) - Number(b.sort_order ?? 0))
      .map((row) => slugOf(target, row[column]));
  const result = new Map<string, Row>();
  for (const post of rows('posts')) {
    const { id: _metaId, post_id: _postId, ...meta } = rows('posts_meta').find((row) => row.post_id === post.id) ?? {};
    result.set(String(post.uuid), {
      ...post,
      ...meta,
      tags: related('posts_tags', post.id, 'tag_id', 'tags'),
      authors: related('posts_authors', post.id, 'author_id', 'users'),
      tiers: related('posts_products', post.id, 'product_id', 'products'),
      comments: rows('comments').filter((row) => row.post_id === post.id).length,
      emails: rows('emails').filter((row) => row.post_id === post.id).length,
    });
  }
  return result;
}

async function tagNames(staff: GhostAdminClient): Promise<string[]> {
  const response = (await staff.request('GET', '/tags/', {
    params: { limit: 'all', filter: 'visibility:internal' },
  })) as {
    tags: { name: string }[];
  };
  return response.tags.map((tag) => tag.name);
}

async function objectText(bed: ContentTestBed, location: string): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  const object = await bed.s3.send(new GetObjectCommand({ Bucket: match?.[1], Key: match?.[2] }));
  // The object is gzipped: scan what it holds, not its compressed bytes.
  return backupText((await object.Body?.transformToByteArray()) ?? new Uint8Array());
}

/**
 * Twelve posts and a page covering what a restore must keep: a tier-only and a members-only post, a
 * scheduled post, a draft, two tags and two authors in order, a feature image with alt and caption,
 * meta and social fields, code injection, a canonical URL, a post with comments and a sent
 * email-only post (the last two written into the database: no API creates them).
 */
async function seedVariedContent(bed: ContentTestBed): Promise<void> {
  const admin = bed.ghost.admin;
  const db = await GhostDatabase.open(bed.ghost);
  try {
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
    const secondAuthor = objectId();
    await db.insert('users', {
      id: secondAuthor,
      name: 'Second Author',
      slug: 'second-author',
      password: 'not-a-hash',
      email: 'second@example.com',
      status: 'active',
      created_at: now,
      created_by: '1',
    });
    const [authorRole] = await db.all("SELECT id FROM roles WHERE name = 'Author'");
    await db.run('INSERT INTO roles_users (id, role_id, user_id) VALUES (?, ?, ?)', [
      objectId(),
      authorRole?.id,
      secondAuthor,
    ]);

    const tiers = (await admin.request('GET', '/tiers/')) as { tiers: { id: string; type: string; slug: string }[] };
    const paid = tiers.tiers.find((tier) => tier.type === 'paid');
    const html = (text: string): string => `<p>${text}</p><h2>A heading</h2><p>With <strong>bold</strong> text.</p>`;
    const add = (data: Record<string, unknown>, resource: 'posts' | 'pages' = 'posts') =>
      admin.add(resource, { html: html(String(data.title)), status: 'published', ...data }, { source: 'html' });

    await add({ title: 'Tier only', visibility: 'tiers', tiers: [{ id: paid?.id }] });
    await add({ title: 'Members only', visibility: 'members' });
    await add({
      title: 'Scheduled',
      status: 'scheduled',
      published_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await add({ title: 'Draft', status: 'draft' });
    await add({
      title: 'Two and two',
      tags: [{ name: 'First' }, { name: 'Second' }],
      authors: [{ id: secondAuthor }, { email: 'owner@example.com' }],
    });
    await add({
      title: 'Rich',
      featured: true,
      custom_excerpt: 'An excerpt',
      feature_image: 'https://images.example.com/feature.jpg',
      feature_image_alt: 'Alt text',
      feature_image_caption: 'A <em>caption</em>',
      meta_title: 'Meta title',
      meta_description: 'Meta description',
      og_title: 'OG title',
      og_description: 'OG description',
      og_image: 'https://images.example.com/og.jpg',
      twitter_title: 'Twitter title',
      twitter_description: 'Twitter description',
      twitter_image: 'https://images.example.com/twitter.jpg',
      codeinjection_head: '<script>window.head = 1;</script>',
      codeinjection_foot: '<script>window.foot = 1;</script>',
      canonical_url: 'https://elsewhere.example.com/rich/',
      published_at: '2024-05-06T07:08:09.000Z',
    });
    const commented = await add({ title: 'Commented' });
    const sent = await add({ title: 'Sent newsletter' });
    for (let i = 1; i <= 4; i++) await add({ title: `Plain ${i}`, tags: [{ name: 'Plain' }] });
    await add({ title: 'About', tags: [{ name: 'First' }] }, 'pages');

    const member = (await admin.request('POST', '/members/', {
      body: { members: [{ email: 'reader@example.com', name: 'Reader' }] },
    })) as { members: { id: string }[] };
    for (const text of ['First comment', 'A reply']) {
      await db.run(
        "INSERT INTO comments (id, post_id, member_id, status, html, created_at, updated_at) VALUES (?, ?, ?, 'published', ?, ?, ?)",
        [objectId(), commented.id, member.members[0]?.id, `<p>${text}</p>`, now, now],
      );
    }
    const newsletters = (await admin.request('GET', '/newsletters/')) as { newsletters: { id: string }[] };
    await db.run("UPDATE posts SET status = 'sent', newsletter_id = ?, email_recipient_filter = 'all' WHERE id = ?", [
      newsletters.newsletters[0]?.id,
      sent.id,
    ]);
    const meta = await db.all('SELECT id FROM posts_meta WHERE post_id = ?', [sent.id]);
    if (meta.length > 0) await db.run('UPDATE posts_meta SET email_only = 1 WHERE post_id = ?', [sent.id]);
    else await db.run('INSERT INTO posts_meta (id, post_id, email_only) VALUES (?, ?, 1)', [objectId(), sent.id]);
    await db.insert('emails', {
      id: objectId(),
      post_id: sent.id,
      uuid: crypto.randomUUID(),
      status: 'submitted',
      recipient_filter: 'all',
      email_count: 1,
      submitted_at: now,
      created_at: now,
      created_by: '1',
    });
  } finally {
    await db.close();
  }
}
