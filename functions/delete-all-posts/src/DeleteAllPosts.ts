import type { GhostSite, GhostSiteConnector, Unrestorable } from '@ghost-ha/content';
import {
  type BackupSource,
  type BackupStore,
  CONTENT_LOG,
  formatLocation,
  requireConfirmation,
} from '@ghost-ha/content';
import type { ContentResource, Logger } from '@ghost-ha/core';
import type { CdnPurge, CdnPurger } from './CdnPurger.js';
import type { DeleteRequest } from './DeleteRequest.js';
import { type DeleteMethod, PostDeleter } from './PostDeleter.js';
import { type PreparedBackup, readAdminApiBackup, readExportBackup } from './readBackup.js';

const SAMPLE_SIZE = 10;
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
  /** `ghost-db-export` with a staff access token (complete), else `admin-api`. */
  backupSource: BackupSource;
  /**
   * What Ghost deletes along with the posts and restore cannot bring back: their comments and email
   * records (undefined: not countable without a staff access token).
   */
  unrestorable: Unrestorable;
  method: DeleteMethod | 'none';
  cdnPurge: CdnPurge;
  /** False when the time limit stopped the run: invoke again with `continuation`. */
  done: boolean;
  continuation?: Record<string, unknown>;
  durationMs: number;
  /** Where the time went, per step (ms): connect+count, backup (read + write), delete, verify, purge. */
  stepsMs: Partial<Record<'count' | 'read' | 'write' | 'delete' | 'verify' | 'purge', number>>;
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
    const location = backups.locationFor(site.name, new Date(startedAt));
    const backupSource: BackupSource = site.db ? 'ghost-db-export' : 'admin-api';
    const readBackup = (): Promise<PreparedBackup> =>
      onGhost(() =>
        site.db
          ? readExportBackup({ ...site, db: site.db }, request, new Date(startedAt))
          : readAdminApiBackup(site, request, new Date(startedAt)),
      );
    const base = {
      dryRun: request.dryRun,
      site: site.name,
      filter: request.filter,
      backupSource,
      method: 'none' as const,
      cdnPurge: { via: 'not-needed', detail: 'nothing was deleted' } as CdnPurge,
      done: true,
      stepsMs,
      errors: [] as string[],
    };

    if (request.dryRun) {
      const byResource: Partial<Record<ContentResource, ResourceCounts>> = {};
      for (const resource of request.resources) {
        const matched = await onGhost(() => site.client.count(resource, request.filter));
        byResource[resource] = { matched, backedUp: 0, deleted: 0, remaining: matched };
      }
      const matched = sum(byResource, 'matched');
      const sample = matched === 0 ? [] : await onGhost(() => this.#sample(site, request, byResource));
      stepDone('count');
      // With a staff token the dry run reads what a real run would back up, to count what restore cannot bring back.
      const unrestorable =
        matched > 0 && site.db
          ? (await readBackup()).backup.unrestorable
          : { comments: site.db ? 0 : undefined, emails: site.db ? 0 : undefined };
      stepDone('read');
      return {
        ...base,
        matched,
        backedUp: 0,
        deleted: 0,
        remaining: matched,
        byResource,
        sample,
        backup: matched === 0 ? undefined : formatLocation(location),
        unrestorable,
        durationMs: this.#now() - startedAt,
        message:
          `Dry run: ${matched} item(s) on ${site.name} match ${request.filter}; a real run backs them up to ` +
          `${formatLocation(location)} first (${backupSource === 'ghost-db-export' ? "complete: Ghost's content export" : 'Admin API posts: no staffAccessToken in the secret'}). ` +
          `${lossSentence(unrestorable)} To delete, invoke with ${JSON.stringify(this.#realRunEvent(request, site.name))}`,
      };
    }

    requireConfirmation(request.confirmSite, site, {
      what: 'A real run',
      consequence: NOTHING_DELETED,
      example: JSON.stringify(this.#realRunEvent(request, site.name)),
    });
    const prepared = await readBackup();
    stepDone('read');
    const byResource: Partial<Record<ContentResource, ResourceCounts>> = {};
    for (const resource of request.resources) {
      const count = prepared.items[resource].length;
      byResource[resource] = { matched: count, backedUp: count, deleted: 0, remaining: count };
    }
    const matched = sum(byResource, 'matched');
    const sample = this.#sampleOf(prepared);
    if (matched === 0) {
      for (const counts of Object.values(byResource)) counts.backedUp = 0;
      return {
        ...base,
        matched: 0,
        backedUp: 0,
        deleted: 0,
        remaining: 0,
        byResource,
        sample,
        backup: undefined,
        unrestorable: prepared.backup.unrestorable,
        durationMs: this.#now() - startedAt,
        message: `Nothing on ${site.name} matches ${request.filter}; nothing was backed up or deleted.`,
      };
    }
    await backups.write(location, prepared.backup).catch((error: unknown) => {
      if (error instanceof Error) error.message = `${error.message}. ${NOTHING_DELETED}`;
      throw error;
    });
    logger.info(
      {
        backup: formatLocation(location),
        source: backupSource,
        posts: prepared.items.posts.length,
        pages: prepared.items.pages.length,
      },
      CONTENT_LOG.backupWritten,
    );
    stepDone('write');

    const errors: string[] = [];
    let method: DeleteMethod = 'bulk';
    let stoppedForTime = false;
    const deleter = new PostDeleter({ client: site.client, concurrency: this.#options.fallbackConcurrency });
    for (const resource of request.resources) {
      const ids = prepared.items[resource];
      if (ids.length === 0) continue;
      // The operator's filter too: a post that stopped matching since the backup is not deleted.
      const filters = prepared.deleteFilters?.[resource].map((filter) => `(${request.filter})+(${filter})`);
      const outcome = await deleter.delete(resource, ids, outOfTime, filters);
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
      matched,
      byResource,
      sample,
      unrestorable: prepared.backup.unrestorable,
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

  /** Up to ten of the backed-up items, for the result (read from the backup, no extra request). */
  #sampleOf(prepared: PreparedBackup): DeleteAllPostsResult['sample'] {
    const rows = prepared.backup.ghostExport?.data.posts ?? [
      ...(prepared.backup.posts ?? []),
      ...(prepared.backup.pages ?? []),
    ];
    return rows
      .slice(0, SAMPLE_SIZE)
      .map((row) => ({ title: String(row.title), slug: String(row.slug), status: String(row.status) }));
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

  #summary(name: string, deleted: number, remaining: number, stoppedForTime: boolean, backup: string): string {
    const head = `Deleted ${deleted} item(s) on ${name}; backup at ${backup}.`;
    if (stoppedForTime)
      return `${head} Stopped before the time limit with ${remaining} left: invoke again with "continuation".`;
    if (remaining > 0)
      return `${head} ${remaining} still match the filter (created or changed during the run, or failed): invoke again.`;
    return `${head} Nothing matching is left.`;
  }
}

function lossSentence(unrestorable: Unrestorable): string {
  if (unrestorable.comments === undefined) {
    return (
      `Ghost deletes the posts' comments${unrestorable.emails ? ` and ${unrestorable.emails} email record(s)` : ' and email records'} ` +
      'with them, which restore cannot bring back (add staffAccessToken to the secret to count the comments).'
    );
  }
  if (unrestorable.comments === 0 && unrestorable.emails === 0) return 'No comments or email records go with them.';
  return (
    `This also deletes ${unrestorable.comments} comment(s) and ${unrestorable.emails} email record(s), which ` +
    'restore cannot bring back.'
  );
}

function sum(byResource: Partial<Record<ContentResource, ResourceCounts>>, field: keyof ResourceCounts): number {
  return Object.values(byResource).reduce((total, counts) => total + (counts?.[field] ?? 0), 0);
}
