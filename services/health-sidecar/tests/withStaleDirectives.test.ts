import { describe, expect, it } from 'vitest';
import { withStaleDirectives } from '../src/withStaleDirectives.js';

const settings = { ifErrorSeconds: 86_400, whileRevalidateSeconds: 60 };

describe('withStaleDirectives', () => {
  it("adds both directives to Ghost's public pages", () => {
    expect(withStaleDirectives({ 'cache-control': 'public, max-age=0' }, settings)['cache-control']).toBe(
      'public, max-age=0, stale-while-revalidate=60, stale-if-error=86400',
    );
  });

  it('leaves personal, uncacheable, cookie-setting and already-marked answers alone', () => {
    for (const headers of [
      { 'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0' },
      { 'cache-control': 'no-cache' },
      { 'cache-control': 'public, max-age=0', 'set-cookie': ['ghost-members-ssr=x'] },
      { 'cache-control': 'public, max-age=0, stale-if-error=5' },
      { 'content-type': 'text/html' },
    ]) {
      expect(withStaleDirectives(headers, settings)).toBe(headers);
    }
  });

  it('adds only what is switched on', () => {
    expect(
      withStaleDirectives(
        { 'cache-control': 'public, max-age=31536000' },
        { ifErrorSeconds: 600, whileRevalidateSeconds: 0 },
      )['cache-control'],
    ).toBe('public, max-age=31536000, stale-if-error=600');
  });
});
