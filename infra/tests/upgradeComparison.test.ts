import { describe, expect, it } from 'vitest';
import { type ContentSnapshot, compareSnapshots, formatComparison } from '../src/upgrade/contentSnapshot.js';
import { compareSmoke, type SmokePage } from '../src/upgrade/smokeSite.js';

function snapshot(posts: Record<string, string>): ContentSnapshot {
  return { posts, pages: {}, tags: { t1: '["news"]' }, members: {}, tiers: {}, newsletters: {} };
}

describe('the comparison of every record before and after', () => {
  it('counts equal records and names each changed, missing and new one', () => {
    const before = snapshot({ a: '["title","A"]', b: '["title","B"]', c: '["title","C"]' });
    const after = snapshot({ a: '["title","A"]', b: '["title","B (renamed)"]', d: '["title","D"]' });
    const comparison = compareSnapshots(before, after);
    expect(comparison.counts.posts).toEqual({ before: 3, after: 3, equal: 1 });
    expect(comparison.counts.tags).toEqual({ before: 1, after: 1, equal: 1 });
    expect(comparison.differences).toEqual([
      'posts b changed: ["title","B"] → ["title","B (renamed)"]',
      'posts c missing after: ["title","C"]',
      'posts d new after: ["title","D"]',
    ]);
    expect(formatComparison(comparison)).toContain('posts        3 before, 3 after, 1 equal');
  });

  it('finds nothing to say about identical snapshots', () => {
    const same = snapshot({ a: '1' });
    expect(compareSnapshots(same, snapshot({ a: '1' })).differences).toEqual([]);
  });
});

describe('the smoke test of the copy against production', () => {
  const page = (name: string, status: number, summary: string, problem?: string): SmokePage => ({
    name,
    path: `/${name}/`,
    status,
    ms: 1,
    summary,
    ...(problem ? { problem } : {}),
  });

  it('names a status that changed, a summary that changed and a problem of the copy alone', () => {
    const production = [page('home', 200, 'Site'), page('rss', 200, 'A | B'), page('post', 200, 'Post')];
    const copy = [
      page('home', 500, ''),
      page('rss', 200, 'A'),
      page('post', 200, 'Post', 'shows a members-only body to an anonymous reader'),
    ];
    expect(compareSmoke(production, copy)).toEqual([
      'home /home/: HTTP 200 before, 500 after',
      "rss /rss/: 'A | B' before, 'A' after",
      'post /post/: shows a members-only body to an anonymous reader',
    ]);
    expect(compareSmoke(production, production)).toEqual([]);
  });
});
