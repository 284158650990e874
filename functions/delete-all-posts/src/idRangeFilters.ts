import { quoteNql } from '@ghost-ha/content';

/** Characters of one filter: URLs stay well under CloudFront's 8,192 and Node's 16 KB header limit. */
const MAX_FILTER_CHARS = 3_000;

/**
 * NQL that matches exactly `chosen` among `all`, as few characters as possible: Ghost's ids are
 * ObjectIds, which sort by creation time, so the chosen ids form runs in the sorted list of every id
 * the backup saw; each run of two or more becomes `(id:>='first'+id:<='last')`, single ids go into one
 * `id:[…]` list. A post created after the export gets a later id, outside every run. When every post
 * is chosen (the default filter), that is one range: one bulk call, as fast as Ghost's raw call.
 * Returns one or more filters (each under a few thousand characters) whose union is `chosen`.
 */
export function idRangeFilters(all: readonly string[], chosen: ReadonlySet<string>): string[] {
  const sorted = [...all].sort();
  const terms: string[] = [];
  const singles: string[] = [];
  let run: string[] = [];
  const closeRun = (): void => {
    if (run.length === 1) singles.push(run[0] as string);
    else if (run.length > 1)
      terms.push(`(id:>=${quoteNql(run[0] as string)}+id:<=${quoteNql(run[run.length - 1] as string)})`);
    run = [];
  };
  for (const id of sorted) {
    if (chosen.has(id)) run.push(id);
    else closeRun();
  }
  closeRun();
  const filters: string[] = [];
  let current: string[] = [];
  let length = 0;
  const flush = (): void => {
    if (current.length > 0) filters.push(current.join(','));
    current = [];
    length = 0;
  };
  const add = (term: string): void => {
    if (length + term.length + 1 > MAX_FILTER_CHARS) flush();
    current.push(term);
    length += term.length + 1;
  };
  for (const term of terms) add(term);
  for (let start = 0; start < singles.length; start += 100) {
    add(
      `id:[${singles
        .slice(start, start + 100)
        .map(quoteNql)
        .join(',')}]`,
    );
  }
  flush();
  return filters;
}
