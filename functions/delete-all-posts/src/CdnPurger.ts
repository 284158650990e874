import { type CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import type { DeleteMethod } from './PostDeleter.js';

/** How the CDN learns that the deleted posts are gone. */
export interface CdnPurge {
  readonly via: 'cloudfront-invalidation' | 'cache-invalidator' | 'not-needed';
  readonly detail: string;
  readonly invalidationId?: string;
}

/**
 * Ghost's bulk delete fires no `post.deleted` webhooks, only one `site.changed`, and the
 * cache-invalidator answers a lone `site.changed` by purging `/*`. With a distribution id the
 * function purges `/*` itself, so the purge does not depend on that webhook arriving.
 */
export class CdnPurger {
  readonly #cloudfront: CloudFrontClient | undefined;
  readonly #distributionId: string | undefined;

  constructor(options: { cloudfront?: CloudFrontClient; distributionId: string | undefined }) {
    this.#cloudfront = options.cloudfront;
    this.#distributionId = options.distributionId;
  }

  /** Never throws: the posts are already deleted, so a failed purge is reported, not fatal. */
  async purge(deleted: number, method: DeleteMethod, reference: string): Promise<{ purge: CdnPurge; error?: string }> {
    if (deleted === 0) return { purge: { via: 'not-needed', detail: 'nothing was deleted' } };
    const webhookPath =
      method === 'bulk'
        ? "Ghost fired one site.changed webhook; the cache-invalidator purges '/*' on a lone site.changed"
        : "Ghost fired post.deleted for each post; the cache-invalidator purges each post's URLs";
    if (!this.#distributionId || !this.#cloudfront) return { purge: { via: 'cache-invalidator', detail: webhookPath } };
    try {
      const response = await this.#cloudfront.send(
        new CreateInvalidationCommand({
          DistributionId: this.#distributionId,
          InvalidationBatch: {
            Paths: { Quantity: 1, Items: ['/*'] },
            // Same reference on a retried invocation: CloudFront does not purge twice.
            CallerReference: reference.slice(-128),
          },
        }),
      );
      return {
        purge: {
          via: 'cloudfront-invalidation',
          detail: `invalidated '/*' on distribution ${this.#distributionId}`,
          ...(response.Invalidation?.Id ? { invalidationId: response.Invalidation.Id } : {}),
        },
      };
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return {
        purge: { via: 'cache-invalidator', detail: `${webhookPath} (own invalidation failed)` },
        error: `CloudFront invalidation of '/*' on ${this.#distributionId} failed: ${reason}`,
      };
    }
  }
}
