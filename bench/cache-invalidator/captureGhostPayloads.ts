/**
 * Records the webhooks a real Ghost sends for the content changes the invalidator plans for, into
 * services/cache-invalidator/tests/fixtures/ghost-webhooks.json (the planner's unit tests read it).
 *
 *   node --conditions=source --import tsx bench/cache-invalidator/captureGhostPayloads.ts
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GhostServer, REPO_ROOT, WebhookListener } from '@ghost-ha/testbed';

const EVENTS = [
  'site.changed',
  ...['post', 'page'].flatMap((kind) =>
    [
      'added',
      'deleted',
      'edited',
      'published',
      'published.edited',
      'unpublished',
      'scheduled',
      'unscheduled',
      'rescheduled',
    ].map((action) => `${kind}.${action}`),
  ),
  'tag.added',
  'tag.edited',
  'tag.deleted',
  'post.tag.attached',
  'post.tag.detached',
  'page.tag.attached',
  'page.tag.detached',
];

interface Captured {
  step: string;
  event: string;
  receivedAt: number;
  body: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const [ghost, listener] = await Promise.all([GhostServer.start(), WebhookListener.start()]);
const captured: Captured[] = [];
let step = 'setup';
let seen = 0;
async function settle(): Promise<void> {
  await sleep(1500);
  for (const request of listener.received.slice(seen)) {
    captured.push({
      step,
      event: request.path.replace('/hooks/', ''),
      receivedAt: request.receivedAt,
      body: JSON.parse(request.rawBody.toString('utf8') || '{}'),
    });
  }
  seen = listener.received.length;
}

try {
  for (const event of EVENTS) await ghost.registerWebhook(event, `${listener.url}/hooks/${event}`, 'capture-secret');
  await settle();

  step = 'publish post with tags';
  const post = await ghost.admin.add(
    'posts',
    { title: 'Hello World', html: '<p>x</p>', status: 'published', tags: ['News', 'Deep Dive'] },
    { source: 'html' },
  );
  await settle();

  const current = async (id: string, resource: 'posts' | 'pages' = 'posts') =>
    ((await ghost.admin.request('GET', `/${resource}/${id}/`)) as { [k: string]: { updated_at: string }[] })[
      resource
    ]?.[0]?.updated_at ?? '';

  step = 'edit title';
  await ghost.admin.edit('posts', { id: post.id, updated_at: await current(post.id), title: 'Hello World, again' });
  await settle();

  step = 'change slug';
  await ghost.admin.edit('posts', { id: post.id, updated_at: await current(post.id), slug: 'hello-renamed' });
  await settle();

  step = 'change tags';
  await ghost.admin.edit('posts', { id: post.id, updated_at: await current(post.id), tags: ['News', 'Other'] });
  await settle();

  step = 'unpublish';
  await ghost.admin.edit('posts', { id: post.id, updated_at: await current(post.id), status: 'draft' });
  await settle();

  step = 'republish';
  await ghost.admin.edit('posts', { id: post.id, updated_at: await current(post.id), status: 'published' });
  await settle();

  step = 'delete';
  await ghost.admin.delete('posts', post.id);
  await settle();

  step = 'publish page';
  const page = await ghost.admin.add(
    'pages',
    { title: 'About Us', html: '<p>x</p>', status: 'published' },
    { source: 'html' },
  );
  await settle();

  step = 'edit page';
  await ghost.admin.edit('pages', { id: page.id, updated_at: await current(page.id, 'pages'), title: 'About' });
  await settle();

  const tags = (await ghost.admin.request('GET', '/tags/?filter=slug:news')) as {
    tags: { id: string; updated_at: string }[];
  };
  const news = tags.tags[0];
  if (!news) throw new Error('tag news missing');
  step = 'rename tag';
  await ghost.admin.request('PUT', `/tags/${news.id}/`, { body: { tags: [{ name: 'Breaking News' }] } });
  await settle();

  step = 'change tag slug';
  await ghost.admin.request('PUT', `/tags/${news.id}/`, { body: { tags: [{ slug: 'breaking' }] } });
  await settle();

  step = 'tag description';
  await ghost.admin.request('PUT', `/tags/${news.id}/`, { body: { tags: [{ description: 'All the news' }] } });
  await settle();

  step = 'site setting';
  const settings = await ghost.staffRequest('PUT', '/settings/', { settings: [{ key: 'title', value: 'New title' }] });
  if (settings.status !== 200) throw new Error(`settings: ${settings.status}`);
  await settle();

  step = 'bulk delete';
  await ghost.seedPosts(2, { titlePrefix: 'Bulk' });
  await settle();
  step = 'bulk delete';
  await ghost.admin.bulkDelete('posts', 'status:[published,draft]');
  await settle();

  const out = join(REPO_ROOT, 'services/cache-invalidator/tests/fixtures/ghost-webhooks.json');
  await writeFile(out, `${JSON.stringify({ ghostVersion: ghost.version, siteUrl: ghost.url, captured }, null, 1)}\n`);
  console.log(`${captured.length} webhooks written to ${out}`);
  for (const c of captured) console.log(`${c.step.padEnd(24)} ${c.event}`);
} finally {
  await Promise.all([ghost.destroy(), listener.close()]);
}
