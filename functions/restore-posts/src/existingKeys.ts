import { quoteNql } from '@ghost-ha/content';
import type { ContentResource, GhostAdminClient } from '@ghost-ha/core';

/** Slugs/uuids per existence query: keeps the NQL filter short. */
const LOOKUP_CHUNK = 50;

/** `slug:<slug>` and `uuid:<uuid>` of every given item that the site already has. */
export async function existingKeys(
  client: GhostAdminClient,
  resource: ContentResource,
  items: readonly { slug?: string; uuid?: string | undefined }[],
): Promise<Set<string>> {
  const keys = new Set<string>();
  for (let start = 0; start < items.length; start += LOOKUP_CHUNK) {
    const chunk = items.slice(start, start + LOOKUP_CHUNK);
    const slugs = chunk.flatMap((item) => (item.slug ? [quoteNql(item.slug)] : []));
    const uuids = chunk.flatMap((item) => (item.uuid ? [quoteNql(item.uuid)] : []));
    const filter = [
      ...(slugs.length > 0 ? [`slug:[${slugs.join(',')}]`] : []),
      ...(uuids.length > 0 ? [`uuid:[${uuids.join(',')}]`] : []),
    ].join(',');
    if (filter === '') continue;
    for await (const page of client.browseAll(resource, { filter, fields: 'id,slug,uuid' })) {
      for (const found of page) {
        keys.add(`slug:${found.slug}`);
        if (found.uuid) keys.add(`uuid:${found.uuid}`);
      }
    }
  }
  return keys;
}
