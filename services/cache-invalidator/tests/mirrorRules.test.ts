import { describe, expect, it } from 'vitest';
import { discoverPaths } from '../src/mirror/discoverPaths.js';
import { isEdgeFilePath, isMirrorablePath, personalReason } from '../src/mirror/mirrorRules.js';
import { SitePaths } from '../src/sitePaths.js';

describe('what the mirror never holds', () => {
  it('refuses admin, members, previews, private-site and other per-reader paths', () => {
    for (const path of [
      '/ghost/',
      '/ghost',
      '/members/api/member/',
      '/p/0b0e7c1e/',
      '/r/abc',
      '/private/',
      '/unsubscribe/',
      '/.ghost/activitypub/',
      '/GHOST/',
    ]) {
      expect(isMirrorablePath(path), path).toBe(false);
    }
    for (const path of [
      '/',
      '/hello-world/',
      '/tag/news/page/2/',
      '/rss/',
      '/assets/built/screen.css',
      '/ghostly-tales/',
      '/members-area/',
    ]) {
      expect(isMirrorablePath(path), path).toBe(true);
    }
    expect(isMirrorablePath('/a/../ghost/')).toBe(false);
    expect(isMirrorablePath('/search/?q=x')).toBe(false);
  });

  it("knows the edge's own objects at the distribution's root (never removed by a crawl)", () => {
    for (const path of ['/.ghost-404.html', '/.ghost-redirects.json', '/.ghost-ha-canary.html']) {
      expect(isEdgeFilePath(path), path).toBe(true);
    }
    for (const path of ['/blog/.ghost-404.html', '/.ghost-404.html/', '/ghost-404.html', '/']) {
      expect(isEdgeFilePath(path), path).toBe(false);
    }
  });

  it('calls an answer personal when it sets a cookie, varies on one, or is private', () => {
    expect(personalReason(new Headers({ 'cache-control': 'public, max-age=0' }))).toBeUndefined();
    expect(personalReason(new Headers({ 'set-cookie': 'ghost-members-ssr=x; Path=/' }))).toBe('sets a cookie');
    expect(personalReason(new Headers({ vary: 'Accept-Encoding, Cookie' }))).toMatch(/varies/);
    expect(personalReason(new Headers({ vary: 'Accept-Encoding' }))).toBeUndefined();
    expect(personalReason(new Headers({ 'cache-control': 'no-cache, private, max-age=0' }))).toMatch(/private/);
    expect(personalReason(new Headers({ 'cache-control': 'no-store' }))).toMatch(/no-store/);
  });
});

describe('discovering what a page leads to', () => {
  const site = new SitePaths('https://example.com/blog');
  const siteUrl = 'https://example.com/blog';

  it('a sitemap leads to its locations on this site only', () => {
    const xml = Buffer.from(
      '<urlset><url><loc>https://example.com/blog/hello/</loc></url><url><loc>https://example.com/blog/caf%C3%A9/</loc></url><url><loc>https://other.example/x/</loc></url><url><loc>https://example.com/blog/p/123/</loc></url></urlset>',
    );
    expect(discoverPaths('/blog/sitemap-posts.xml', xml, 'text/xml', site, siteUrl).sort()).toEqual([
      '/blog/caf%C3%A9/',
      '/blog/hello/',
    ]);
  });

  it('an HTML page leads to its next listing page, assets, images (srcset too) and, for an archive, its feed; not to other pages', () => {
    const html = Buffer.from(`<html><head>
      <link rel="stylesheet" href="/blog/assets/built/screen.css?v=1a2b">
      <link rel="next" href="https://example.com/blog/tag/news/page/2/">
      <meta property="og:image" content="https://example.com/blog/content/images/2026/01/cover.jpg">
      <style>@font-face{src:url('/blog/assets/fonts/inter.woff2')}</style>
      </head><body>
      <a href="/blog/another-post/">another</a><a href="/blog/ghost/">admin</a>
      <img srcset="/blog/content/images/size/w300/a.jpg 300w, /blog/content/images/size/w600/a.jpg 600w" src="data:image/gif;base64,R0l">
      <script src="https://cdn.example.net/x.js"></script><script src="/blog/public/cards.min.js?v=9"></script>
      </body></html>`);
    expect(discoverPaths('/blog/tag/news/', html, 'text/html; charset=utf-8', site, siteUrl).sort()).toEqual([
      '/blog/assets/built/screen.css',
      '/blog/assets/fonts/inter.woff2',
      '/blog/content/images/2026/01/cover.jpg',
      '/blog/content/images/size/w300/a.jpg',
      '/blog/content/images/size/w600/a.jpg',
      '/blog/public/cards.min.js',
      '/blog/tag/news/page/2/',
      '/blog/tag/news/rss/',
    ]);
  });
});

describe('the mirror only ever fetches the site: paths an author can plant are refused', () => {
  const site = new SitePaths('https://example.com/blog');
  const siteUrl = 'https://example.com/blog';

  it('refuses `//host`, backslashes, encoded slashes and dots, dot segments, control bytes and over-long paths', () => {
    for (const path of [
      '//evil.example:443/x/rss/',
      '//127.0.0.1:3000/metrics/rss/',
      '//169.254.170.2/v2/credentials/rss/',
      '/x//y/',
      '/a\\b/',
      '/\\evil.example/x/',
      '/content/images/x%2F..%2Fmetrics.png',
      '/content/images/x%2f..%2fmetrics.png',
      '/content/images/x%5Cy.png',
      '/content/images/%2E%2E/x.png',
      '/content/images/%2e/x.png',
      '/a/./b/',
      '/hello/%00/',
      '/hello world/',
      `/content/images/${'a'.repeat(1_100)}.png`,
    ]) {
      expect(isMirrorablePath(path), path).toBe(false);
    }
    expect(isMirrorablePath('/caf%C3%A9/')).toBe(true);
    expect(isMirrorablePath(`/${'a'.repeat(500)}/`)).toBe(true);
  });

  it('an anchor in a post body leads nowhere, even to this site; `//host` and encoded tricks in asset references are dropped', () => {
    const html = Buffer.from(`<html><head><link rel="stylesheet" href="/blog/assets/built/screen.css"></head><body>
      <a href="https://example.com/blog//evil.example:443/x/rss/">x</a>
      <a href="https://example.com/blog//127.0.0.1:3000/metrics/rss/">x</a>
      <a href="//169.254.170.2/v2/credentials/rss/">x</a>
      <a href="/blog/some-post/rss/">feed</a><a href="/blog/page/7/">seven</a>
      <a href="/blog/content/files/report.pdf">file</a>
      <img src="https://example.com/blog//evil.example/content/images/a.png">
      <img src="/blog/content/images/x%2F..%2F..%2Fmetrics.png">
      <img src="/blog/content/images/${'a'.repeat(1_100)}.png">
      <img src="/blog/content/images/ok.png">
      </body></html>`);
    expect(discoverPaths('/blog/a-post/', html, 'text/html', site, siteUrl).sort()).toEqual([
      '/blog/assets/built/screen.css',
      '/blog/content/images/ok.png',
    ]);
  });

  it('`<loc>`s count only in a sitemap: a feed quoting a raw HTML card leads nowhere', () => {
    const rss = Buffer.from(
      '<rss><channel><item><content:encoded><![CDATA[<loc>https://example.com/blog/planted/</loc>]]></content:encoded></item></channel></rss>',
    );
    expect(discoverPaths('/blog/rss/', rss, 'application/rss+xml', site, siteUrl)).toEqual([]);
  });
});
