import type { BrowseOptions, ContentResource, GhostAdminClient, GhostPost } from '@ghost-ha/core';

const PAGE_SIZE = 100;

/**
 * Every item matching the filter, reading up to `concurrency` pages at once (Ghost spends most of a
 * full-content page on serialising it, so a few pages in flight overlap database and CPU time).
 * Items are returned once each, in page order. Pages are offsets: if posts are added or removed
 * meanwhile, an item can be missed; callers must act only on the items returned.
 */
export async function fetchAllPages(
  client: GhostAdminClient,
  resource: ContentResource,
  options: Omit<BrowseOptions, 'page' | 'limit'>,
  concurrency: number,
): Promise<GhostPost[]> {
  const first = await client.browse(resource, { ...options, limit: PAGE_SIZE, page: 1 });
  const pages: GhostPost[][] = [first.items];
  let next = 2;
  let more = first.pagination.next !== null;
  const lastKnownPage = first.pagination.pages;
  const worker = async (): Promise<void> => {
    while (more && next <= lastKnownPage) {
      const page = next++;
      const { items, pagination } = await client.browse(resource, { ...options, limit: PAGE_SIZE, page });
      pages[page - 1] = items;
      if (page === lastKnownPage) more = pagination.next !== null;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // The set grew while it was read: read on, one page at a time, until Ghost says there is no more.
  let page = lastKnownPage + 1;
  while (more) {
    const { items, pagination } = await client.browse(resource, { ...options, limit: PAGE_SIZE, page });
    pages[page - 1] = items;
    more = pagination.next !== null;
    page++;
  }
  const seen = new Set<string>();
  return pages.flat().filter((item) => !seen.has(item.id) && seen.add(item.id));
}
