// @module-tag ghost
import { createHmac } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { backupText, type ContentBackup, parseLocation } from '@ghost-ha/content';
import {
  BUCKET,
  type ContentTestBed,
  lambdaContext,
  SECRET_ID,
  SIGNING_SECRET_ID,
  siteOf,
  startContentTestBed,
} from '@ghost-ha/content/testing';
import { evaluateAlarm, parseEmfLines, resolveAlarm } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../../../infra/src/parseTemplate.js';
import { loadConfig } from '../src/config.js';
import { createHandler, type DeleteAllPostsHandler } from '../src/createHandler.js';

describe('delete-all-posts against a real Ghost and moto', () => {
  let bed: ContentTestBed;
  let handler: DeleteAllPostsHandler;
  let site: string;

  const handlerFor = (env: Record<string, string> = {}, writeMetrics?: (line: string) => void): DeleteAllPostsHandler =>
    createHandler(
      loadConfig({
        GHOST_SECRET_ID: SECRET_ID,
        BACKUP_BUCKET: BUCKET,
        BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
        AWS_ENDPOINT_URL: bed.moto.endpoint,
        ...env,
      }),
      { logger: bed.logger, secretsManager: bed.secretsManager, ...(writeMetrics ? { writeMetrics } : {}) },
    );

  beforeAll(async () => {
    bed = await startContentTestBed();
    handler = handlerFor();
    site = siteOf(bed.ghost.url);
    await bed.ghost.seedPosts(4, { tags: ['doomed'], titlePrefix: 'Doomed' });
    await bed.ghost.seedPosts(2, { tags: ['kept'], titlePrefix: 'Kept' });
    await bed.ghost.seedPosts(2, { status: 'draft', titlePrefix: 'Draft' });
  });

  afterAll(async () => {
    await bed?.destroy();
  });

  it('dry-runs by default: counts, samples and names the backup location, deletes nothing', async () => {
    const result = await handler({}, lambdaContext());

    expect(result).toMatchObject({ dryRun: true, matched: 8, deleted: 0, backedUp: 0, remaining: 8, site });
    expect(result.sample).toHaveLength(8);
    expect(result.sample.map((post) => post.title)).toContain('Draft 1');
    expect(result.backup).toMatch(new RegExp(`^s3://${BUCKET}/delete-all-posts/`));
    expect(result.message).toContain(`"confirmSite":"${site}"`);
    expect(await bed.ghost.admin.count('posts')).toBe(8);
    expect(await bed.backupKeys()).toEqual([]);
  });

  it('refuses a real run without a confirmation, or with one naming another site', async () => {
    await expect(handler({ dryRun: false }, lambdaContext())).rejects.toThrow(
      /needs "confirmSite".*Nothing was deleted/,
    );
    await expect(handler({ dryRun: false, confirmSite: 'blog.example.com' }, lambdaContext())).rejects.toMatchObject({
      name: 'ConfirmationError',
      message: expect.stringContaining(`configured for '${site}'`),
    });
    await expect(handler({ dryRun: false, confirmsite: site }, lambdaContext())).rejects.toThrow(
      /unknown key\(s\) 'confirmsite'/,
    );
    expect(await bed.ghost.admin.count('posts')).toBe(8);
    expect(await bed.backupKeys()).toEqual([]);
  });

  it('refuses at once, writing nothing, when the time margin is not less than the time left', async () => {
    const tight = handlerFor({ TIME_MARGIN_MS: '30000' });
    await expect(
      tight(
        { dryRun: false, confirmSite: site },
        lambdaContext(() => 30_000),
      ),
    ).rejects.toMatchObject({
      name: 'TimeMarginError',
      message: expect.stringMatching(/TIME_MARGIN_MS is 30000 ms, but .* only 30000 ms left.*Nothing was backed up/),
    });
    expect(await bed.backupKeys()).toEqual([]);
    expect(await bed.ghost.admin.count('posts')).toBe(8);
  });

  it("names a filter Ghost refuses, with Ghost's reason, instead of calling Ghost unavailable", async () => {
    const error = await handler({ dryRun: false, confirmSite: site, filter: 'tag:[unclosed' }, lambdaContext()).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'FilterError', filter: 'tag:[unclosed' });
    expect(String(error)).toMatch(/Ghost refused the filter "tag:\[unclosed": .+Nothing was deleted/);
    expect(await bed.backupKeys()).toEqual([]);
  });

  it("publishes each run's result as EMF lines: posts deleted and backed up, and a failure the alarm catches", async () => {
    const lines: string[] = [];
    const metered = handlerFor({ METRICS_NAMESPACE: 'ghost-ha/ContentFunctions' }, (line) => lines.push(line));
    const alarm = resolveAlarm(loadTemplate('observability').Resources.ContentRunFailureAlarm?.Properties ?? {}, {
      ProjectName: 'ghost-ha',
    });
    await bed.ghost.seedPosts(2, { tags: ['metered'], titlePrefix: 'Metered' });
    await metered({ dryRun: false, confirmSite: site, filter: 'tag:metered' }, lambdaContext());
    const afterSuccess = parseEmfLines(lines.join('\n'));
    const value = (name: string, field: string, label: string) =>
      afterSuccess.filter((d) => d[field] === label).map((d) => d[name]);
    expect(value('content_runs_total', 'result', 'completed')).toEqual([1]);
    expect(value('content_posts_total', 'action', 'deleted')).toEqual([2]);
    expect(value('content_posts_total', 'action', 'backed_up')).toEqual([2]);
    expect(evaluateAlarm(alarm, afterSuccess).breaching).toBe(false);

    await metered({ dryRun: false, confirmSite: site, filter: 'tag:[unclosed' }, lambdaContext()).catch(
      () => undefined,
    );
    expect(evaluateAlarm(alarm, parseEmfLines(lines.join('\n'))).breaching).toBe(true);
  });

  it('shows the NQL a tag shorthand stands for in the dry run', async () => {
    const dry = await handler({ tag: 'doomed' }, lambdaContext());
    expect(dry).toMatchObject({ filter: "tag:'doomed'", matched: 4 });
    expect(dry.message).toContain(`"filter":"tag:'doomed'"`);
  });

  it('deletes only what the filter matches, after backing those posts up', async () => {
    const result = await handler(
      { dryRun: false, confirmSite: `http://${site}/`, filter: 'tag:doomed' },
      lambdaContext(),
    );

    expect(result).toMatchObject({ matched: 4, backedUp: 4, deleted: 4, remaining: 0, method: 'bulk', done: true });
    expect(result.errors).toEqual([]);
    expect(await bed.ghost.admin.count('posts', 'tag:doomed')).toBe(0);
    expect(await bed.ghost.admin.count('posts')).toBe(4);
    const backup = await readBackup(bed, result.backup);
    expect(titlesOf(backup).sort()).toEqual(['Doomed 1', 'Doomed 2', 'Doomed 3', 'Doomed 4']);
    expect(backup.items.posts).toHaveLength(4);
  });

  it('deletes pages too when asked, with the same filter, and backs them up', async () => {
    await bed.ghost.seedPosts(2, { resource: 'pages', tags: ['doomed'], titlePrefix: 'Doomed page' });
    const dry = await handler({ filter: 'tag:doomed', includePages: true }, lambdaContext());
    expect(dry.byResource).toEqual({
      posts: { matched: 0, backedUp: 0, deleted: 0, remaining: 0 },
      pages: { matched: 2, backedUp: 0, deleted: 0, remaining: 2 },
    });
    expect(dry.sample.map((page) => page.title).sort()).toEqual(['Doomed page 1', 'Doomed page 2']);

    const result = await handler(
      { dryRun: false, confirmSite: site, filter: 'tag:doomed', includePages: true },
      lambdaContext(),
    );

    expect(result).toMatchObject({ matched: 2, backedUp: 2, deleted: 2, remaining: 0 });
    expect(await bed.ghost.admin.count('pages', 'tag:doomed')).toBe(0);
    expect(await bed.ghost.admin.count('posts')).toBe(4);
    const backup = await readBackup(bed, result.backup);
    expect(titlesOf(backup).sort()).toEqual(['Doomed page 1', 'Doomed page 2']);
    expect(backup.items).toEqual({ posts: [], pages: expect.any(Array) });
  });

  it('fails clearly and deletes nothing when the backup cannot be written', async () => {
    const noBucket = handlerFor({ BACKUP_BUCKET: 'no-such-bucket' });
    await expect(noBucket({ dryRun: false, confirmSite: site }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupError',
      message: expect.stringMatching(/s3:\/\/no-such-bucket\/.*NoSuchBucket.*Nothing was deleted/),
    });
    expect(await bed.ghost.admin.count('posts')).toBe(4);
  });

  it('fails closed, deleting nothing, when the backup signing key is missing or too short', async () => {
    const missing = handlerFor({ BACKUP_SIGNING_SECRET_ID: 'ghost/test-site/no-such-signing-key' });
    await expect(missing({ dryRun: false, confirmSite: site }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupError',
      message: expect.stringMatching(/Signing the backup .*no-such-signing-key.*Nothing was deleted/),
    });
    await bed.secretsManager.send(
      new CreateSecretCommand({ Name: 'ghost/test-site/short-key', SecretString: 'short' }),
    );
    const short = handlerFor({ BACKUP_SIGNING_SECRET_ID: 'ghost/test-site/short-key' });
    await expect(short({ dryRun: false, confirmSite: site }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupError',
      message: expect.stringMatching(/shorter than 32 characters.*Nothing was deleted/),
    });
    expect(await bed.ghost.admin.count('posts')).toBe(4);
  });

  it('signs what it writes: the object carries the HMAC of its key and bytes', async () => {
    await bed.ghost.seedPosts(1, { tags: ['Signed'], titlePrefix: 'Signed' });
    const result = await handlerFor()({ dryRun: false, confirmSite: site, filter: 'tag:signed' }, lambdaContext());
    const location = parseLocation(result.backup ?? '');
    const object = await bed.s3.send(new GetObjectCommand({ Bucket: location?.bucket, Key: location?.key }));
    const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    const key = (await bed.secretsManager.send(new GetSecretValueCommand({ SecretId: SIGNING_SECRET_ID })))
      .SecretString;
    const expected = createHmac('sha256', key ?? '')
      .update(`${location?.key}\n`)
      .update(bytes)
      .digest('hex');
    expect(object.Metadata).toEqual({ 'hmac-sha256': expected });
    expect(await bed.ghost.admin.count('posts')).toBe(4);
  });

  it('fails clearly and deletes nothing when the Admin API key is wrong', async () => {
    const secretId = await bed.putSecret({ url: bed.ghost.url, adminApiKey: `${'a'.repeat(24)}:${'b'.repeat(64)}` });
    const wrongKey = handlerFor({ GHOST_SECRET_ID: secretId });
    const error = await wrongKey({ dryRun: false, confirmSite: site }, lambdaContext()).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'GhostUnavailableError' });
    expect(String(error)).toMatch(/refused the request .* \(HTTP 401: .*\).*Nothing was deleted/);
    expect(String(error)).not.toContain('b'.repeat(64));
    expect(await bed.ghost.admin.count('posts')).toBe(4);
  });

  it('deletes every post of every status, with a backup holding each one and its content', async () => {
    const before = await bed.ghost.admin.browse('posts', { limit: 100, formats: 'html', include: 'tags' });
    const result = await handler({ dryRun: false, confirmSite: site }, lambdaContext());

    expect(result).toMatchObject({ matched: 4, backedUp: 4, deleted: 4, remaining: 0, done: true });
    expect(result.cdnPurge).toMatchObject({ via: 'cache-invalidator' });
    expect(result.cdnPurge.detail).toMatch(/site\.changed/);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(await bed.ghost.admin.count('posts', 'status:[published,draft,scheduled,sent]')).toBe(0);

    const backup = await readBackup(bed, result.backup);
    expect(backup).toMatchObject({
      format: 'ghost-ha/content-backup',
      version: 2,
      site: bed.ghost.url,
      source: 'ghost-db-export',
      unrestorable: { comments: 0, emails: 0 },
    });
    const data = backup.ghostExport?.data ?? {};
    for (const original of before.items) {
      const saved = data.posts?.find((post) => post.id === original.id);
      expect(saved, original.title).toBeDefined();
      expect(saved).toMatchObject({
        title: original.title,
        slug: original.slug,
        status: original.status,
        uuid: original.uuid,
      });
      expect(saved?.html).toBe(original.html);
      expect(saved?.lexical ?? saved?.mobiledoc).toEqual(expect.any(String));
      const tagIds = (data.posts_tags ?? []).filter((row) => row.post_id === original.id).map((row) => row.tag_id);
      expect(tagIds).toEqual((original.tags as { id: string }[]).map((tag) => tag.id));
    }
    expect(data.users?.map((user) => user.email)).toEqual(['owner@example.com']);
    expect(Object.keys(data).sort()).not.toContain('settings');
  });

  it('finds nothing and does nothing when invoked again', async () => {
    const keysBefore = await bed.backupKeys();
    const result = await handler({ dryRun: false, confirmSite: site }, lambdaContext());
    expect(result).toMatchObject({ matched: 0, backedUp: 0, deleted: 0, remaining: 0, backup: undefined, done: true });
    expect(result.cdnPurge.via).toBe('not-needed');
    expect(await bed.backupKeys()).toEqual(keysBefore);
  });

  it('fails clearly and deletes nothing when Ghost is down', async () => {
    await bed.ghost.seedPosts(2, { titlePrefix: 'Survivor' });
    await bed.ghost.stop();
    try {
      await expect(handler({ dryRun: false, confirmSite: site }, lambdaContext())).rejects.toMatchObject({
        name: 'GhostUnavailableError',
        message: expect.stringMatching(/Ghost at http:\/\/127\.0\.0\.1:\d+ is unavailable.*Nothing was deleted/),
      });
    } finally {
      await bed.ghost.start();
    }
    expect(await bed.ghost.admin.count('posts')).toBe(2);
  });
});

function titlesOf(backup: ContentBackup): string[] {
  return (backup.ghostExport?.data.posts ?? []).map((post) => String(post.title));
}

async function readBackup(bed: ContentTestBed, location: string | undefined): Promise<ContentBackup> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location ?? '');
  if (!match) throw new Error(`not an S3 location: ${location}`);
  const object = await bed.s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return JSON.parse(await backupText((await object.Body?.transformToByteArray()) ?? new Uint8Array())) as ContentBackup;
}
