import { describe, expect, it } from 'vitest';
import { edgeRedirectsOf, MAX_REDIRECT_RULES, RedirectsShapeError } from '../src/mirror/edgeRedirectsOf.js';

/** Applies the table as edge.yaml's page function does: 301 rules, then 302, first match. */
function edgeAnswer(table: ReturnType<typeof edgeRedirectsOf>['table'], uri: string): string | undefined {
  for (const status of ['301', '302'] as const) {
    for (const [from, to] of Object.entries(table[status])) {
      const pattern = new RegExp(from);
      if (pattern.test(uri)) return `${status} ${uri.replace(pattern, to)}`;
    }
  }
  return undefined;
}

describe("Ghost's redirects in the edge's form", () => {
  it("reads Ghost 6's YAML download and Ghost 5's JSON file, matching as Ghost does", () => {
    const yaml = [
      '301:',
      '  ^/moved-away/$: /tag/news/',
      '  /old-post/: /new-post/',
      '302:',
      '  ^/archive/([a-z0-9-]+)/$: /$1/',
      '',
    ].join('\n');
    const json = JSON.stringify([
      { from: '^/moved-away/$', to: '/tag/news/', permanent: true },
      { from: '/old-post/', to: '/new-post/', permanent: true },
      { from: '^/archive/([a-z0-9-]+)/$', to: '/$1/' },
    ]);
    for (const text of [yaml, json]) {
      const { table, rules, skipped } = edgeRedirectsOf(text);
      expect(rules).toBe(3);
      expect(skipped).toEqual([]);
      expect(edgeAnswer(table, '/moved-away/')).toBe('301 /tag/news/');
      // Ghost drops the trailing slash and anchors at the end with an optional one.
      expect(edgeAnswer(table, '/old-post/')).toBe('301 /new-post/');
      expect(edgeAnswer(table, '/old-post')).toBe('301 /new-post/');
      expect(edgeAnswer(table, '/old-post/more/')).toBeUndefined();
      expect(edgeAnswer(table, '/archive/some-post/')).toBe('302 /some-post/');
    }
  });

  it('lower-cases a case-insensitive rule (the edge sees lower-case paths), leaves out one it cannot', () => {
    const { table, skipped } = edgeRedirectsOf(
      JSON.stringify([
        { from: '/^\\/Old-Page\\/$/i', to: '/new-page/', permanent: true },
        { from: '/^\\/X\\d+\\/$/i', to: '/y/', permanent: true },
      ]),
    );
    expect(edgeAnswer(table, '/old-page/')).toBe('301 /new-page/');
    expect(skipped).toEqual(['/^\\/X\\d+\\/$/i']);
  });

  it('an empty download is no redirects', () => {
    expect(edgeRedirectsOf('# See https://docs.ghost.org/themes/routing/#redirects\n301: {}\n302: {}\n').rules).toBe(0);
    expect(edgeRedirectsOf('[]').rules).toBe(0);
  });

  it('refuses another shape, a non-string target and too many rules', () => {
    for (const text of ['{"404": {"/a/": "/b/"}}', '[{"from": "/a/"}]', '"text"', '301:\n  /a/: 12\n', '[1]']) {
      expect(() => edgeRedirectsOf(text), text).toThrow(RedirectsShapeError);
    }
    const many = Array.from({ length: MAX_REDIRECT_RULES + 1 }, (_, i) => ({
      from: `^/p${i}/$`,
      to: '/',
      permanent: true,
    }));
    expect(() => edgeRedirectsOf(JSON.stringify(many))).toThrow(/more than/);
  });
});
