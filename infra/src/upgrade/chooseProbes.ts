import type { GhostAdminClient } from '@ghost-ha/core';
import type { SmokeProbes } from './smokeSite.js';

/**
 * Picks the pages the smoke test reads from production's own content: the newest public post, the
 * public tag with the most posts, and the newest members-only post with the end of its text (an
 * anonymous reader gets its preview at most, never its end).
 */
export async function chooseProbes(admin: GhostAdminClient): Promise<SmokeProbes> {
  const posts = (await admin.request(
    'GET',
    '/posts/?filter=status:published%2Bvisibility:public&limit=1&order=published_at%20desc',
  )) as {
    posts?: { url?: string }[];
  };
  const tags = (await admin.request('GET', '/tags/?filter=visibility:public&include=count.posts&limit=100')) as {
    tags?: { slug: string; count?: { posts?: number } }[];
  };
  const paid = (await admin.request(
    'GET',
    '/posts/?filter=status:published%2Bvisibility:-public&limit=1&formats=plaintext&order=published_at%20desc',
  )) as { posts?: { url?: string; plaintext?: string }[] };
  const post = posts.posts?.[0]?.url;
  const tag = [...(tags.tags ?? [])].sort((a, b) => (b.count?.posts ?? 0) - (a.count?.posts ?? 0))[0];
  if (!post || !tag || (tag.count?.posts ?? 0) === 0) {
    throw new Error('The site needs a published public post and a public tag with posts for the smoke test');
  }
  const membersOnly = paid.posts?.[0];
  const hiddenPhrase = membersOnly?.plaintext?.trim().slice(-40).trim();
  return {
    postPath: new URL(post).pathname,
    tagPath: `/tag/${tag.slug}/`,
    ...(membersOnly?.url && hiddenPhrase
      ? { membersOnly: { path: new URL(membersOnly.url).pathname, hiddenPhrase } }
      : {}),
  };
}
