import type { ContentBackup, GhostExport, GhostSite } from '@ghost-ha/content';
import { type ContentResource, type GhostAdminClient, GhostApiError } from '@ghost-ha/core';
import { existingKeys } from './existingKeys.js';
import { importFile } from './importFile.js';

const EVERY_STATUS = 'status:[published,draft,scheduled,sent]';
const RESOURCE_OF: Record<string, ContentResource> = { post: 'posts', page: 'pages' };
/** Ghost tags every imported post with `#Import <site-local time>`; this finds that tag again. */
const IMPORT_TAG = /^#Import \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/;
const POLL_MS = 500;

export interface ImportOutcome {
  /** Backed-up posts the site lacked (by uuid): imported, or in a dry run to be imported. */
  missing: number;
  present: number;
  /** Missing before, present now. */
  restored: number;
  /** False when the time ran out before Ghost finished the import. */
  finished: boolean;
  notes: string[];
  errors: string[];
}

export interface ImportRestoreOptions {
  site: GhostSite & { db: NonNullable<GhostSite['db']> };
  backup: ContentBackup & { ghostExport: GhostExport };
  dryRun: boolean;
  outOfTime: () => boolean;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Restores an export backup through Ghost's own import: the posts the site lacks (matched by uuid,
 * which the import keeps) go in one file; Ghost imports it in the background in one transaction, so
 * the posts appear together; this waits for them, then deletes the `#Import` tag Ghost attached.
 */
export async function restoreByImport(options: ImportRestoreOptions): Promise<ImportOutcome> {
  const { site, backup, dryRun, outOfTime, now } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const rows = backup.ghostExport.data.posts ?? [];
  const missingIds = new Set<string>();
  const outcome: ImportOutcome = { missing: 0, present: 0, restored: 0, finished: true, notes: [], errors: [] };
  const missingUuids = new Map<ContentResource, string[]>();
  for (const resource of ['posts', 'pages'] as const) {
    const items = rows.filter((row) => RESOURCE_OF[String(row.type)] === resource);
    if (items.length === 0) continue;
    const keys = await existingKeys(
      site.client,
      resource,
      items.map((row) => ({ slug: String(row.slug), uuid: String(row.uuid) })),
    );
    for (const row of items) {
      if (keys.has(`uuid:${row.uuid}`)) {
        outcome.present++;
        continue;
      }
      missingIds.add(String(row.id));
      missingUuids.set(resource, [...(missingUuids.get(resource) ?? []), String(row.uuid)]);
      if (keys.has(`slug:${row.slug}`)) {
        outcome.notes.push(
          `${resource} '${row.slug}': another post now has this slug; Ghost gives the restored one a new slug`,
        );
      }
    }
  }
  outcome.missing = missingIds.size;
  if (dryRun || missingIds.size === 0) return outcome;

  const countAll = async (): Promise<number> =>
    (await site.client.count('posts', EVERY_STATUS)) + (await site.client.count('pages', EVERY_STATUS));
  const before = await countAll();
  const startedAt = now();
  await site.db.import(importFile(backup.ghostExport, missingIds), `restore-${startedAt}.json`);
  // One transaction: the count jumps when Ghost commits. On SQLite (one connection) Ghost answers
  // nothing until then, so a poll that times out or fails means "still importing".
  const importedAll = async (): Promise<boolean> => {
    try {
      return (await countAll()) >= before + missingIds.size;
    } catch (error) {
      if (error instanceof GhostApiError && (error.status === undefined || error.status >= 500)) return false;
      throw error;
    }
  };
  while (!(await importedAll())) {
    if (outOfTime()) {
      outcome.finished = false;
      break;
    }
    await sleep(POLL_MS);
  }
  for (const [resource, uuids] of missingUuids) {
    const keys = await existingKeys(
      site.client,
      resource,
      uuids.map((uuid) => ({ uuid })),
    );
    outcome.restored += uuids.filter((uuid) => keys.has(`uuid:${uuid}`)).length;
  }
  if (outcome.finished) await removeImportTag(site.client, startedAt, outcome);
  return outcome;
}

/** Deletes the `#Import …` tag Ghost created for this import (its posts keep their own tags). */
async function removeImportTag(client: GhostAdminClient, startedAt: number, outcome: ImportOutcome): Promise<void> {
  try {
    const response = (await client.request('GET', '/tags/', {
      params: { filter: 'visibility:internal', limit: 'all', fields: 'id,name,created_at' },
    })) as { tags?: { id: string; name: string; created_at: string }[] };
    const ours = (response.tags ?? []).filter(
      (tag) => IMPORT_TAG.test(tag.name) && Date.parse(tag.created_at) >= startedAt - 60_000,
    );
    for (const tag of ours) await client.request('DELETE', `/tags/${tag.id}/`);
  } catch (error) {
    outcome.errors.push(
      `removing Ghost's '#Import' tag from the restored posts failed (delete it in Ghost Admin → Tags → Internal): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
