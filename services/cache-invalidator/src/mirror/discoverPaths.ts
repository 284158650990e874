import type { SitePaths } from '../sitePaths.js';
import { isMirrorablePath } from './mirrorRules.js';

/** Where theme assets and uploads live; pages reference them, the mirror keeps them beside the pages. */
const ASSET_PREFIXES = ['/assets/', '/public/', '/content/images/', '/content/media/', '/content/files/'];

/** Whether a path relative to the site's base is a theme asset or an upload rather than a page. */
export function isAssetPath(relative: string): boolean {
  return ASSET_PREFIXES.some((prefix) => relative.startsWith(prefix));
}

/** Whether a viewer path is one of Ghost's sitemaps, whose `<loc>`s list every public page. */
export function isSitemapPath(relative: string): boolean {
  return /^\/sitemap(-[a-z]+)?\.xml$/.test(relative);
}

/** The archive root (`/tag/news/`, `/author/jane/`) a path belongs to, if it is one. */
export function isArchiveRoot(relative: string): boolean {
  return /^\/(tag|author)\/[^/]+\/$/.test(relative);
}

/** Tags whose attributes name what a page itself loads (never `<a>`: a link in a post body leads nowhere). */
const LOADING_ATTRIBUTES: Record<string, readonly string[]> = {
  link: ['href'],
  script: ['src'],
  img: ['src', 'srcset', 'data-src'],
  source: ['src', 'srcset'],
  meta: ['content'],
  video: ['src', 'poster'],
  audio: ['src'],
  track: ['src'],
};

/**
 * Viewer paths a page leads the mirror to, only from places Ghost itself generates: a sitemap's
 * `<loc>`s; an HTML page's next listing page (`<link rel="next">`, a `/page/N/` path) and the assets
 * it loads (`<link href>`, `<script src>`, `<img src|srcset>`, `<source>`, `<meta content>`, `url(...)`)
 * under the asset prefixes; a stylesheet's `url(...)`s (fonts); an archive's feed. Anchors are never
 * followed: their targets are whatever an author typed. Only paths of this site that may be mirrored
 * (`mirrorPathProblem`), query strings dropped (S3 keys have none).
 */
export function discoverPaths(
  path: string,
  body: Buffer,
  contentType: string,
  site: SitePaths,
  siteUrl: string,
): string[] {
  const relative = path.slice(site.base.length);
  const text = body.toString('utf8');
  const base = new URL(path, siteUrl);
  const paths = new Set<string>();
  const keep = (reference: string, accept: (rel: string) => boolean) => {
    const viewerPath = sitePathOf(reference, base, siteUrl, site);
    if (viewerPath === undefined || viewerPath === path) return;
    if (accept(viewerPath.slice(site.base.length))) paths.add(viewerPath);
  };
  if (isSitemapPath(relative)) {
    for (const match of text.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)) keep(decodeXml(match[1] ?? ''), () => true);
    return [...paths];
  }
  const html = contentType.includes('html');
  if (html) {
    for (const match of text.matchAll(/<([a-z]+)\b[^>]*>/gi)) {
      const tag = match[0];
      const name = (match[1] ?? '').toLowerCase();
      if (name === 'link' && /\brel=["']?next\b/i.test(tag)) {
        keep(attribute(tag, 'href') ?? '', (rel) => /\/page\/\d+\/$/.test(rel));
        continue;
      }
      for (const attributeName of LOADING_ATTRIBUTES[name] ?? []) {
        const value = attribute(tag, attributeName);
        if (value === undefined) continue;
        const references =
          attributeName === 'srcset' ? value.split(',').map((c) => c.trim().split(/\s+/)[0] ?? '') : [value];
        for (const reference of references) keep(reference, isAssetPath);
      }
    }
    if (isArchiveRoot(relative)) paths.add(`${path}rss/`);
  }
  if (html || contentType.includes('css')) {
    for (const match of text.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi))
      keep(decodeXml(match[1] ?? ''), isAssetPath);
  }
  return [...paths];
}

/** The viewer path of a reference, if it points into this site and may be mirrored. */
export function sitePathOf(reference: string, base: URL, siteUrl: string, site: SitePaths): string | undefined {
  if (reference === '' || reference.startsWith('data:') || reference.startsWith('#')) return undefined;
  // A reference that is itself `//host/...` or has a backslash names another host to a URL parser.
  if (/^\s*[\\/]{2}/.test(reference) || reference.includes('\\')) return undefined;
  let url: URL;
  try {
    url = new URL(reference, base);
  } catch {
    return undefined;
  }
  const origin = new URL(siteUrl);
  if (url.origin !== origin.origin || url.username !== '' || url.password !== '') return undefined;
  const pathname = url.pathname;
  if (!pathname.startsWith(`${site.base}/`)) return undefined;
  if (!isMirrorablePath(pathname.slice(site.base.length))) return undefined;
  return pathname;
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}=["']([^"']+)["']`, 'i').exec(tag);
  return match?.[1] === undefined ? undefined : decodeXml(match[1]);
}

function decodeXml(text: string): string {
  return text
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&#x2F;', '/');
}
