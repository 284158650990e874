/**
 * CloudFront paths of a Ghost site whose configured url may carry a subdirectory
 * (`https://example.com/blog`): every path is the viewer path, so it starts with that subdirectory.
 */
export class SitePaths {
  /** `''` for a site at the domain root, `/blog` for `https://example.com/blog`. */
  readonly base: string;

  constructor(siteUrl: string) {
    this.base = new URL(siteUrl).pathname.replace(/\/+$/, '');
  }

  /** `/blog` + `/tag/news/`; `relative` starts with `/`. */
  at(relative: string): string {
    return `${this.base}${relative}`;
  }

  /** Everything the site serves: `/*`, or `/blog/*` for a subdirectory install. */
  get everything(): string {
    return this.at('/*');
  }

  /** A slug as one encoded path segment, the way CloudFront matches it (a literal `*` must not act as a wildcard). */
  segment(slug: string): string {
    return encodeURIComponent(slug).replaceAll('*', '%2A');
  }

  /**
   * The viewer path of a URL from a payload, if it is a public page of this site: Ghost reports
   * drafts as `/p/<uuid>/` previews and routes it cannot resolve as `/404/`.
   */
  publicPathOf(url: unknown): string | undefined {
    if (typeof url !== 'string' || url === '') return undefined;
    let pathname: string;
    try {
      pathname = new URL(url).pathname;
    } catch {
      return undefined;
    }
    if (!pathname.startsWith(`${this.base}/`)) return undefined;
    const relative = pathname.slice(this.base.length);
    if (relative.startsWith('/p/') || relative === '/404/') return undefined;
    return pathname.replaceAll('*', '%2A');
  }
}
