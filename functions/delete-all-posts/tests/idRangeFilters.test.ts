import { describe, expect, it } from 'vitest';
import { idRangeFilters } from '../src/idRangeFilters.js';

const ids = Array.from({ length: 1000 }, (_, i) => `6b0848dae4818676326a${i.toString(16).padStart(4, '0')}`);

describe('idRangeFilters', () => {
  it('writes every post as one range', () => {
    expect(idRangeFilters(ids, new Set(ids))).toEqual([`(id:>='${ids[0]}'+id:<='${ids[999]}')`]);
  });

  it('writes runs as ranges and lone ids as a list, never covering an id that was not chosen', () => {
    const all = ids.slice(0, 6);
    const chosen = new Set([all[0], all[1], all[3], all[5]] as string[]);
    expect(idRangeFilters([...all].reverse(), chosen)).toEqual([
      `(id:>='${all[0]}'+id:<='${all[1]}'),id:['${all[3]}','${all[5]}']`,
    ]);
  });

  it('splits into filters of at most a few thousand characters', () => {
    const everyOther = new Set(ids.filter((_, i) => i % 2 === 0));
    const filters = idRangeFilters(ids, everyOther);
    expect(filters.length).toBeGreaterThan(1);
    for (const filter of filters) expect(filter.length).toBeLessThanOrEqual(3_000);
    const listed = filters.flatMap((filter) => filter.match(/'[0-9a-f]{24}'/g) ?? []).map((id) => id.slice(1, -1));
    expect(new Set(listed)).toEqual(everyOther);
  });
});
