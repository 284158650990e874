import { describe, expect, it } from 'vitest';
import { compactPaths } from '../src/compactPaths.js';

const limits = { everything: '/*', wildcardThreshold: 3, maxPaths: 10, maxWildcards: 4 };

describe('compactPaths', () => {
  it('drops duplicates and paths a wildcard covers', () => {
    expect(compactPaths(['/a/', '/a/', '/tag/x/*', '/tag/x/', '/tag/x/rss/'], limits)).toEqual(['/a/', '/tag/x/*']);
  });

  it('turns a crowded directory into one wildcard, but never the site root', () => {
    expect(compactPaths(['/tag/a/*', '/tag/b/*', '/tag/c/*', '/x/'], limits)).toEqual(['/tag/*', '/x/']);
    expect(compactPaths(['/a/', '/b/', '/c/', '/d/'], limits)).toEqual(['/a/', '/b/', '/c/', '/d/']);
  });

  it('over the wildcard limit, folds the fullest directory before purging everything', () => {
    const paths = ['/tag/a/*', '/tag/b/*', '/tag/c/*', '/author/x/*', '/author/y/*', '/page/*', '/p/'];
    expect(compactPaths(paths, { ...limits, wildcardThreshold: 20 })).toEqual([
      '/author/x/*',
      '/author/y/*',
      '/p/',
      '/page/*',
      '/tag/*',
    ]);
  });

  it('becomes everything past the path or wildcard limit when nothing can be folded, or when asked', () => {
    const many = Array.from({ length: 11 }, (_, i) => `/post-${i}/`);
    expect(compactPaths(many, limits)).toEqual(['/*']);
    expect(compactPaths(['/a/*', '/b/*', '/c/*', '/d/*', '/e/*'], limits)).toEqual(['/*']);
    expect(compactPaths(['/x/', '/*'], limits)).toEqual(['/*']);
  });

  it('keeps a subdirectory site inside its subdirectory', () => {
    const blog = { ...limits, everything: '/blog/*' };
    expect(compactPaths(['/blog/a/', '/blog/b/', '/blog/c/'], blog)).toEqual(['/blog/a/', '/blog/b/', '/blog/c/']);
    expect(
      compactPaths(
        Array.from({ length: 11 }, (_, i) => `/blog/p${i}/`),
        blog,
      ),
    ).toEqual(['/blog/*']);
  });

  it('returns nothing for nothing', () => {
    expect(compactPaths([], limits)).toEqual([]);
  });
});
