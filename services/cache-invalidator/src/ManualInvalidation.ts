import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { InvalidatorMetrics } from './createMetrics.js';
import { RequestRejectedError } from './errors.js';
import type { InvalidationQueue } from './InvalidationQueue.js';
import type { AcceptedEvent } from './JournalRecord.js';
import type { ManualRequest, ManualRequests, ManualResult } from './ManualRequests.js';
import type { SitePaths } from './sitePaths.js';

const MAX_MANUAL_PATHS = 100;

export interface ManualInvalidationOptions {
  /** MANUAL_INVALIDATION_TOKEN; unset turns manual requests off. */
  token: string | undefined;
  site: SitePaths;
  queue: Pick<InvalidationQueue, 'accept' | 'flushNow' | 'release'>;
  metrics: Pick<InvalidatorMetrics, 'webhooks' | 'pathsPlanned'>;
  now: () => number;
}

/**
 * A manual request: the bearer token, then the paths (viewer paths, as CloudFront takes them);
 * journaled, then its window is cut at once. Or, with `release` instead of `paths`, quarantined
 * entries (ids from `/health`, or `"all"`) sent again once, to the distribution that refused them.
 * Counted in `cache_invalidator_webhooks_total` as `event="manual"` (`accepted`, `released`,
 * `unauthorized`).
 */
export class ManualInvalidation implements ManualRequests {
  readonly #options: ManualInvalidationOptions;

  constructor(options: ManualInvalidationOptions) {
    this.#options = options;
  }

  async requestManual(request: ManualRequest): Promise<ManualResult> {
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
    const release = (request.body as { release?: unknown } | undefined)?.release;
    if (release !== undefined) return this.#release(release);
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

  async #release(release: unknown): Promise<ManualResult> {
    const ids = validateRelease(release);
    const released = await this.#options.queue.release(ids);
    if (released.length === 0) {
      throw new RequestRejectedError(
        404,
        'not_quarantined',
        'nothing to release: no quarantined entry has these ids (see the invalidations:quarantined check in /health)',
      );
    }
    this.#options.metrics.webhooks.inc({ event: 'manual', result: 'released' });
    return {
      id: released.map((entry) => entry.id).join(','),
      paths: released.flatMap((entry) => entry.paths),
      released: released.map((entry) => entry.id),
    };
  }
}

/** `"all"`, or 1 to 100 quarantine ids (`q-` and hex, as `/health` names them). */
function validateRelease(release: unknown): 'all' | string[] {
  if (release === 'all') return 'all';
  if (
    !Array.isArray(release) ||
    release.length === 0 ||
    release.length > MAX_MANUAL_PATHS ||
    !release.every((id) => typeof id === 'string' && /^q-[0-9a-f]{20}$/.test(id))
  ) {
    throw new RequestRejectedError(
      400,
      'bad_release',
      `"release" must be "all" or an array of 1 to ${MAX_MANUAL_PATHS} quarantine ids as /health names them. E.g. {"release":["q-0123456789abcdef0123"]}`,
    );
  }
  return [...new Set(release as string[])];
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
