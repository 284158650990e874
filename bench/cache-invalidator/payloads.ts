import { webhookOf } from '../../services/cache-invalidator/tests/support/fixtures.js';

export { captured } from '../../services/cache-invalidator/tests/support/fixtures.js';

const TAG_POOL = Array.from({ length: 12 }, (_, i) => `topic-${i}`);
const AUTHOR_POOL = ['alice', 'bob', 'carol'];

/**
 * A Ghost post payload (the recorded one, about 7 KB, re-targeted at another post): post `n` has
 * two tags from a pool of twelve and one of three authors, as a small newsroom would.
 */
export function postPayload(siteUrl: string, n: number, kind: 'published' | 'edited'): string {
  const body = structuredClone(webhookOf('publish post with tags', 'post.published').body) as {
    post: { current: Record<string, unknown>; previous: Record<string, unknown> };
  };
  const slug = `story-${n}`;
  const tags = [TAG_POOL[n % TAG_POOL.length], TAG_POOL[(n * 7 + 3) % TAG_POOL.length]].map((tag) => ({
    slug: tag,
    url: `${siteUrl}/tag/${tag}/`,
  }));
  const author = AUTHOR_POOL[n % AUTHOR_POOL.length];
  Object.assign(body.post.current, {
    id: `post${String(n).padStart(20, '0')}`,
    slug,
    url: `${siteUrl}/${slug}/`,
    title: `Story ${n}`,
    tags,
    primary_tag: tags[0],
    authors: [{ slug: author, url: `${siteUrl}/author/${author}/` }],
  });
  body.post.previous = kind === 'edited' ? { title: `Story ${n} (draft title)` } : { status: 'draft' };
  return JSON.stringify(body);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
