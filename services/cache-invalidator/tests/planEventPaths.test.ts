import { describe, expect, it } from 'vitest';
import { PayloadShapeError } from '../src/errors.js';
import { type HandledEvent, isHandledEvent } from '../src/ghostEvents.js';
import { planEventPaths } from '../src/planEventPaths.js';
import { SitePaths } from '../src/sitePaths.js';
import { captured, LISTINGS, webhookOf } from './support/fixtures.js';

const site = new SitePaths(captured.siteUrl);

function plan(step: string, event: HandledEvent, on = site) {
  return planEventPaths(event, webhookOf(step, event).body, on);
}

function sorted(paths: readonly string[]): string[] {
  return [...paths].sort();
}

describe('planEventPaths on payloads recorded from Ghost 5.130.6', () => {
  it('publish: the post, home and its pages, feed, tag and author archives, sitemaps', () => {
    expect(sorted(plan('publish post with tags', 'post.published').paths)).toEqual(
      sorted(['/hello-world/', ...LISTINGS, '/tag/news/*', '/tag/deep-dive/*', '/author/test/*']),
    );
  });

  it('edit: the same set (titles show on the listings)', () => {
    expect(sorted(plan('edit title', 'post.published.edited').paths)).toEqual(
      sorted(['/hello-world/', ...LISTINGS, '/tag/news/*', '/tag/deep-dive/*', '/author/test/*']),
    );
  });

  it('slug change: the new URL and the old one rebuilt from previous.slug', () => {
    const paths = plan('change slug', 'post.published.edited').paths;
    expect(paths).toContain('/hello-renamed/');
    expect(paths).toContain('/hello-world/');
  });

  it('tag change: archives of the current and the previous tags', () => {
    const paths = plan('change tags', 'post.published.edited').paths;
    expect(paths.filter((p) => p.startsWith('/tag/')).sort()).toEqual([
      '/tag/deep-dive/*',
      '/tag/news/*',
      '/tag/other/*',
    ]);
  });

  it('unpublish: the public URL (Ghost reports a /p/ preview), not the preview', () => {
    const paths = plan('unpublish', 'post.unpublished').paths;
    expect(sorted(paths)).toEqual(
      sorted(['/hello-renamed/', ...LISTINGS, '/tag/news/*', '/tag/other/*', '/author/test/*']),
    );
    expect(paths.some((p) => p.startsWith('/p/'))).toBe(false);
  });

  it('delete: the URL rebuilt from previous (current is empty), with its tags and authors', () => {
    expect(sorted(plan('delete', 'post.deleted').paths)).toEqual(
      sorted(['/hello-renamed/', ...LISTINGS, '/tag/news/*', '/tag/other/*', '/author/test/*']),
    );
    expect(sorted(plan('delete', 'post.unpublished').paths)).toEqual(sorted(plan('delete', 'post.deleted').paths));
  });

  it('a draft that is deleted changes no public path', () => {
    const body = structuredClone(webhookOf('delete', 'post.deleted').body) as {
      post: { previous: { status: string } };
    };
    body.post.previous.status = 'draft';
    expect(planEventPaths('post.deleted', body, site).paths).toEqual([]);
  });

  it('page: its URL and the sitemaps only (pages are on no archive)', () => {
    expect(sorted(plan('publish page', 'page.published').paths)).toEqual([
      '/about-us/',
      '/sitemap-pages.xml',
      '/sitemap.xml',
    ]);
    expect(sorted(plan('edit page', 'page.published.edited').paths)).toEqual([
      '/about-us/',
      '/sitemap-pages.xml',
      '/sitemap.xml',
    ]);
  });

  it('tag renamed or re-slugged: everything (its name and link are on pages the payload does not name)', () => {
    for (const step of ['rename tag', 'change tag slug']) {
      expect(plan(step, 'tag.edited')).toMatchObject({ paths: ['/*'], everything: true });
    }
  });

  it('tag description: its archive only, under the slug it has now', () => {
    expect(sorted(plan('tag description', 'tag.edited').paths)).toEqual(['/sitemap-tags.xml', '/tag/breaking/*']);
  });

  it('site.changed is left to the coalescer', () => {
    expect(plan('site setting', 'site.changed')).toEqual({ paths: [], everything: false, siteChanged: true });
  });

  it('plans every handled event Ghost sent without error', () => {
    for (const webhook of captured.captured) {
      if (isHandledEvent(webhook.event))
        expect(() => planEventPaths(webhook.event as HandledEvent, webhook.body, site)).not.toThrow();
    }
  });

  it('puts every path under the subdirectory of a site such as https://example.com/blog', () => {
    const blog = new SitePaths('https://example.com/blog');
    const text = JSON.stringify(webhookOf('change slug', 'post.published.edited').body).replaceAll(
      captured.siteUrl,
      'https://example.com/blog',
    );
    const paths = planEventPaths('post.published.edited', JSON.parse(text), blog).paths;
    expect(sorted(paths)).toEqual(
      sorted([
        '/blog/hello-renamed/',
        '/blog/hello-world/',
        ...LISTINGS.map((p) => `/blog${p}`),
        '/blog/tag/news/*',
        '/blog/tag/deep-dive/*',
        '/blog/author/test/*',
      ]),
    );
    expect(planEventPaths('tag.edited', webhookOf('rename tag', 'tag.edited').body, blog).paths).toEqual(['/blog/*']);
  });

  it('encodes slugs the way CloudFront matches them; a literal * never becomes a wildcard', () => {
    const body = {
      post: {
        current: {
          id: 'x',
          status: 'published',
          slug: 'new',
          url: 'https://example.com/new/',
          tags: [{ slug: 'a*b' }],
        },
        previous: { slug: 'café' },
      },
    };
    const paths = planEventPaths('post.published.edited', body, new SitePaths('https://example.com'));
    expect(paths.paths).toContain('/caf%C3%A9/');
    expect(paths.paths).toContain('/tag/a%2Ab/*');
  });

  it('rejects bodies that are not the event resource', () => {
    expect(() => planEventPaths('post.published', [], site)).toThrow(PayloadShapeError);
    expect(() => planEventPaths('post.published', { page: {} }, site)).toThrow(PayloadShapeError);
    expect(() => planEventPaths('post.published', { post: { current: 'x' } }, site)).toThrow(PayloadShapeError);
    expect(() => planEventPaths('tag.edited', { tag: { current: {}, previous: {} } }, site)).toThrow(PayloadShapeError);
  });
});
