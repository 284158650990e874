import { describe, expect, it } from 'vitest';
import { SiteChangeEchoes } from '../src/SiteChangeEchoes.js';

describe('SiteChangeEchoes', () => {
  it('pairs each site.changed with one content change, whichever arrives first', () => {
    const echoes = new SiteChangeEchoes(1000, 60_000);
    echoes.noteContentChange('post-1', 'post.published', 0);
    echoes.noteSiteChanged('s1', 10);
    echoes.noteSiteChanged('s2', 500);
    expect(echoes.latestWaitingAt()).toBe(500);
    echoes.noteContentChange('post-2', 'post.published.edited', 900);
    expect(echoes.latestWaitingAt()).toBeUndefined();
    expect([echoes.takeIsEcho('s1'), echoes.takeIsEcho('s2')]).toEqual([true, true]);
  });

  it('counts two quick edits of one post as two changes (two site.changed echoes)', () => {
    const echoes = new SiteChangeEchoes(1000, 60_000);
    echoes.noteContentChange('post-1', 'post.published.edited', 0);
    echoes.noteSiteChanged('s1', 5);
    echoes.noteContentChange('post-1', 'post.published.edited', 200);
    echoes.noteSiteChanged('s2', 205);
    expect([echoes.takeIsEcho('s1'), echoes.takeIsEcho('s2')]).toEqual([true, true]);
  });

  it('counts unpublished + deleted of one post (one delete request) as one change', () => {
    const echoes = new SiteChangeEchoes(1000, 60_000);
    echoes.noteContentChange('post-1', 'post.unpublished', 0);
    echoes.noteContentChange('post-1', 'post.deleted', 3);
    echoes.noteSiteChanged('s1', 6);
    echoes.noteSiteChanged('settings', 300);
    expect(echoes.takeIsEcho('s1')).toBe(true);
    expect(echoes.takeIsEcho('settings')).toBe(false);
  });

  it('leaves a site.changed alone when no change is within the window', () => {
    const echoes = new SiteChangeEchoes(1000, 60_000);
    echoes.noteContentChange('post-1', 'post.published', 0);
    echoes.noteSiteChanged('late', 1500);
    expect(echoes.takeIsEcho('late')).toBe(false);
    expect(echoes.takeIsEcho('late')).toBe(false);
  });
});
