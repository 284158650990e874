import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger, SecretsLoader } from '@ghost-ha/core';
import { makeTemporaryDirectory } from '@ghost-ha/testbed';
import { CacheInvalidator, type CacheInvalidatorDeps } from '../../src/CacheInvalidator.js';
import { loadConfig } from '../../src/config.js';
import { readWebhookSecretVersions, resolveSecrets } from '../../src/resolveSecrets.js';

/** Short windows and retries, so tests run in seconds. */
export const FAST_SETTINGS: Record<string, string> = {
  PORT: '0',
  INVALIDATION_WINDOW_MS: '200',
  INVALIDATION_MAX_WAIT_MS: '1000',
  SITE_CHANGED_ECHO_WINDOW_MS: '400',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '200',
  BUSY_RETRY_DELAY_MS: '100',
  PERMANENT_ERROR_RETRY_DELAY_MS: '300',
  SHUTDOWN_GRACE_MS: '500',
  CHECK_INTERVAL_MS: '100',
  CHECK_TIMEOUT_MS: '80',
  // Every lone site.changed is `/*` at once, as the end-to-end tests of each change expect;
  // tests/siteChangedBudget.test.ts sets the period it tests.
  SITE_CHANGED_MIN_INTERVAL_MS: '0',
};

/** A CloudFront client aimed where nothing listens (port 9): every send fails at once as a network error. */
export function unreachableCloudFront(): CloudFrontClient {
  return new CloudFrontClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** A journal directory, removed after the test file (by the Vitest setup). */
export async function newJournalDir(): Promise<string> {
  return makeTemporaryDirectory('cache-invalidator-journal-');
}

/** The real service on a free port of 127.0.0.1, configured as in production through its env reader. */
export async function startInvalidator(
  env: Record<string, string>,
  cloudFront: CloudFrontClient,
  /** Swaps side effects: the journal's file system, the mirror's S3 client. */
  deps: Partial<CacheInvalidatorDeps> = {},
): Promise<CacheInvalidator> {
  const config = loadConfig({ ...FAST_SETTINGS, JOURNAL_DIR: await newJournalDir(), ...env });
  const loader = new SecretsLoader({ client: new SecretsManagerClient({}) });
  const resolved = await resolveSecrets(config, () => loader);
  const logger = createLogger({ service: 'cache-invalidator-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const secretId = config.webhookSecretId;
  return CacheInvalidator.start(resolved, {
    logger,
    cloudFront,
    host: '127.0.0.1',
    ...(secretId ? { readWebhookSecret: () => readWebhookSecretVersions(loader, secretId) } : {}),
    ...deps,
  });
}
