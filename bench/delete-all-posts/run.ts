// Side-by-side: deleting 1,000 real posts from a real Ghost (SQLite) by
//   raw bulk     one DELETE /posts/?filter=... (the bare limit: no backup, no checks)
//   this function   delete-all-posts handler, confirmed run: complete backup (Ghost's /db export with a
//                staff access token, trimmed, to S3 on moto), bulk delete of exactly those posts, verify
//   Admin API backup  the same handler with an integration key only (the fallback)
//   naive        browse every page, then one DELETE per post, all at once
//   cautious     one DELETE per post, 3 at a time, 50 ms apart
// and putting them back from this function's backup:
//   restore (import)     restore-posts through Ghost's /db import, until every post is back
//   restore (Admin API)  restore-posts from the fallback's backup, one post at a time
// Every contender starts from the same database: seeded once through Ghost's own import (the first post
// through the Admin API, converted from HTML; the rest carry its lexical),
// copied while Ghost is stopped, and copied back before each run.
//
//   node --conditions=source --import tsx bench/delete-all-posts/run.ts
//   POSTS=1000 ROUNDS=3 SLOW_ROUNDS=1 node --conditions=source --import tsx bench/delete-all-posts/run.ts
//   (ADMIN_API_ROUNDS=0 NAIVE_ROUNDS=0 RESTORE_ROUNDS=1 leave out or shorten the slow parts)
import { randomBytes } from 'node:crypto';
import { copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GhostDb } from '@ghost-ha/content';
import { createLogger, type GhostAdminClient, GhostApiError } from '@ghost-ha/core';
import { createHandler, type DeleteAllPostsResult, loadConfig } from '@ghost-ha/delete-all-posts';
import { createHandler as createRestoreHandler, loadConfig as loadRestoreConfig } from '@ghost-ha/restore-posts';
import { GhostServer, MotoServer, waitFor } from '@ghost-ha/testbed';

const POSTS = Number(process.env.POSTS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SLOW_ROUNDS = Number(process.env.SLOW_ROUNDS ?? 1);
const EVERY_STATUS = 'status:[published,draft,scheduled,sent]';
const BUCKET = 'bench-backups';
const SECRET_ID = 'bench/ghost';
const INTEGRATION_ONLY_SECRET_ID = 'bench/ghost-integration-only';
const SIGNING_SECRET_ID = 'bench/backup-signing';
const RESTORE_ROUNDS = Number(process.env.RESTORE_ROUNDS ?? ROUNDS);
/** The Admin API fallback (backup and restore) and the naive deleter take minutes each: 0 leaves them out. */
const ADMIN_API_ROUNDS = Number(process.env.ADMIN_API_ROUNDS ?? SLOW_ROUNDS);
const NAIVE_ROUNDS = Number(process.env.NAIVE_ROUNDS ?? SLOW_ROUNDS);

interface Outcome {
  ms: number;
  /** From the start until Ghost answers a count again (it can stay busy after the last answer). */
  settledMs: number;
  deleted: number;
  remaining: number;
  failures: number;
  detail?: string;
}

type Contender = {
  name: string;
  rounds: number;
  run: (ghost: GhostServer) => Promise<Omit<Outcome, 'remaining' | 'settledMs'>>;
};

const ghost = await GhostServer.start();
const moto = await MotoServer.start();
const restoreEnv = moto.useInThisProcess();
const secretsManager = new SecretsManagerClient({});
try {
  await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const token = await ghost.staffRequest('GET', '/users/me/token/');
  const apiKey = (token.body as { apiKey: { id: string; secret: string } }).apiKey;
  const staffAccessToken = `${apiKey.id}:${apiKey.secret}`;
  await secretsManager.send(
    new CreateSecretCommand({
      Name: SECRET_ID,
      SecretString: JSON.stringify({ url: ghost.url, adminApiKey: ghost.adminApiKey, staffAccessToken }),
    }),
  );
  await secretsManager.send(
    new CreateSecretCommand({
      Name: INTEGRATION_ONLY_SECRET_ID,
      SecretString: JSON.stringify({ url: ghost.url, adminApiKey: ghost.adminApiKey }),
    }),
  );
  await secretsManager.send(
    new CreateSecretCommand({ Name: SIGNING_SECRET_ID, SecretString: randomBytes(32).toString('hex') }),
  );
  await ghost.admin.bulkDelete('posts', EVERY_STATUS);

  const seedStart = performance.now();
  await seed(ghost.admin, new GhostDb({ url: ghost.url, staffAccessToken }), POSTS);
  const seedSeconds = (performance.now() - seedStart) / 1000;
  console.log(
    `seeded ${POSTS} posts in ${seedSeconds.toFixed(1)} s (${(POSTS / seedSeconds).toFixed(0)} posts/s, Ghost's import)`,
  );

  const database = join(ghost.contentDir, 'data', 'ghost.db');
  const snapshot = join(ghost.dir, 'seeded.db');
  await ghost.stop();
  await copyFile(database, snapshot);
  const resetGhost = async (): Promise<void> => {
    if (ghost.isRunning) await ghost.stop();
    for (const suffix of ['-wal', '-shm', '-journal']) await rm(`${database}${suffix}`, { force: true });
    await copyFile(snapshot, database);
    await ghost.start();
    const count = await ghost.admin.count('posts', EVERY_STATUS);
    if (count !== POSTS) throw new Error(`reset left ${count} posts, expected ${POSTS}`);
  };

  const contenders: Contender[] = [
    { name: 'raw bulk call', rounds: ROUNDS, run: rawBulk },
    { name: 'delete-all-posts', rounds: ROUNDS, run: (server) => thisFunction(server, SECRET_ID) },
    {
      name: 'delete-all-posts, Admin API backup',
      rounds: ADMIN_API_ROUNDS,
      run: (server) => thisFunction(server, INTEGRATION_ONLY_SECRET_ID),
    },
    { name: 'restore (import)', rounds: RESTORE_ROUNDS, run: (server) => restore(server, SECRET_ID) },
    {
      name: 'restore (Admin API)',
      rounds: ADMIN_API_ROUNDS,
      run: (server) => restore(server, INTEGRATION_ONLY_SECRET_ID),
    },
    { name: 'naive parallel', rounds: NAIVE_ROUNDS, run: naiveParallel },
    { name: 'cautious 3 @ 50 ms', rounds: SLOW_ROUNDS, run: cautious },
  ];
  const results = new Map<string, Outcome[]>();
  for (let round = 0; round < Math.max(ROUNDS, SLOW_ROUNDS); round++) {
    for (const contender of contenders) {
      if (round >= contender.rounds) continue;
      await resetGhost();
      const started = performance.now();
      const outcome = await contender.run(ghost);
      // Hundreds of parallel deletes can leave Ghost busy for a while after the last answer.
      const remaining = await waitFor(() => ghost.admin.count('posts', EVERY_STATUS), {
        what: 'Ghost to answer again',
        timeoutMs: 600_000,
        intervalMs: 1_000,
      });
      const full = { ...outcome, remaining, settledMs: performance.now() - started };
      results.set(contender.name, [...(results.get(contender.name) ?? []), full]);
      console.log(
        `round ${round + 1} ${contender.name}: ${full.ms.toFixed(0)} ms (Ghost answering again after ${full.settledMs.toFixed(0)} ms), deleted ${full.deleted}, remaining ${remaining}, failures ${full.failures}${outcome.detail ?? ''}`,
      );
    }
  }

  const medianOf = (name: string, field: 'ms' | 'settledMs' = 'ms'): number =>
    median((results.get(name) ?? []).map((outcome) => outcome[field]));
  const ours = medianOf('delete-all-posts');
  const isRestore = (contender: Contender): boolean => contender.name.startsWith('restore');
  console.log(`\n${POSTS} posts, Ghost ${ghost.version} on SQLite, medians:`);
  console.log(
    '| contender | runs | median ms | ms until Ghost answers again | deleted (confirmed) | remaining | failed requests | time vs delete-all-posts |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const ran = (contender: Contender): boolean => (results.get(contender.name) ?? []).length > 0;
  for (const contender of contenders.filter((candidate) => ran(candidate) && !isRestore(candidate))) {
    const outcomes = results.get(contender.name) ?? [];
    const last = outcomes[outcomes.length - 1];
    const ms = medianOf(contender.name);
    console.log(
      `| ${contender.name} | ${outcomes.length} | ${ms.toFixed(0)} | ${medianOf(contender.name, 'settledMs').toFixed(0)} | ${last?.deleted} | ${last?.remaining} | ${last?.failures} | ${(ms / ours).toFixed(2)}× |`,
    );
  }
  console.log('\n| restore | runs | median ms | posts back | failed |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const contender of contenders.filter((candidate) => ran(candidate) && isRestore(candidate))) {
    const outcomes = results.get(contender.name) ?? [];
    const last = outcomes[outcomes.length - 1];
    console.log(
      `| ${contender.name} | ${outcomes.length} | ${medianOf(contender.name).toFixed(0)} | ${last?.remaining} | ${last?.failures} |`,
    );
  }
  console.log(`\ncautious / delete-all-posts = ${(medianOf('cautious 3 @ 50 ms') / ours).toFixed(1)}× (goal ≥ 100×)`);
  console.log(`delete-all-posts / raw bulk = ${(ours / medianOf('raw bulk call')).toFixed(2)}× (goal ≤ 3×)`);
  const restoreSeconds = medianOf('restore (import)') / 1000;
  console.log(
    `restore (import) = ${restoreSeconds.toFixed(1)} s, ${(116 / restoreSeconds).toFixed(1)}× faster than the earlier 116 s (goal ≥ 3×); restore (Admin API) ${(medianOf('restore (Admin API)') / 1000).toFixed(1)} s`,
  );
} finally {
  restoreEnv();
  await Promise.all([ghost.destroy(), moto.destroy()]);
}

/**
 * Real posts: the first through the Admin API (Ghost converts its HTML to lexical), the others with
 * that lexical and two tags each through Ghost's import in one transaction (Admin API adds run at
 * 2-9 posts a second here). The database is seeded once and copied back for each run.
 */
async function seed(admin: GhostAdminClient, importer: GhostDb, count: number): Promise<void> {
  const body = Array.from(
    { length: 8 },
    (_, i) =>
      `<p>Paragraph ${i + 1} with some <strong>bold</strong> text and <a href="https://example.com/">a link</a>, long enough to look like a real post body.</p>`,
  ).join('');
  const first = await admin.add(
    'posts',
    {
      title: 'Bench post 1',
      status: 'published',
      tags: [{ name: 'Topic 1' }, { name: 'Bench' }],
      html: `<h2>Bench post</h2>${body}`,
    },
    { source: 'html' },
  );
  const { items } = await admin.browse('posts', { filter: `id:${first.id}`, formats: 'lexical' });
  const lexical = items[0]?.lexical;
  if (typeof lexical !== 'string') throw new Error('Ghost returned no lexical for the first seeded post');
  const tags = [
    ...Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, name: `Topic ${i}`, slug: `topic-${i}` })),
    { id: 'tb', name: 'Bench', slug: 'bench' },
  ];
  const posts = Array.from({ length: count - 1 }, (_, n) => {
    const i = n + 2;
    return {
      id: `p${i}`,
      title: `Bench post ${i}`,
      slug: `bench-post-${i}`,
      lexical,
      status: i % 10 === 0 ? 'draft' : 'published',
      type: 'post',
    };
  });
  const postsTags = posts.flatMap((post, n) => [
    { post_id: post.id, tag_id: `t${(n + 2) % 5}`, sort_order: 0 },
    { post_id: post.id, tag_id: 'tb', sort_order: 1 },
  ]);
  await importer.import(
    { meta: { exported_on: Date.now(), version: '5.130.6' }, data: { posts, tags, posts_tags: postsTags } },
    'seed.json',
  );
  await waitFor(
    async () => {
      const total = await admin.count('posts', EVERY_STATUS).catch(() => 0);
      return total >= count ? true : undefined;
    },
    { what: 'Ghost to import the seed', timeoutMs: 900_000, intervalMs: 2_000 },
  );
  // Ghost tags every imported post '#Import <date>': remove that tag, so the posts look like any others.
  const internal = (await admin.request('GET', '/tags/', {
    params: { filter: 'visibility:internal', limit: 'all' },
  })) as {
    tags: { id: string; name: string }[];
  };
  for (const tag of internal.tags.filter((candidate) => candidate.name.startsWith('#Import'))) {
    await admin.request('DELETE', `/tags/${tag.id}/`);
  }
}

async function rawBulk(server: GhostServer): Promise<Omit<Outcome, 'remaining' | 'settledMs'>> {
  const start = performance.now();
  const result = await server.admin.bulkDelete('posts', EVERY_STATUS);
  return { ms: performance.now() - start, deleted: result.successful, failures: result.unsuccessful };
}

async function confirmedRun(server: GhostServer, secretId: string): Promise<DeleteAllPostsResult> {
  // A fresh handler each round: the secret is read from Secrets Manager, as on a cold start.
  const handler = createHandler(
    loadConfig({
      GHOST_SECRET_ID: secretId,
      BACKUP_BUCKET: BUCKET,
      BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
      AWS_ENDPOINT_URL: moto.endpoint,
    }),
    { logger: createLogger({ service: 'bench', level: 'silent' }), secretsManager },
  );
  const result = await handler(
    { dryRun: false, confirmSite: new URL(server.url).host },
    { getRemainingTimeInMillis: () => 900_000 },
  );
  if (result.backedUp !== POSTS) throw new Error(`backed up ${result.backedUp} of ${POSTS}`);
  return result;
}

async function thisFunction(server: GhostServer, secretId: string): Promise<Omit<Outcome, 'remaining' | 'settledMs'>> {
  const start = performance.now();
  const result = await confirmedRun(server, secretId);
  return {
    ms: performance.now() - start,
    deleted: result.deleted,
    failures: result.errors.length,
    detail: ` (${result.backupSource}; steps ms: ${JSON.stringify(result.stepsMs)})`,
  };
}

/** Deletes with this function (not timed), then times restore-posts until every post is back. */
async function restore(server: GhostServer, secretId: string): Promise<Omit<Outcome, 'remaining' | 'settledMs'>> {
  const deleted = await confirmedRun(server, secretId);
  const handler = createRestoreHandler(
    loadRestoreConfig({
      GHOST_SECRET_ID: secretId,
      BACKUP_BUCKET: BUCKET,
      BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
      AWS_ENDPOINT_URL: moto.endpoint,
    }),
    { logger: createLogger({ service: 'bench', level: 'silent' }), secretsManager },
  );
  const start = performance.now();
  const result = await handler(
    { backup: deleted.backup, dryRun: false, confirmSite: new URL(server.url).host },
    { getRemainingTimeInMillis: () => 900_000, awsRequestId: 'bench' },
  );
  return {
    ms: performance.now() - start,
    deleted: result.restored,
    failures: result.failed + result.errors.length,
    detail: ` (${result.method}; restored ${result.restored}, ${result.errors.join('; ')})`,
  };
}

async function allIds(admin: GhostAdminClient): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of admin.browseAll('posts', { filter: EVERY_STATUS, fields: 'id' })) {
    ids.push(...page.map((post) => post.id));
  }
  return ids;
}

/** True when the post is gone; otherwise why the request failed. */
async function deleteOne(admin: GhostAdminClient, id: string): Promise<true | string> {
  try {
    await admin.delete('posts', id);
    return true;
  } catch (error) {
    if (error instanceof GhostApiError && error.status === 404) return true;
    return error instanceof GhostApiError
      ? `HTTP ${error.status ?? 'none'}: ${error.message.slice(-60)}`
      : String(error);
  }
}

function tally(results: (true | string)[]): Omit<Outcome, 'ms' | 'remaining' | 'settledMs'> {
  const reasons = new Map<string, number>();
  for (const result of results) if (result !== true) reasons.set(result, (reasons.get(result) ?? 0) + 1);
  const deleted = results.filter((result) => result === true).length;
  const detail = reasons.size > 0 ? ` (failures: ${JSON.stringify(Object.fromEntries(reasons))})` : '';
  return { deleted, failures: results.length - deleted, detail };
}

async function naiveParallel(server: GhostServer): Promise<Omit<Outcome, 'remaining' | 'settledMs'>> {
  const start = performance.now();
  const ids = await allIds(server.admin);
  const results = await Promise.all(ids.map((id) => deleteOne(server.admin, id)));
  return { ms: performance.now() - start, ...tally(results) };
}

async function cautious(server: GhostServer): Promise<Omit<Outcome, 'remaining' | 'settledMs'>> {
  const start = performance.now();
  const ids = await allIds(server.admin);
  const results: (true | string)[] = [];
  for (let i = 0; i < ids.length; i += 3) {
    results.push(...(await Promise.all(ids.slice(i, i + 3).map((id) => deleteOne(server.admin, id)))));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ms: performance.now() - start, ...tally(results) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
