import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CapturedWebhook {
  step: string;
  event: string;
  receivedAt: number;
  body: unknown;
}

/**
 * Webhooks recorded from a real Ghost 5.130.6 by bench/cache-invalidator/captureGhostPayloads.ts:
 * a post published with tags, edited, renamed, retagged, unpublished, republished, deleted; a page;
 * a tag renamed, re-slugged and described; a site setting; a bulk delete.
 */
export const captured = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ghost-webhooks.json'), 'utf8'),
) as { ghostVersion: string; siteUrl: string; captured: CapturedWebhook[] };

export function webhookOf(step: string, event: string): CapturedWebhook {
  const found = captured.captured.find((c) => c.step === step && c.event === event);
  if (!found) throw new Error(`no captured ${event} for step '${step}'`);
  return found;
}

/** The listing paths every post change invalidates on a site at the domain root, sorted. */
export const LISTINGS: readonly string[] = [
  '/',
  '/page/*',
  '/rss/',
  '/sitemap-authors.xml',
  '/sitemap-posts.xml',
  '/sitemap-tags.xml',
  '/sitemap.xml',
];
