import type { GhostSite, GhostSiteConnector } from '@ghost-ha/content';
import {
  type BackupStore,
  fetchAllPages,
  formatLocation,
  type PostsBackup,
  requireConfirmation,
} from '@ghost-ha/content';
import type { ContentResource, GhostPost, Logger } from '@ghost-ha/core';
import type { CdnPurge, CdnPurger } from './CdnPurger.js';
import type { DeleteRequest } from './DeleteRequest.js';
import { type DeleteMethod, PostDeleter } from './PostDeleter.js';

/** Everything Ghost gives about a post, so that restore-posts can rebuild it. */
export const BACKUP_BROWSE = { formats: 'mobiledoc,lexical,html', include: 'tags,authors' } as const;
const SAMPLE_SIZE = 10;
/** Backup pages read at once. */
const BACKUP_READ_CONCURRENCY = 3;
const NOTHING_DELETED = 'Nothing was deleted.';

export interface ResourceCounts {
  matched: number;
  backedUp: number;
  deleted: number;
  remaining: number;
}

export interface DeleteAllPostsResult {
  dryRun: boolean;
  site: string;
  filter: string;
  /** Posts (and pages, when included) matching the filter when the run started. */
  matched: number;
  backedUp: number;
  deleted: number;
  /** Still matching the filter after the run (0 when it completed). */
  remaining: number;
  byResource: Partial<Record<ContentResource, ResourceCounts>>;
  /** Up to 10 matching posts, so the operator can see what the filter hits. */
  sample: { title: string; slug: string; status: string }[];
  /** Where the backup was written (or, in a dry run, would be). Undefined when nothing matched. */
  backup: string | undefined;
  method: DeleteMethod | 'none';
  cdnPurge: CdnPurge;
  /** False when the time limit stopped the run: invoke again with `continuation`. */
  done: boolean;
  continuation?: Record<string, unknown>;
  durationMs: number;
  /** Where the time went, per step (ms): connect+count, backup (read + write), delete, verify, purge. */
  stepsMs: Partial<Record<'count' | 'backup' | 'delete' | 'verify' | 'purge', number>>;
  errors: string[];
  message: string;
}

export interface DeleteAllPostsOptions {
  connector: GhostSiteConnector;
  backups: BackupStore;
  purger: CdnPurger;
  fallbackConcurrency: number;
  logger: Logger;
  now?: () => number;
}

/**
 * One invocation: count what matches, and in a real run back every matching post up to S3, delete
 * exactly the backed-up ones, check what still matches and make sure the CDN forgets them. Any
 * failure before the delete step throws with nothing deleted.
 */
export class DeleteAllPosts {
  readonly #options: DeleteAllPostsOptions;
  readonly #now: () => number;

  constructor(options: DeleteAllPostsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async run(request: DeleteRequest, outOfTime: () => boolean): Promise<DeleteAllPostsResult> {
    const startedAt = this.#now();
    const stepsMs: DeleteAllPostsResult['stepsMs'] = {};
    let stepStart = startedAt;
    const stepDone = (step: keyof DeleteAllPostsResult['stepsMs']): void => {
      const now = this.#now();
      stepsMs[step] = now - stepStart;
      stepStart = now;
    };
    const { connector, backups, logger } = this.#options;
    const site = await connector.connect();
    const onGhost = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        throw connector.explain(error, site, NOTHING_DELETED, request.filter);
      }
    };

    const byResource: Partial<Record<ContentResource, ResourceCounts>> = {};
    for (const resource of request.resources) {
      const matched = await onGhost(() => site.client.count(resource, request.filter));
      byResource[resource] = { matched, backedUp: 0, deleted: 0, remaining: matched };
    }
    const matched = sum(byResource, 'matched');
    const sample = matched === 0 ? [] : await onGhost(() => this.#sample(site, request, byResource));
    const location = backups.locationFor(site.name, new Date(startedAt));
    stepDone('count');
    const base = {
      dryRun: request.dryRun,
      site: site.name,
      filter: request.filter,
      matched,
      byResource,
      sample,
      method: 'none' as const,
      cdnPurge: { via: 'not-needed', detail: 'nothing was deleted' } as CdnPurge,
      done: true,
      stepsMs,
      errors: [] as string[],
    };

    if (request.dryRun) {
      return {
        ...base,
        backedUp: 0,
        deleted: 0,
        remaining: matched,
        backup: matched === 0 ? undefined : formatLocation(location),
        durationMs: this.#now() - startedAt,
        message:
          `Dry run: ${matched} item(s) on ${site.name} match ${request.filter}; a real run backs them up to ` +
          `${formatLocation(location)} first. To delete, invoke with ` +
          JSON.stringify(this.#realRunEvent(request, site.name)),
      };
    }

    requireConfirmation(request.confirmSite, site, {
      what: 'A real run',
      consequence: NOTHING_DELETED,
      example: JSON.stringify(this.#realRunEvent(request, site.name)),
    });
    if (matched === 0) {
      return {
        ...base,
        backedUp: 0,
        deleted: 0,
        remaining: 0,
        backup: undefined,
        durationMs: this.#now() - startedAt,
        message: `Nothing on ${site.name} matches ${request.filter}; nothing was backed up or deleted.`,
      };
    }

    const items: Record<ContentResource, GhostPost[]> = { posts: [], pages: [] };
    for (const resource of request.resources) {
      items[resource] = await onGhost(() => this.#fetchAll(site, resource, request.filter));
      (byResource[resource] as ResourceCounts).backedUp = items[resource].length;
    }
    const backup: PostsBackup = {
      format: 'ghost-ha/posts-backup',
      version: 1,
      site: site.url,
      createdAt: new Date(startedAt).toISOString(),
      filter: request.filter,
      posts: items.posts,
      pages: items.pages,
    };
    await backups.write(location, backup).catch((error: unknown) => {
      if (error instanceof Error) error.message = `${error.message}. ${NOTHING_DELETED}`;
      throw error;
    });
    logger.info(
      { backup: formatLocation(location), posts: items.posts.length, pages: items.pages.length },
      'backup written',
    );
    stepDone('backup');

    const errors: string[] = [];
    let method: DeleteMethod = 'bulk';
    let stoppedForTime = false;
    const deleter = new PostDeleter({ client: site.client, concurrency: this.#options.fallbackConcurrency });
    for (const resource of request.resources) {
      const ids = items[resource].map((item) => item.id);
      const outcome = await deleter.delete(resource, ids, outOfTime);
      (byResource[resource] as ResourceCounts).deleted = outcome.deleted;
      method = outcome.method;
      errors.push(...outcome.errors);
      if (outcome.stoppedForTime) {
        stoppedForTime = true;
        break;
      }
    }
    stepDone('delete');
    for (const resource of request.resources) {
      const counts = byResource[resource] as ResourceCounts;
      try {
        counts.remaining = await site.client.count(resource, request.filter);
      } catch (error) {
        errors.push(`verifying ${resource}: ${connector.explain(error, site, '').message.trim()}`);
        counts.remaining = counts.matched - counts.deleted;
      }
    }
    stepDone('verify');
    const deleted = sum(byResource, 'deleted');
    const remaining = sum(byResource, 'remaining');
    const { purge, error: purgeError } = await this.#options.purger.purge(deleted, method, location.key);
    if (purgeError) errors.push(purgeError);
    stepDone('purge');

    const continuation =
      stoppedForTime || (remaining > 0 && deleted > 0) ? this.#realRunEvent(request, site.name) : undefined;
    return {
      ...base,
      backedUp: sum(byResource, 'backedUp'),
      deleted,
      remaining,
      backup: formatLocation(location),
      method,
      cdnPurge: purge,
      done: continuation === undefined,
      ...(continuation ? { continuation } : {}),
      durationMs: this.#now() - startedAt,
      errors,
      message: this.#summary(site.name, deleted, remaining, stoppedForTime, formatLocation(location)),
    };
  }

  #realRunEvent(request: DeleteRequest, name: string): Record<string, unknown> {
    return {
      dryRun: false,
      confirmSite: name,
      filter: request.filter,
      ...(request.resources.includes('pages') ? { includePages: true } : {}),
    };
  }

  async #sample(
    site: GhostSite,
    request: DeleteRequest,
    byResource: Partial<Record<ContentResource, ResourceCounts>>,
  ): Promise<DeleteAllPostsResult['sample']> {
    // From posts, or from pages when only pages match.
    const resource = request.resources.find((candidate) => (byResource[candidate]?.matched ?? 0) > 0) ?? 'posts';
    const { items } = await site.client.browse(resource, {
      filter: request.filter,
      limit: SAMPLE_SIZE,
      fields: 'title,slug,status',
    });
    return items.map(({ title, slug, status }) => ({ title, slug, status }));
  }

  async #fetchAll(site: GhostSite, resource: ContentResource, filter: string): Promise<GhostPost[]> {
    // Oldest first: posts added meanwhile land on later pages and do not shift the earlier ones.
    return fetchAllPages(site.client, resource, { filter, ...BACKUP_BROWSE, order: 'id asc' }, BACKUP_READ_CONCURRENCY);
  }

  #summary(name: string, deleted: number, remaining: number, stoppedForTime: boolean, backup: string): string {
    const head = `Deleted ${deleted} item(s) on ${name}; backup at ${backup}.`;
    if (stoppedForTime)
      return `${head} Stopped before the time limit with ${remaining} left: invoke again with "continuation".`;
    if (remaining > 0)
      return `${head} ${remaining} still match the filter (created or changed during the run, or failed): invoke again.`;
    return `${head} Nothing matching is left.`;
  }
}

function sum(byResource: Partial<Record<ContentResource, ResourceCounts>>, field: keyof ResourceCounts): number {
  return Object.values(byResource).reduce((total, counts) => total + (counts?.[field] ?? 0), 0);
}
