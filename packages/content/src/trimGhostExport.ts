import type { GhostExport, GhostTableRows, Unrestorable } from './ContentBackup.js';

/**
 * The only user columns a backup keeps: enough to name and match an author. Everything else a user
 * row holds (the password hash above all) never reaches the backup.
 */
const USER_COLUMNS = ['id', 'name', 'slug', 'email', 'profile_image', 'bio', 'website'] as const;
/** Relation tables keyed by post. */
const POST_ROWS = ['posts_meta', 'posts_tags', 'posts_authors', 'posts_products', 'emails', 'comments'] as const;

/**
 * Ghost's export cut down to the given posts: their rows, their relation rows (tags and authors
 * with `sort_order`, tiers, posts_meta, email records, comments) and the tags, tiers, newsletters
 * and authors they point to. Every other table — settings with the site's secrets, roles, API keys,
 * members, offers, snippets — is left out by construction (an allow-list, not a block-list), and user
 * rows keep only public columns, so neither secrets nor password hashes are ever stored.
 */
export function trimGhostExport(exported: GhostExport, postIds: ReadonlySet<string>): GhostExport {
  const data = exported.data;
  const rows = (table: string): GhostTableRows => data[table] ?? [];
  const posts = rows('posts').filter((post) => postIds.has(String(post.id)));
  const trimmed: Record<string, GhostTableRows> = { posts };
  for (const table of POST_ROWS) {
    trimmed[table] = rows(table).filter((row) => postIds.has(String(row.post_id)));
  }
  const referenced = (table: string, column: string): Set<string> =>
    new Set((trimmed[table] ?? []).map((row) => String(row[column])));
  const tagIds = referenced('posts_tags', 'tag_id');
  const userIds = referenced('posts_authors', 'author_id');
  const productIds = referenced('posts_products', 'product_id');
  const newsletterIds = new Set(posts.map((post) => String(post.newsletter_id)));
  trimmed.tags = rows('tags').filter((tag) => tagIds.has(String(tag.id)));
  trimmed.products = rows('products').filter((product) => productIds.has(String(product.id)));
  trimmed.newsletters = rows('newsletters').filter((newsletter) => newsletterIds.has(String(newsletter.id)));
  trimmed.users = rows('users')
    .filter((user) => userIds.has(String(user.id)))
    .map((user) => Object.fromEntries(USER_COLUMNS.map((column) => [column, user[column] ?? null])));
  return { meta: { exported_on: exported.meta.exported_on, version: exported.meta.version }, data: trimmed };
}

/** Comments and email records of the trimmed posts: the bulk delete takes them, and no import brings them back. */
export function unrestorableIn(trimmed: GhostExport): Unrestorable {
  return { comments: trimmed.data.comments?.length ?? 0, emails: trimmed.data.emails?.length ?? 0 };
}
