import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { InvalidatorMetrics } from './createMetrics.js';
import { RequestRejectedError } from './errors.js';
import type { InvalidationQueue } from './InvalidationQueue.js';
import type { AcceptedEvent } from './JournalRecord.js';
import type { ManualRequest, ManualRequests } from './ManualRequests.js';
import type { SitePaths } from './sitePaths.js';

const MAX_MANUAL_PATHS = 100;

export interface ManualInvalidationOptions {
  /** MANUAL_INVALIDATION_TOKEN; unset turns manual requests off. */
  token: string | undefined;
  site: SitePaths;
  queue: Pick<InvalidationQueue, 'accept' | 'flushNow'>;
  metrics: Pick<InvalidatorMetrics, 'webhooks' | 'pathsPlanned'>;
  now: () => number;
}

/**
 * A manual request: the bearer token, then the paths (viewer paths, as CloudFront takes them);
 * journaled, then its window is cut at once. Counted in `cache_invalidator_webhooks_total` as
 * `event="manual"` (`accepted`, `unauthorized`).
 */
export class ManualInvalidation implements ManualRequests {
  readonly #options: ManualInvalidationOptions;

  constructor(options: ManualInvalidationOptions) {
    this.#options = options;
  }

  async requestManual(request: ManualRequest): Promise<{ id: string; paths: string[] }> {
    const { token, site, queue, metrics } = this.#options;
    if (!token) {
      throw new RequestRejectedError(
        403,
        'manual_disabled',
        'manual invalidation is off; set MANUAL_INVALIDATION_TOKEN to enable it',
      );
    }
    const given = /^Bearer (.+)$/.exec(request.authorization ?? '')?.[1] ?? '';
    if (!sameSecret(given, token)) {
      metrics.webhooks.inc({ event: 'manual', result: 'unauthorized' });
      throw new RequestRejectedError(401, 'unauthorized', 'a valid "Authorization: Bearer <token>" header is required');
    }
    const paths = validateManualPaths(request.body);
    const everything = paths.includes(site.everything) || paths.includes('/*');
    const accepted: AcceptedEvent = {
      id: randomUUID(),
      event: 'manual',
      receivedAt: this.#options.now(),
      plan: { paths, everything, siteChanged: false },
    };
    await queue.accept(accepted);
    metrics.webhooks.inc({ event: 'manual', result: 'accepted' });
    metrics.pathsPlanned.inc(paths.length);
    await queue.flushNow();
    return { id: accepted.id, paths };
  }
}

/** Compares digests of equal length, so neither the time taken nor an early exit tells the token's length or prefix. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function validateManualPaths(body: unknown): string[] {
  const example = 'E.g. {"paths":["/hello-world/","/tag/news/*"]}';
  const paths = (body as { paths?: unknown } | undefined)?.paths;
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > MAX_MANUAL_PATHS) {
    throw new RequestRejectedError(
      400,
      'bad_paths',
      `"paths" must be an array of 1 to ${MAX_MANUAL_PATHS} paths. ${example}`,
    );
  }
  for (const path of paths) {
    if (
      typeof path !== 'string' ||
      !path.startsWith('/') ||
      path.length > 1000 ||
      /[^\x21-\x7e]/.test(path) ||
      path.slice(0, -1).includes('*')
    ) {
      throw new RequestRejectedError(
        400,
        'bad_paths',
        `${JSON.stringify(path)} is not a CloudFront path: it must start with "/", be printable ASCII without spaces (percent-encode the rest), and "*" only at the end. ${example}`,
      );
    }
  }
  return [...new Set(paths as string[])];
}
