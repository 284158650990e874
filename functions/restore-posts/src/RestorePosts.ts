import {
  BackupRefusedError,
  type BackupStore,
  CONTENT_LOG,
  type ContentBackup,
  formatLocation,
  type GhostExport,
  type GhostSite,
  type GhostSiteConnector,
  GhostUnavailableError,
  type RestoreLease,
  requireConfirmation,
  siteName,
} from '@ghost-ha/content';
import {
  type ContentResource,
  type GhostAdminClient,
  GhostApiError,
  type GhostPost,
  type Logger,
} from '@ghost-ha/core';
import { existingKeys } from './existingKeys.js';
import { postInput } from './postInput.js';
import type { RestoreRequest } from './RestoreRequest.js';
import { restoreByImport } from './restoreByImport.js';

const NOTHING_RESTORED = 'Nothing was restored.';

export interface RestorePostsResult {
  dryRun: boolean;
  site: string;
  backup: string;
  /** The site the backup was taken from (restoring into another site is allowed). */
  backupSite: string;
  inBackup: number;
  /** Created in this run (in a dry run: would be created). */
  restored: number;
  /** Already present, matched by slug or uuid. */
  skipped: number;
  failed: number;
  /** False when the time limit stopped the run: invoke again with the same event. */
  done: boolean;
  /** `ghost-import` (Ghost's own import, staff access token) or `admin-api` (one post at a time). */
  method: 'ghost-import' | 'admin-api';
  /** What the delete took and no restore brings back (comments, email records), counted in the backup. */
  cannotRestore: string[];
  /** Per post, what could not be kept as it was (e.g. a past schedule). */
  notes: string[];
  errors: string[];
  durationMs: number;
  message: string;
}

export interface RestorePostsOptions {
  connector: GhostSiteConnector;
  backups: BackupStore;
  lease: RestoreLease;
  logger: Logger;
  now?: () => number;
}

/**
 * Recreates the posts of a delete-all-posts backup that the site does not have. A post counts as
 * present when its slug or uuid is found, so running the same restore twice creates nothing twice.
 */
export class RestorePosts {
  readonly #options: RestorePostsOptions;
  readonly #now: () => number;

  constructor(options: RestorePostsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** `holder` names this invocation in the restore lease (e.g. the Lambda request id). */
  async run(request: RestoreRequest, outOfTime: () => boolean, holder: string): Promise<RestorePostsResult> {
    const startedAt = this.#now();
    const { connector, backups, lease, logger } = this.#options;
    const site = await connector.connect();
    const fromSite = request.backupFromSite ?? site.name;
    backups.requireSiteBackup(
      request.backup,
      fromSite,
      request.backupFromSite
        ? NOTHING_RESTORED
        : `To restore another site's backup into ${site.name}, name that site in the event, e.g. ` +
            `"backupFromSite": "${otherSiteIn(request.backup.key) ?? 'old.example.com'}". ${NOTHING_RESTORED}`,
    );
    const backup = await backups.read(request.backup, { acceptUnsigned: request.acceptUnsignedBackup });
    // The signed content says which site it came from: it must be the one the key says.
    if (siteName(backup.site) !== fromSite) {
      throw new BackupRefusedError(
        `${formatLocation(request.backup)} holds a backup of ${siteName(backup.site)}, not of ${fromSite} as its key ` +
          `says. ${NOTHING_RESTORED}`,
        formatLocation(request.backup),
      );
    }
    if (!request.dryRun) {
      requireConfirmation(request.confirmSite, site, {
        what: 'A real restore',
        consequence: NOTHING_RESTORED,
        example: JSON.stringify({ backup: formatLocation(request.backup), dryRun: false, confirmSite: site.name }),
      });
    }
    const viaImport = backup.source === 'ghost-db-export' && backup.ghostExport !== undefined;
    if (viaImport && !site.db) {
      throw new GhostUnavailableError(
        `${formatLocation(request.backup)} is Ghost's content export; putting it back faithfully (uuids, dates, ` +
          `sent posts, tiers) needs Ghost's import, which only a staff access token may use: add 'staffAccessToken' ` +
          `(the Owner's or an Administrator's own token) to secret '${connector.secretId}'. ${NOTHING_RESTORED}`,
      );
    }
    const result: RestorePostsResult = {
      dryRun: request.dryRun,
      site: site.name,
      backup: formatLocation(request.backup),
      backupSite: siteName(backup.site),
      method: viaImport ? 'ghost-import' : 'admin-api',
      inBackup: backup.items.posts.length + backup.items.pages.length,
      restored: 0,
      skipped: 0,
      failed: 0,
      done: true,
      cannotRestore: cannotRestore(backup),
      notes: [],
      errors: [],
      durationMs: 0,
      message: '',
    };
    // One restore of a backup at a time: a second one (or a retried invocation) would find the posts
    // of the first not there yet and create them again.
    const release = request.dryRun ? async () => {} : await lease.acquire(request.backup, holder);
    try {
      if (viaImport)
        await this.#viaImport(site, backup as ContentBackup & { ghostExport: GhostExport }, request, outOfTime, result);
      else await this.#viaAdminApi(site, backup, request, outOfTime, result);
    } catch (error) {
      throw connector.explain(error, site, result.restored > 0 ? '' : NOTHING_RESTORED);
    } finally {
      // An import Ghost is still running keeps the lease until it expires: a retry now would import twice.
      if (result.done || result.method === 'admin-api') await release();
    }
    result.durationMs = this.#now() - startedAt;
    result.message = summary(result);
    logger.info({ ...result, notes: result.notes.length }, CONTENT_LOG.restoreFinished);
    return result;
  }

  async #viaImport(
    site: GhostSite,
    backup: ContentBackup & { ghostExport: GhostExport },
    request: RestoreRequest,
    outOfTime: () => boolean,
    result: RestorePostsResult,
  ): Promise<void> {
    if (!site.db) return;
    const outcome = await restoreByImport({
      site: { ...site, db: site.db },
      backup,
      dryRun: request.dryRun,
      outOfTime,
      now: this.#now,
    });
    result.skipped = outcome.present;
    result.restored = request.dryRun ? outcome.missing : outcome.restored;
    result.failed = request.dryRun || !outcome.finished ? 0 : outcome.missing - outcome.restored;
    result.done = outcome.finished;
    result.notes.push(...outcome.notes);
    result.errors.push(...outcome.errors);
    if (!request.dryRun && outcome.finished && result.failed > 0) {
      result.errors.push(
        `Ghost's import brought back ${outcome.restored} of ${outcome.missing}: Ghost emails the staff user a report of what it refused`,
      );
    }
  }

  async #viaAdminApi(
    site: GhostSite,
    backup: ContentBackup,
    request: RestoreRequest,
    outOfTime: () => boolean,
    result: RestorePostsResult,
  ): Promise<void> {
    const batches: [ContentResource, readonly GhostPost[]][] = [
      ['posts', backup.posts ?? []],
      ['pages', backup.pages ?? []],
    ];
    for (const [resource, items] of batches) {
      if (items.length === 0) continue;
      const present = await existingKeys(site.client, resource, items);
      for (const item of items) {
        if (present.has(`slug:${item.slug}`) || (item.uuid && present.has(`uuid:${item.uuid}`))) {
          result.skipped++;
          continue;
        }
        if (request.dryRun) {
          result.restored++;
          continue;
        }
        if (outOfTime()) {
          result.done = false;
          break;
        }
        const created = await this.#create(site.client, resource, item, result);
        if (created) result.restored++;
        else result.failed++;
      }
      if (!result.done) break;
    }
  }

  async #create(
    client: GhostAdminClient,
    resource: ContentResource,
    item: GhostPost,
    result: RestorePostsResult,
  ): Promise<boolean> {
    const { data, source, notes } = postInput(item, this.#now());
    const options = source ? { source } : undefined;
    try {
      await client.add(resource, data, options);
    } catch (error) {
      // An author who no longer exists (or belongs to another site) should not block the post:
      // Ghost then makes the integration's default author the author.
      if (!(data.authors && isValidationError(error))) {
        result.errors.push(`${resource} '${item.slug}': ${messageOf(error)}`);
        return false;
      }
      const { authors: _authors, ...withoutAuthors } = data;
      try {
        await client.add(resource, withoutAuthors, options);
        notes.push(`authors could not be kept (${messageOf(error)}): Ghost's default author set instead`);
      } catch (retryError) {
        result.errors.push(`${resource} '${item.slug}': ${messageOf(retryError)}`);
        return false;
      }
    }
    result.notes.push(...notes.map((note) => `${resource} '${item.slug}': ${note}`));
    return true;
  }
}

/** The site a key under `<prefix><site>/` names, for the error's example (the last folder of the key). */
function otherSiteIn(key: string): string | undefined {
  return key.split('/').at(-2);
}

function isValidationError(error: unknown): boolean {
  return error instanceof GhostApiError && (error.status === 422 || error.ghostType === 'ValidationError');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The backup's own count of what the delete took for good. */
function cannotRestore(backup: ContentBackup): string[] {
  const { comments, emails } = backup.unrestorable;
  const lost: string[] = [];
  if (comments === undefined)
    lost.push("the posts' comments (not counted: the backup was read without a staff access token)");
  else if (comments > 0) lost.push(`${comments} comment(s): Ghost's import has no comments`);
  if (emails !== undefined && emails > 0)
    lost.push(`${emails} email record(s) (sent newsletters' stats): Ghost's import has no emails`);
  return lost;
}

function summary(result: RestorePostsResult): string {
  const verb = result.dryRun ? 'Dry run: would restore' : 'Restored';
  const head = `${verb} ${result.restored} of ${result.inBackup} item(s) from ${result.backup} into ${result.site}; ${result.skipped} already present`;
  const failed = result.failed > 0 ? `; ${result.failed} failed (see errors)` : '';
  const more = result.done
    ? ''
    : result.method === 'ghost-import'
      ? '. Ghost is still importing; invoke again with the same event once it has finished (the lease holds until then)'
      : '. Stopped before the time limit: invoke again with the same event';
  return `${head}${failed}${more}.`;
}
