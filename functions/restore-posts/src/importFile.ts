import type { GhostExport, GhostTableRows } from '@ghost-ha/content';

/** Relation tables the import reads for a post. */
const POST_RELATIONS = ['posts_meta', 'posts_tags', 'posts_authors', 'posts_products'] as const;

/**
 * The import file that brings back exactly `postIds` from a backup's export: the posts with their
 * uuids, dates and status, posts_meta, tags (matched by slug, created when missing) and the links to
 * authors, tiers and newsletters, which Ghost matches to the site's own by id. Users, tiers and
 * newsletters are not in the file: Ghost would create them (staff accounts, tiers without prices);
 * a post whose author is gone gets the owner, as Ghost's importer does.
 */
export function importFile(backup: GhostExport, postIds: ReadonlySet<string>): GhostExport {
  const rows = (table: string): GhostTableRows => backup.data[table] ?? [];
  const data: Record<string, GhostTableRows> = {
    posts: rows('posts').filter((post) => postIds.has(String(post.id))),
  };
  for (const table of POST_RELATIONS) data[table] = rows(table).filter((row) => postIds.has(String(row.post_id)));
  const tagIds = new Set((data.posts_tags ?? []).map((row) => String(row.tag_id)));
  data.tags = rows('tags').filter((tag) => tagIds.has(String(tag.id)));
  return { meta: backup.meta, data };
}
