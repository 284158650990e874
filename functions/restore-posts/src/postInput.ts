import type { GhostPost } from '@ghost-ha/core';

/**
 * Fields copied as they are. Ghost sets ids, uuids (it ignores a given one), urls, counts and
 * revisions itself.
 */
const COPIED_FIELDS = [
  'title',
  'slug',
  'featured',
  'visibility',
  'published_at',
  'created_at',
  'custom_excerpt',
  'feature_image',
  'feature_image_alt',
  'feature_image_caption',
  'codeinjection_head',
  'codeinjection_foot',
  'custom_template',
  'canonical_url',
  'meta_title',
  'meta_description',
  'og_image',
  'og_title',
  'og_description',
  'twitter_image',
  'twitter_title',
  'twitter_description',
  'email_subject',
] as const;

export interface PostInput {
  data: Record<string, unknown>;
  /** `html` when only HTML was backed up and Ghost has to convert it. */
  source: 'html' | undefined;
  /** What could not be kept as it was. */
  notes: string[];
}

/**
 * The Admin API input that recreates a backed-up post. Content goes in the editor's own format
 * (lexical, else mobiledoc) so nothing is lost to an HTML round trip; tags by slug and name, so
 * missing tags are created; authors by email, which also matches on another site.
 */
export function postInput(post: GhostPost, now: number): PostInput {
  const data: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const field of COPIED_FIELDS) {
    const value = post[field];
    if (value !== undefined && value !== null) data[field] = value;
  }
  let source: 'html' | undefined;
  if (typeof post.lexical === 'string' && post.lexical !== '') data.lexical = post.lexical;
  else if (typeof post.mobiledoc === 'string' && post.mobiledoc !== '') data.mobiledoc = post.mobiledoc;
  else if (typeof post.html === 'string') {
    data.html = post.html;
    source = 'html';
  }
  data.status = post.status;
  if (post.status === 'scheduled' && Date.parse(String(post.published_at)) <= now + 60_000) {
    data.status = 'draft';
    notes.push('was scheduled for a time now past: restored as a draft');
  }
  if (post.status === 'sent') {
    data.status = 'draft';
    notes.push('was an email-only post (sent): restored as a draft, Ghost does not recreate sent emails');
  }
  if (Array.isArray(post.tags)) {
    data.tags = (post.tags as { name?: string; slug?: string }[]).map(({ name, slug }) => ({ name, slug }));
  }
  if (Array.isArray(post.authors)) {
    const authors = (post.authors as { email?: string; id?: string }[])
      .map((author) => (author.email ? { email: author.email } : author.id ? { id: author.id } : undefined))
      .filter((author) => author !== undefined);
    if (authors.length > 0) data.authors = authors;
  }
  // Without its tiers a post with visibility `tiers` would be closed to every member.
  if (Array.isArray(post.tiers) && post.visibility === 'tiers') {
    data.tiers = (post.tiers as { id?: string }[]).flatMap((tier) => (tier.id ? [{ id: tier.id }] : []));
  }
  return { data, source, notes };
}
