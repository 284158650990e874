import { type ContentResource, type GhostAdminClient, GhostApiError } from '@ghost-ha/core';

/**
 * Ids per bulk call: the `id:[...]` filter is about 27 URL characters an id, so 200 ids stay under
 * CloudFront's 8,192-character URL limit (the Admin API may be reached through it) and Node's 16 KB
 * header limit. Each call is one transaction; fewer, larger calls are faster.
 */
export const BULK_CHUNK = 200;
/** Stop one-by-one deleting after this many failures: something is wrong beyond single posts. */
const MAX_FAILURES = 10;

export type DeleteMethod = 'bulk' | 'one-by-one';

export interface DeleteOutcome {
  deleted: number;
  method: DeleteMethod;
  /** True when the time limit stopped the run before every id was handled. */
  stoppedForTime: boolean;
  errors: string[];
}

export interface PostDeleterOptions {
  client: GhostAdminClient;
  /** Parallel single deletes when Ghost has no bulk delete. */
  concurrency: number;
}

/**
 * Deletes exactly the given ids. Ghost's bulk delete takes a filter; it is given `id:[...]` of posts
 * already in the backup rather than the operator's filter, so a post created or changed after the
 * backup was written can never be deleted without being in it. Where Ghost has no bulk delete
 * (it answers 404/405/501), posts are deleted one at a time with bounded concurrency.
 */
export class PostDeleter {
  readonly #client: GhostAdminClient;
  readonly #concurrency: number;

  constructor(options: PostDeleterOptions) {
    this.#client = options.client;
    this.#concurrency = options.concurrency;
  }

  /**
   * `filters`, when given, are bulk-delete filters that together match exactly `ids` (see
   * idRangeFilters); otherwise the ids go in lists of BULK_CHUNK.
   */
  async delete(
    resource: ContentResource,
    ids: readonly string[],
    outOfTime: () => boolean,
    filters?: readonly string[],
  ): Promise<DeleteOutcome> {
    const outcome: DeleteOutcome = { deleted: 0, method: 'bulk', stoppedForTime: false, errors: [] };
    const chunks: string[] = [];
    if (filters) chunks.push(...filters);
    else
      for (let start = 0; start < ids.length; start += BULK_CHUNK) {
        chunks.push(`id:[${ids.slice(start, start + BULK_CHUNK).join(',')}]`);
      }
    for (const [index, filter] of chunks.entries()) {
      if (outOfTime()) {
        outcome.stoppedForTime = true;
        return outcome;
      }
      try {
        const result = await this.#client.bulkDelete(resource, filter);
        outcome.deleted += result.successful;
        if (result.unsuccessful > 0) {
          outcome.errors.push(`bulk delete: Ghost could not delete ${result.unsuccessful} ${resource}`);
        }
      } catch (error) {
        if (index === 0 && isMissingEndpoint(error)) {
          return this.#oneByOne(resource, ids, outOfTime);
        }
        outcome.errors.push(`bulk delete stopped: ${error instanceof Error ? error.message : String(error)}`);
        return outcome;
      }
    }
    return outcome;
  }

  async #oneByOne(resource: ContentResource, ids: readonly string[], outOfTime: () => boolean): Promise<DeleteOutcome> {
    const outcome: DeleteOutcome = { deleted: 0, method: 'one-by-one', stoppedForTime: false, errors: [] };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length && outcome.errors.length < MAX_FAILURES) {
        if (outOfTime()) {
          outcome.stoppedForTime = true;
          return;
        }
        const id = ids[next++] as string;
        try {
          await this.#client.delete(resource, id);
          outcome.deleted++;
        } catch (error) {
          // Already gone (deleted by someone else, or by an earlier invocation): that is the goal.
          if (error instanceof GhostApiError && error.status === 404) outcome.deleted++;
          else
            outcome.errors.push(`delete ${resource} ${id}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, ids.length) }, worker));
    return outcome;
  }
}

function isMissingEndpoint(error: unknown): boolean {
  return error instanceof GhostApiError && (error.status === 404 || error.status === 405 || error.status === 501);
}
