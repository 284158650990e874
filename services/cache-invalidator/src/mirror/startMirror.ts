import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { GhostAdminClient, type Logger, type Registry, summarizeError } from '@ghost-ha/core';
import type { MirrorSettings } from '../config.js';
import type { SitePaths } from '../sitePaths.js';
import { createMirrorMetrics } from './createMirrorMetrics.js';
import { MAX_REDIRECTS_DOWNLOAD_BYTES } from './edgeRedirectsOf.js';
import type { RefreshJob } from './MirrorJournalRecord.js';
import { reconcileJob } from './MirrorReconciler.js';
import { type JobStats, MirrorRefresher, type PathEvent } from './MirrorRefresher.js';
import { MirrorStore } from './MirrorStore.js';
import { PageFetcher } from './PageFetcher.js';
import { readGhostRedirectsFile } from './readGhostRedirectsFile.js';

export interface MirrorDeps {
  settings: MirrorSettings;
  s3: S3Client;
  site: SitePaths;
  siteUrl: string;
  /** The service's journal directory; the mirror keeps its own journal in `<dir>/<journalName>`. */
  journalDir: string;
  journalName?: string;
  retry: { baseDelayMs: number; maxDelayMs: number };
  /**
   * Ghost's Admin API (GHOST_ADMIN_URL and GHOST_ADMIN_API_KEY), for Ghost's redirects when
   * MIRROR_GHOST_CONTENT_PATH is unset. Ghost answers the download to a staff token only (an
   * integration key gets 403); unset, and no content path: Ghost's redirects are not mirrored.
   */
  ghostAdmin?: { url: string; adminApiKey: string } | undefined;
  logger: Logger;
  registry?: Registry;
  now?: () => number;
  random?: () => number;
  /** Each path landed, e.g. for a progress display. */
  onPath?: (event: PathEvent) => void;
  onJobFinished?: (job: RefreshJob, stats: JobStats) => void;
}

/**
 * An S3 client for the mirror bucket. `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` point it at a
 * stand-in (path-style addressing then); the refresher retries, so the SDK does not.
 */
export function createMirrorS3Client(
  settings: MirrorSettings,
  env: Readonly<Record<string, string | undefined>>,
): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000 },
    ...(settings.region ? { region: settings.region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}

/** The mirror's parts wired together: store, fetcher through the gate, journaled refresher with metrics. */
export async function startMirror(deps: MirrorDeps): Promise<{ refresher: MirrorRefresher; store: MirrorStore }> {
  const { settings } = deps;
  const now = deps.now ?? Date.now;
  const store = new MirrorStore({ client: deps.s3, bucket: settings.bucket, prefix: settings.prefix });
  const fetcher = new PageFetcher({
    originUrl: settings.originUrl,
    siteUrl: deps.siteUrl,
    timeoutMs: settings.fetchTimeoutMs,
    maxPageBytes: settings.maxPageBytes,
    maxFileBytes: settings.maxFileBytes,
    maxCacheSeconds: settings.maxCacheSeconds,
  });
  const admin = deps.ghostAdmin
    ? new GhostAdminClient({ ...deps.ghostAdmin, timeoutMs: settings.fetchTimeoutMs })
    : undefined;
  let refresher: MirrorRefresher | undefined;
  const metrics = deps.registry ? createMirrorMetrics(deps.registry, () => refresher, now) : undefined;
  refresher = await MirrorRefresher.start({
    journalDir: join(deps.journalDir, deps.journalName ?? 'mirror'),
    store,
    fetcher,
    site: deps.site,
    siteUrl: deps.siteUrl,
    concurrency: settings.concurrency,
    retry: deps.retry,
    maxAttempts: settings.maxAttempts,
    parkedRetryMs: settings.parkedRetryMs,
    recheckGoneMs: settings.recheckGoneMs,
    maxRemoveShare: settings.maxRemoveShare,
    ...(settings.ghostContentPath
      ? {
          downloadRedirects: () =>
            readGhostRedirectsFile(settings.ghostContentPath ?? '', MAX_REDIRECTS_DOWNLOAD_BYTES),
        }
      : admin
        ? {
            downloadRedirects: () =>
              admin.requestText('GET', '/redirects/download/', { maxBytes: MAX_REDIRECTS_DOWNLOAD_BYTES }),
          }
        : {}),
    logger: deps.logger,
    now,
    ...(deps.random ? { random: deps.random } : {}),
    onPath: (event) => {
      metrics?.paths.inc({ result: event.result });
      deps.onPath?.(event);
    },
    onError: (kind) => metrics?.errors.inc({ kind }),
    onMerged: () => metrics?.merged.inc(),
    onJobFinished: (job, stats) => {
      metrics?.freshness.observe({ source: job.source }, (now() - job.changedAt) / 1000);
      deps.onJobFinished?.(job, stats);
    },
  });
  return { refresher, store };
}

/**
 * What a start crawls. An empty mirror (first start) is built from the sitemaps when `buildOnEmpty`;
 * a mirror that holds pages is reconciled when `reconcileOnStart`: the invalidator starts in a region
 * after every failover, and jobs journaled in the old region may not have reached this one. Runs in
 * the background, retrying while S3 is unreachable; merged into a full crawl already queued.
 */
export async function crawlOnStart(
  refresher: MirrorRefresher,
  store: MirrorStore,
  logger: Logger,
  options: { buildOnEmpty: boolean; reconcileOnStart: boolean },
  now: () => number = Date.now,
): Promise<void> {
  const log = logger.child({ module: 'startMirror' });
  if (!options.buildOnEmpty && !options.reconcileOnStart) return;
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      const empty = await store.isEmpty();
      const at = now();
      if (empty && options.buildOnEmpty && refresher.depth === 0) {
        log.info('the mirror is empty: building it from the sitemaps');
        await refresher.enqueue({ id: `build-${at}`, changedAt: at, paths: [], everything: true, source: 'build' });
      } else if (!empty && options.reconcileOnStart) {
        log.info('the mirror holds pages: reconciling it with Ghost (full crawl)');
        await refresher.enqueue(reconcileJob(at));
      }
      return;
    } catch (error) {
      log.warn({ error: summarizeError(error), attempt }, 'could not check whether the mirror is empty; retrying');
      await new Promise((resolve) => setTimeout(resolve, 10_000).unref());
    }
  }
}
