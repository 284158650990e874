import type { ContentResource } from '@ghost-ha/core';
import { InvalidEventError } from './errors.js';

/** Every post, whatever its status (Ghost would delete everything without a filter; we always send one). */
export const DEFAULT_FILTER = 'status:[published,draft,scheduled,sent]';

/** What one invocation was asked to do, after checking the event. */
export interface DeleteRequest {
  /** True unless the event says `"dryRun": false`. */
  readonly dryRun: boolean;
  /** The site the operator means, as given; checked against the site in the secret before a real run. */
  readonly confirmSite: string | undefined;
  /** NQL filter applied to posts (and pages, when included). */
  readonly filter: string;
  readonly resources: readonly ContentResource[];
}

const KNOWN_KEYS = ['dryRun', 'confirmSite', 'filter', 'includePages'] as const;
const EXAMPLE = 'E.g. {"dryRun": false, "confirmSite": "blog.example.com", "filter": "tag:old-news"}';

/** Checks the invocation event; unknown keys are rejected so that a typo cannot change what runs. */
export function parseDeleteRequest(event: unknown): DeleteRequest {
  const body = event ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidEventError(`the event must be a JSON object. ${EXAMPLE}`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !(KNOWN_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new InvalidEventError(
      `unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')}; allowed: ${KNOWN_KEYS.join(', ')}. ${EXAMPLE}`,
    );
  }
  const { dryRun = true, confirmSite, filter = DEFAULT_FILTER, includePages = false } = fields;
  if (typeof dryRun !== 'boolean') throw new InvalidEventError(`'dryRun' must be true or false. ${EXAMPLE}`);
  if (confirmSite !== undefined && (typeof confirmSite !== 'string' || confirmSite.trim() === '')) {
    throw new InvalidEventError(`'confirmSite' must be the site's host, e.g. "blog.example.com". ${EXAMPLE}`);
  }
  if (typeof filter !== 'string' || filter.trim() === '') {
    throw new InvalidEventError(
      `'filter' must be a non-empty NQL filter, e.g. "tag:old-news"; leave it out for every post (${DEFAULT_FILTER}).`,
    );
  }
  if (typeof includePages !== 'boolean') throw new InvalidEventError(`'includePages' must be true or false.`);
  return {
    dryRun,
    confirmSite: confirmSite === undefined ? undefined : (confirmSite as string).trim(),
    filter: filter.trim(),
    resources: includePages ? ['posts', 'pages'] : ['posts'],
  };
}
