import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, createLogger, type MainContext, runMain, SecretsLoader } from '@ghost-ha/core';
import { loadConfig } from './config.js';
import type { PathResult } from './mirror/MirrorRefresher.js';
import { createMirrorS3Client, startMirror } from './mirror/startMirror.js';
import { resolveAdminApiKey } from './resolveSecrets.js';
import { SitePaths } from './sitePaths.js';

/**
 * The full build: every page Ghost's sitemaps list, `/`, the listings with their pages, the feeds,
 * and the assets they load, into the mirror bucket; removed pages leave it. Reads the service's
 * settings; keeps its progress in `<JOURNAL_DIR>/mirror-build`, so an interrupted build resumes where it
 * stopped when run again. `--concurrency` bounds the pages fetched at once (default MIRROR_CONCURRENCY).
 */
const logger = createLogger({ service: 'cache-invalidator', level: process.env.LOG_LEVEL ?? 'info' });
const log = logger.child({ module: 'buildMirror' });
const PROGRESS_EVERY_MS = 2_000;

/** The command line; an unknown option or a missing value is a usage error like a bad setting. */
function readArguments() {
  try {
    return parseArgs({ options: { concurrency: { type: 'string' } } });
  } catch (error) {
    throw new ConfigError([`${(error as Error).message}. E.g. build-mirror --concurrency 4`], { cause: error });
  }
}

async function main({ onStop }: MainContext): Promise<number> {
  const { values } = readArguments();
  const config = loadConfig(process.env);
  if (!config.mirror) {
    throw new ConfigError([
      "'MIRROR_BUCKET' is required to build the mirror. E.g. MIRROR_BUCKET=ghost-ha-mirror-123456789012-eu-central-1",
    ]);
  }
  const concurrency = values.concurrency === undefined ? config.mirror.concurrency : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new ConfigError([
      `'--concurrency' must be a whole number from 1 to 32 (got '${values.concurrency}'). E.g. --concurrency 4`,
    ]);
  }
  const settings = { ...config.mirror, concurrency };
  // Ghost's redirects for the edge need the Admin API key; without one the build leaves them out.
  const adminApiKey = await resolveAdminApiKey(
    config,
    () => new SecretsLoader({ client: new SecretsManagerClient({}) }),
  );
  const started = Date.now();
  let done = 0;
  let known = 0;
  const counts: Record<PathResult, number> = {
    written: 0,
    removed: 0,
    personal: 0,
    present: 0,
    unchanged: 0,
    refused: 0,
    parked: 0,
    guarded: 0,
    kept: 0,
  };
  const { refresher } = await startMirror({
    settings,
    s3: createMirrorS3Client(settings, process.env),
    site: new SitePaths(config.siteUrl),
    siteUrl: config.siteUrl,
    journalDir: config.journalDir,
    journalName: 'mirror-build',
    ghostAdmin: adminApiKey ? { url: config.ghostAdminUrl, adminApiKey } : undefined,
    retry: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
    logger,
    onPath: (event) => {
      done = event.done;
      known = event.known;
      counts[event.result]++;
    },
  });
  const resumed = refresher.depth > 0;
  if (!resumed) {
    await refresher.enqueue({
      id: `build-${started}`,
      changedAt: started,
      paths: [],
      everything: true,
      source: 'build',
    });
  }
  log.info({ bucket: settings.bucket, prefix: settings.prefix, concurrency, resumed }, 'building the mirror');
  const progress = setInterval(() => {
    const seconds = (Date.now() - started) / 1000;
    log.info({ done, known, ...counts, perSecond: Math.round((done / seconds) * 10) / 10 }, 'mirror build progress');
  }, PROGRESS_EVERY_MS);
  let interrupted = false;
  // Stopping the refresher ends the loop below, which returns 130: the build's own exit code.
  onStop(async () => {
    interrupted = true;
    log.warn('interrupted: run the command again to resume');
    await refresher.stop();
  });
  while (!interrupted && !(await refresher.idle(1_000))) {
    // waiting for the build to finish
  }
  clearInterval(progress);
  if (interrupted) return 130;
  await refresher.stop();
  log.info({ paths: done, ...counts, seconds: Math.round((Date.now() - started) / 100) / 10 }, 'mirror built');
  return 0;
}

void runMain({ name: 'build-mirror', logger, failure: 'the mirror build failed', main });
