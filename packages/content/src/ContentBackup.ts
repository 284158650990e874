import type { ContentResource, GhostPost } from '@ghost-ha/core';

export const BACKUP_FORMAT = 'ghost-ha/content-backup';
export const BACKUP_VERSION = 2;
/** The first format (Admin API posts with tags and authors only); still read by restore-posts. */
export const LEGACY_BACKUP_FORMAT = 'ghost-ha/posts-backup';

/** A table of Ghost's export: rows as Ghost's database holds them. */
export type GhostTableRows = Record<string, unknown>[];

/** Ghost's own export format (`GET /ghost/api/admin/db/`), the shape `POST /db/` imports. */
export interface GhostExport {
  readonly meta: { readonly exported_on: number; readonly version: string };
  readonly data: Record<string, GhostTableRows>;
}

/**
 * Where a backup's content came from.
 * - `ghost-db-export`: Ghost's content export, read with a staff access token: every column of the
 *   posts and their relation rows (tags and authors with their order, tiers, posts_meta, newsletter,
 *   email records, comments), trimmed to the deleted posts, secrets removed.
 * - `admin-api`: posts as the Admin API returns them with every relation it offers (integration key
 *   only); no comments, which the Admin API does not serve.
 */
export type BackupSource = 'ghost-db-export' | 'admin-api';

/** What the bulk delete destroys along with the posts, and restore cannot bring back. */
export interface Unrestorable {
  /** Members' comments on the posts (and their replies); undefined when the source cannot count them. */
  readonly comments: number | undefined;
  /** Newsletter emails sent for the posts (the email records; the emails in inboxes stay). */
  readonly emails: number | undefined;
}

/** What delete-all-posts writes before it deletes, and restore-posts reads. Version 2. */
export interface ContentBackup {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: typeof BACKUP_VERSION;
  /** The site URL the posts came from. */
  readonly site: string;
  readonly createdAt: string;
  /** The NQL filter of the run (shorthands already expanded). */
  readonly filter: string;
  readonly source: BackupSource;
  /** Ghost's version when the backup was taken. */
  readonly ghostVersion: string | undefined;
  /** Ids of the posts and pages this invocation backed up to delete. */
  readonly items: Readonly<Record<ContentResource, readonly string[]>>;
  readonly unrestorable: Unrestorable;
  /** `ghost-db-export` only. */
  readonly ghostExport?: GhostExport;
  /** `admin-api` only: full posts and pages. */
  readonly posts?: readonly GhostPost[];
  readonly pages?: readonly GhostPost[];
}

/** The version 1 format, as earlier releases wrote it. */
export interface LegacyPostsBackup {
  readonly format: typeof LEGACY_BACKUP_FORMAT;
  readonly version: 1;
  readonly site: string;
  readonly createdAt: string;
  readonly filter: string;
  readonly posts: readonly GhostPost[];
  readonly pages: readonly GhostPost[];
}

/** A version 1 backup read as version 2 (Admin API posts; nothing counted as unrestorable). */
export function upgradeLegacyBackup(legacy: LegacyPostsBackup): ContentBackup {
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    site: legacy.site,
    createdAt: legacy.createdAt,
    filter: legacy.filter,
    source: 'admin-api',
    ghostVersion: undefined,
    items: { posts: legacy.posts.map((post) => post.id), pages: (legacy.pages ?? []).map((page) => page.id) },
    unrestorable: { comments: undefined, emails: undefined },
    posts: legacy.posts,
    pages: legacy.pages ?? [],
  };
}
