import type { GhostAdminClient } from '@ghost-ha/core';

/** The site's content as records of what must survive an upgrade unchanged, per resource. */
export type ContentSnapshot = Record<SnapshotResource, Record<string, string>>;

export type SnapshotResource = 'posts' | 'pages' | 'tags' | 'members' | 'tiers' | 'newsletters';

/**
 * For each resource, the fields compared before and after (what a release adds or renders anew,
 * such as HTML from a newer renderer, is left out). Relations are reduced to their slugs/emails.
 */
const FIELDS: Record<SnapshotResource, { path: string; query: string; fields: readonly string[] }> = {
  posts: {
    path: '/posts/',
    query: 'filter=status:[draft,published,scheduled,sent]&include=tags,authors,tiers',
    fields: ['uuid', 'slug', 'title', 'status', 'visibility', 'published_at', 'featured', 'tags', 'authors', 'tiers'],
  },
  pages: { path: '/pages/', query: 'include=tags', fields: ['uuid', 'slug', 'title', 'status', 'visibility', 'tags'] },
  tags: {
    path: '/tags/',
    query: 'filter=visibility:[public,internal]',
    fields: ['slug', 'name', 'description', 'visibility'],
  },
  members: { path: '/members/', query: 'include=labels', fields: ['email', 'name', 'status', 'newsletters', 'labels'] },
  tiers: {
    path: '/tiers/',
    query: '',
    fields: ['slug', 'name', 'type', 'active', 'monthly_price', 'yearly_price', 'currency'],
  },
  newsletters: { path: '/newsletters/', query: '', fields: ['slug', 'name', 'status', 'subscribe_on_signup'] },
};

/** Reads every record of every resource, 100 a page (Ghost 6's cap), through the Admin API. */
export async function contentSnapshot(admin: GhostAdminClient): Promise<ContentSnapshot> {
  const snapshot = {} as ContentSnapshot;
  for (const [resource, spec] of Object.entries(FIELDS) as [SnapshotResource, (typeof FIELDS)[SnapshotResource]][]) {
    const records: Record<string, string> = {};
    for (let page = 1; page > 0 && page <= 1000; ) {
      const query = `${spec.query}${spec.query ? '&' : ''}limit=100&page=${page}`;
      const answer = (await admin.request('GET', `${spec.path}?${query}`)) as Record<string, unknown>;
      const items = (answer[resource] ?? []) as Record<string, unknown>[];
      for (const item of items) {
        records[String(item.id)] = JSON.stringify(spec.fields.map((field) => [field, normalize(item[field])]));
      }
      const next = (answer.meta as { pagination?: { next?: number | null } } | undefined)?.pagination?.next;
      page = typeof next === 'number' ? next : 0;
    }
    snapshot[resource] = records;
  }
  return snapshot;
}

/** Per resource: how many records before and after, and each record that differs or is missing. */
export interface SnapshotComparison {
  readonly counts: Record<SnapshotResource, { before: number; after: number; equal: number }>;
  readonly differences: string[];
}

export function compareSnapshots(before: ContentSnapshot, after: ContentSnapshot): SnapshotComparison {
  const counts = {} as SnapshotComparison['counts'];
  const differences: string[] = [];
  for (const resource of Object.keys(FIELDS) as SnapshotResource[]) {
    const a = before[resource];
    const b = after[resource];
    let equal = 0;
    for (const [id, record] of Object.entries(a)) {
      const other = b[id];
      if (other === undefined) differences.push(`${resource} ${id} missing after: ${record}`);
      else if (other !== record) differences.push(`${resource} ${id} changed: ${record} → ${other}`);
      else equal++;
    }
    for (const id of Object.keys(b)) if (!(id in a)) differences.push(`${resource} ${id} new after: ${b[id]}`);
    counts[resource] = { before: Object.keys(a).length, after: Object.keys(b).length, equal };
  }
  return { counts, differences };
}

/** One line per resource: `posts 12 before, 12 after, 12 equal`. */
export function formatComparison(comparison: SnapshotComparison): string {
  return Object.entries(comparison.counts)
    .map(([resource, c]) => `${resource.padEnd(12)} ${c.before} before, ${c.after} after, ${c.equal} equal`)
    .join('\n');
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .map((entry) => {
        const record = entry as Record<string, unknown>;
        return String(record.slug ?? record.email ?? record.name ?? record.id ?? entry);
      })
      .sort();
  }
  return value ?? null;
}
