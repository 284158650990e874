import {
  type BackupStore,
  formatLocation,
  type GhostSiteConnector,
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
import { postInput } from './postInput.js';
import type { RestoreRequest } from './RestoreRequest.js';

/** Slugs/uuids per existence query: keeps the NQL filter short. */
const LOOKUP_CHUNK = 50;
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
  /** Per post, what could not be kept as it was (e.g. a past schedule). */
  notes: string[];
  errors: string[];
  durationMs: number;
  message: string;
}

export interface RestorePostsOptions {
  connector: GhostSiteConnector;
  backups: BackupStore;
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

  async run(request: RestoreRequest, outOfTime: () => boolean): Promise<RestorePostsResult> {
    const startedAt = this.#now();
    const { connector, backups, logger } = this.#options;
    const backup = await backups.read(request.backup);
    const site = await connector.connect();
    if (!request.dryRun) {
      requireConfirmation(request.confirmSite, site, {
        what: 'A real restore',
        consequence: NOTHING_RESTORED,
        example: JSON.stringify({ backup: formatLocation(request.backup), dryRun: false, confirmSite: site.name }),
      });
    }

    const result: RestorePostsResult = {
      dryRun: request.dryRun,
      site: site.name,
      backup: formatLocation(request.backup),
      backupSite: siteName(backup.site),
      inBackup: backup.posts.length + backup.pages.length,
      restored: 0,
      skipped: 0,
      failed: 0,
      done: true,
      notes: [],
      errors: [],
      durationMs: 0,
      message: '',
    };
    const batches: [ContentResource, readonly GhostPost[]][] = [
      ['posts', backup.posts],
      ['pages', backup.pages],
    ];
    for (const [resource, items] of batches) {
      if (items.length === 0) continue;
      let present: Set<string>;
      try {
        present = await existingKeys(site.client, resource, items);
      } catch (error) {
        throw connector.explain(error, site, NOTHING_RESTORED);
      }
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
    result.durationMs = this.#now() - startedAt;
    result.message = summary(result);
    logger.info({ ...result, notes: result.notes.length }, 'restore finished');
    return result;
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

/** `slug:<slug>` and `uuid:<uuid>` of every item in `items` that the site already has. */
async function existingKeys(
  client: GhostAdminClient,
  resource: ContentResource,
  items: readonly GhostPost[],
): Promise<Set<string>> {
  const keys = new Set<string>();
  for (let start = 0; start < items.length; start += LOOKUP_CHUNK) {
    const chunk = items.slice(start, start + LOOKUP_CHUNK);
    const slugs = chunk.map((item) => quote(item.slug));
    const uuids = chunk.flatMap((item) => (item.uuid ? [quote(item.uuid)] : []));
    const filter = [`slug:[${slugs.join(',')}]`, ...(uuids.length > 0 ? [`uuid:[${uuids.join(',')}]`] : [])].join(',');
    for await (const page of client.browseAll(resource, { filter, fields: 'id,slug,uuid' })) {
      for (const found of page) {
        keys.add(`slug:${found.slug}`);
        if (found.uuid) keys.add(`uuid:${found.uuid}`);
      }
    }
  }
  return keys;
}

/** NQL string literal: single quotes, with quotes and backslashes escaped. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function isValidationError(error: unknown): boolean {
  return error instanceof GhostApiError && (error.status === 422 || error.ghostType === 'ValidationError');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function summary(result: RestorePostsResult): string {
  const verb = result.dryRun ? 'Dry run: would restore' : 'Restored';
  const head = `${verb} ${result.restored} of ${result.inBackup} item(s) from ${result.backup} into ${result.site}; ${result.skipped} already present`;
  const failed = result.failed > 0 ? `; ${result.failed} failed (see errors)` : '';
  const more = result.done ? '' : '. Stopped before the time limit: invoke again with the same event';
  return `${head}${failed}${more}.`;
}
