import { describe, expect, it } from 'vitest';
import { RecentSignatures } from '../src/RecentSignatures.js';

describe('RecentSignatures', () => {
  it('refuses a signature seen inside the window and forgets it once its timestamp is outside', () => {
    const recent = new RecentSignatures({ toleranceMs: 300_000, maxEntries: 100 });
    expect(recent.claim('a', 1_000, 1_000)).toBe(true);
    expect(recent.claim('a', 1_000, 301_000)).toBe(false);
    // Past the window the signature check refuses it as stale; remembering it would only cost memory.
    expect(recent.claim('b', 301_002, 301_002)).toBe(true);
    expect(recent.size).toBe(1);
  });

  it('keeps at most maxEntries, forgetting the one signed earliest first', () => {
    const recent = new RecentSignatures({ toleranceMs: 300_000, maxEntries: 3 });
    for (const [signature, t] of [
      ['late', 5_000],
      ['early', 1_000],
      ['middle', 3_000],
      ['new', 6_000],
    ] as const) {
      expect(recent.claim(signature, t, 6_000)).toBe(true);
    }
    expect(recent.size).toBe(3);
    expect(recent.claim('early', 1_000, 6_000)).toBe(true);
    expect(recent.claim('late', 5_000, 6_000)).toBe(false);
  });

  it('takes a released signature again (a delivery that was not accepted)', () => {
    const recent = new RecentSignatures({ toleranceMs: 300_000, maxEntries: 10 });
    expect(recent.claim('a', 1_000, 1_000)).toBe(true);
    recent.release('a');
    expect(recent.claim('a', 1_000, 1_000)).toBe(true);
  });
});
