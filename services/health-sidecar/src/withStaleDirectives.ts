import type { OutgoingHttpHeaders } from 'node:http';

export interface StaleSettings {
  /** How long CloudFront may serve a cached copy while the origin errs; 0: not added. */
  readonly ifErrorSeconds: number;
  /** How long CloudFront may serve a cached copy while it fetches a fresh one; 0: not added. */
  readonly whileRevalidateSeconds: number;
}

/**
 * The response's `Cache-Control` with `stale-if-error` and `stale-while-revalidate` appended when
 * the response is a shared, cacheable one (`public`, no cookie set). CloudFront acts on these only
 * when the origin sends them, and Ghost sends `public, max-age=0`: without them an object still in
 * CloudFront's cache would not be served while Ghost errs. Personal or uncacheable answers, and
 * answers that already carry either directive, are left as they are.
 */
export function withStaleDirectives(headers: OutgoingHttpHeaders, settings: StaleSettings): OutgoingHttpHeaders {
  const cacheControl = headers['cache-control'];
  if (typeof cacheControl !== 'string' || headers['set-cookie'] !== undefined) return headers;
  const directives = cacheControl.toLowerCase();
  if (!/(^|[\s,])public([\s,]|$)/.test(directives)) return headers;
  if (/private|no-store|no-cache|stale-if-error|stale-while-revalidate/.test(directives)) return headers;
  const added = [
    settings.whileRevalidateSeconds > 0 ? `stale-while-revalidate=${settings.whileRevalidateSeconds}` : '',
    settings.ifErrorSeconds > 0 ? `stale-if-error=${settings.ifErrorSeconds}` : '',
  ].filter(Boolean);
  if (added.length === 0) return headers;
  return { ...headers, 'cache-control': `${cacheControl}, ${added.join(', ')}` };
}
