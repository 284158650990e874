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

/**
 * Viewer paths a page leads the mirror to: a sitemap's `<loc>`s; an HTML page's next listing page
 * (`rel="next"`) and the theme assets and images it loads; a stylesheet's `url(...)`s (fonts).
 * Only paths of this site that may be mirrored; query strings dropped (S3 keys have none).
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
  const found: string[] = [];
  const base = new URL(path, siteUrl);
  if (isSitemapPath(relative) || contentType.includes('xml')) {
    for (const match of text.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)) found.push(decodeXml(match[1] ?? ''));
  }
  if (contentType.includes('html')) {
    for (const match of text.matchAll(/<link\b[^>]*>/gi)) {
      const tag = match[0];
      if (/\brel=["']?next\b/i.test(tag)) found.push(attribute(tag, 'href') ?? '');
    }
    for (const match of text.matchAll(/\b(?:href|src|content|data-src)=["']([^"']+)["']/gi)) {
      found.push(decodeXml(match[1] ?? ''));
    }
    for (const match of text.matchAll(/\bsrcset=["']([^"']+)["']/gi)) {
      for (const candidate of (match[1] ?? '').split(','))
        found.push(decodeXml(candidate.trim().split(/\s+/)[0] ?? ''));
    }
    if (isArchiveRoot(relative)) found.push(`${path}rss/`);
  }
  if (contentType.includes('css') || contentType.includes('html')) {
    for (const match of text.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi)) found.push(match[1] ?? '');
  }
  const paths = new Set<string>();
  for (const reference of found) {
    const viewerPath = sitePathOf(reference, base, siteUrl, site);
    if (viewerPath === undefined || viewerPath === path) continue;
    const rel = viewerPath.slice(site.base.length);
    // Pages come from sitemaps and listings; from HTML attributes only assets and the next listing page.
    const fromSitemap = isSitemapPath(relative) || contentType.includes('xml');
    if (fromSitemap || isAssetPath(rel) || /\/page\/\d+\/$/.test(rel) || rel.endsWith('/rss/')) paths.add(viewerPath);
  }
  return [...paths];
}

/** The viewer path of a reference, if it points into this site and may be mirrored. */
export function sitePathOf(reference: string, base: URL, siteUrl: string, site: SitePaths): string | undefined {
  if (reference === '' || reference.startsWith('data:') || reference.startsWith('#')) return undefined;
  let url: URL;
  try {
    url = new URL(reference, base);
  } catch {
    return undefined;
  }
  const origin = new URL(siteUrl);
  if (url.host !== origin.host || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
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
