/**
 * Paths (relative to the site's base) that are never mirrored: admin, members, previews, private
 * site and other write or per-reader paths. Their cache behaviors send them to the active region
 * alone, so the mirror would never serve them anyway; not writing them makes that certain.
 */
export const NEVER_MIRRORED_PREFIXES: readonly string[] = [
  '/ghost/',
  '/members/',
  '/p/',
  '/r/',
  '/private/',
  '/unsubscribe/',
  '/.ghost/',
  '/email/',
  '/webmentions/',
];

/** Whether a path relative to the site's base (`/hello/`, not `/blog/hello/`) may be in the mirror. */
export function isMirrorablePath(relative: string): boolean {
  if (!relative.startsWith('/') || relative.includes('?') || relative.includes('#')) return false;
  if (relative.split('/').some((segment) => segment === '..' || segment === '.')) return false;
  const lower = relative.toLowerCase();
  return !NEVER_MIRRORED_PREFIXES.some((prefix) => lower.startsWith(prefix) || `${lower}/` === prefix);
}

/**
 * Why an answer is personal and must not be mirrored, or undefined when it is the public page every
 * anonymous reader gets: a cookie set, a response that varies on cookies or authorization, or one
 * marked private or no-store.
 */
export function personalReason(headers: Headers): string | undefined {
  if (headers.getSetCookie().length > 0 || headers.has('set-cookie')) return 'sets a cookie';
  const vary = (headers.get('vary') ?? '').toLowerCase();
  if (/(^|,)\s*(cookie|authorization|\*)\s*(,|$)/.test(vary)) return `varies on ${vary}`;
  const cacheControl = (headers.get('cache-control') ?? '').toLowerCase();
  if (/(^|,)\s*(private|no-store)\b/.test(cacheControl)) return `cache-control: ${cacheControl}`;
  return undefined;
}
