import { confirmSiteField, dryRunField, eventFields, InvalidEventError, nqlShorthands } from '@ghost-ha/content';
import type { ContentResource } from '@ghost-ha/core';

/** Every post, whatever its status (Ghost would delete everything without a filter; we always send one). */
export const DEFAULT_FILTER = 'status:[published,draft,scheduled,sent]';

/** What one invocation was asked to do, after checking the event. */
export interface DeleteRequest {
  /** True unless the event says `"dryRun": false`. */
  readonly dryRun: boolean;
  /** The site the operator means, as given; checked against the site in the secret before a real run. */
  readonly confirmSite: string | undefined;
  /** NQL filter applied to posts (and pages, when included); `tag`/`author` shorthands already turned into NQL. */
  readonly filter: string;
  readonly resources: readonly ContentResource[];
}

const KNOWN_KEYS = ['dryRun', 'confirmSite', 'filter', 'tag', 'author', 'includePages'];
const EXAMPLE = 'E.g. {"dryRun": false, "confirmSite": "blog.example.com", "filter": "tag:old-news"}';

export function parseDeleteRequest(event: unknown): DeleteRequest {
  const { dryRun, confirmSite, filter, tag, author, includePages = false } = eventFields(event, KNOWN_KEYS, EXAMPLE);
  if (filter !== undefined && (typeof filter !== 'string' || filter.trim() === '')) {
    throw new InvalidEventError(
      `'filter' must be a non-empty NQL filter, e.g. "tag:old-news"; leave it out for every post (${DEFAULT_FILTER}).`,
    );
  }
  if (typeof includePages !== 'boolean') throw new InvalidEventError(`'includePages' must be true or false.`);
  return {
    dryRun: dryRunField(dryRun, EXAMPLE),
    confirmSite: confirmSiteField(confirmSite, EXAMPLE),
    filter: nqlShorthands({ filter: filter?.trim(), tag, author }) ?? DEFAULT_FILTER,
    resources: includePages ? ['posts', 'pages'] : ['posts'],
  };
}
