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

/**
 * Longest viewer path the mirror takes, in characters as sent (percent-encoded). S3 keys are at most
 * 1,024 bytes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html); the prefix
 * and the site's subdirectory fit in the rest.
 */
export const MAX_MIRROR_PATH_LENGTH = 900;

/** RFC 3986 path characters (pchar and `/`): no backslash, space, quote, `?`, `#`, `*` or non-ASCII. */
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()+,;=:@/%]*$/;

/**
 * Why a path relative to the site's base (`/hello/`, not `/blog/hello/`) is not one the mirror may
 * fetch or hold, or undefined when it may. The mirror fetches `<origin><path>`, so anything that could
 * make a URL parser or Ghost read another host or another path is refused: `//` (a host to `new URL`),
 * backslashes, encoded slashes, backslashes, dots, `%`, `?`, `#` and control bytes (S3 keys hold decoded paths),
 * dot segments, characters outside a path, and paths longer than `MAX_MIRROR_PATH_LENGTH`.
 */
export function mirrorPathProblem(relative: string): string | undefined {
  if (!relative.startsWith('/')) return 'does not start with /';
  if (relative.length > MAX_MIRROR_PATH_LENGTH) return `longer than ${MAX_MIRROR_PATH_LENGTH} characters`;
  if (!PATH_CHARACTERS.test(relative)) return 'has a character that is not part of a path';
  if (relative.includes('//')) return 'has an empty segment (//)';
  for (const match of relative.matchAll(/%(.{0,2})/g)) {
    const hex = match[1] ?? '';
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'has a bad percent-encoding';
    const byte = Number.parseInt(hex, 16);
    if (byte < 0x20 || byte === 0x7f || '/\\.%?#'.includes(String.fromCharCode(byte))) {
      return `encodes a reserved character (%${hex})`;
    }
  }
  try {
    decodeURIComponent(relative);
  } catch {
    return 'is not UTF-8 when decoded';
  }
  if (relative.split('/').some((segment) => segment === '..' || segment === '.')) return 'has a dot segment';
  const lower = relative.toLowerCase();
  if (NEVER_MIRRORED_PREFIXES.some((prefix) => lower.startsWith(prefix) || `${lower}/` === prefix)) {
    return 'is an admin, members or per-reader path';
  }
  return undefined;
}

/** Whether a path relative to the site's base (`/hello/`, not `/blog/hello/`) may be in the mirror. */
export function isMirrorablePath(relative: string): boolean {
  return mirrorPathProblem(relative) === undefined;
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

/**
 * Media types the mirror stores: what a Ghost site serves its readers (pages, feeds, sitemaps and
 * their stylesheet, theme assets, fonts, uploaded images, media and files). Anything else is not
 * stored, so the site's domain never serves a type Ghost would not.
 */
const ALLOWED_MEDIA_TYPES = new Set([
  'text/html',
  'text/css',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'application/rss+xml',
  'application/atom+xml',
  'text/plain',
  'text/javascript',
  'application/javascript',
  'application/json',
  'application/manifest+json',
  'application/pdf',
  'application/font-woff',
  'application/font-woff2',
  'application/vnd.ms-fontobject',
  'application/x-font-ttf',
  'application/x-font-otf',
]);
const ALLOWED_TOP_LEVEL = new Set(['image', 'font', 'video', 'audio']);

/** Media types whose body the mirror reads for the paths it leads to (everything else is streamed unread). */
const PARSED_MEDIA_TYPES = new Set(['text/html', 'text/css', 'text/xml', 'application/xml']);

/**
 * The Content-Type the mirror stores for Ghost's header, or undefined when its type is not allowed:
 * the media type and a plain `charset` parameter only, so no other header text reaches the bucket.
 */
export function storedContentType(header: string | null): string | undefined {
  if (!header) return undefined;
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim());
  const mediaType = type.toLowerCase();
  if (!/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(mediaType)) return undefined;
  const topLevel = mediaType.split('/')[0] ?? '';
  if (!ALLOWED_MEDIA_TYPES.has(mediaType) && !ALLOWED_TOP_LEVEL.has(topLevel)) return undefined;
  const charset = parameters
    .map((parameter) => /^charset="?([A-Za-z0-9._-]{1,40})"?$/i.exec(parameter)?.[1])
    .find((value) => value !== undefined);
  return charset ? `${mediaType}; charset=${charset.toLowerCase()}` : mediaType;
}

/** Whether the mirror reads a body of this stored Content-Type for links (HTML, CSS, XML). */
export function isParsedType(contentType: string): boolean {
  return PARSED_MEDIA_TYPES.has(contentType.split(';')[0]?.trim() ?? '');
}

/**
 * The Cache-Control stored with an object: `public, max-age=<n>` with Ghost's `s-maxage` or `max-age`
 * (0 when it sends neither), at most `maxSeconds`. CloudFront caches a mirror answer for that long
 * within the behaviour's TTLs, so a mirror copy never stays at the edge for a year because Ghost sent
 * its asset lifetime.
 */
export function cappedCacheControl(header: string | null, maxSeconds: number): string {
  const directives = (header ?? '').toLowerCase();
  const seconds = (name: string) => {
    const match = new RegExp(`(?:^|,)\\s*${name}\\s*=\\s*"?(\\d{1,10})"?`).exec(directives);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const ghost = seconds('s-maxage') ?? seconds('max-age') ?? 0;
  return `public, max-age=${Math.min(ghost, maxSeconds)}`;
}

/**
 * Objects the mirror holds for the edge (infra/cloudformation/edge.yaml), at the distribution's root
 * whatever the site's subdirectory (key `<prefix>` + path): Ghost's themed 404 page and its redirects,
 * read by the page function for a page the mirror lacks, and the canary `scripts/deploy.sh` puts
 * there. They are never crawled as pages, and the removal of a path Ghost answers 404 for (every one
 * of them) never applies to them.
 */
export const NOT_FOUND_PAGE_PATH = '/.ghost-404.html';
export const REDIRECTS_PATH = '/.ghost-redirects.json';
export const CANARY_PATH = '/.ghost-ha-canary.html';
/**
 * Where the refresher asks Ghost (under the site's path) for its 404 page: a path that is never a
 * post (no slug starts with a dot) and has no file extension, since Ghost answers a missing
 * `….html` with a plain-text 404 of its static files, not the theme's page.
 */
export const NOT_FOUND_PROBE_PATH = '/.ghost-ha-not-found/';
const EDGE_FILE_PATHS: ReadonlySet<string> = new Set([NOT_FOUND_PAGE_PATH, REDIRECTS_PATH, CANARY_PATH]);

/** Whether a viewer path is one of the edge's own objects (never removed by a crawl). */
export function isEdgeFilePath(path: string): boolean {
  return EDGE_FILE_PATHS.has(path);
}
