import { ConfigError } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const minimal = {
  SITE_URL: 'https://example.com/blog',
  CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL, E1ABCDEF234567',
  WEBHOOK_SECRET_ID: 'ghost/webhook-secret',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

describe('loadConfig', () => {
  it('refuses a webhook secret overlap shorter than Ghost retries a delivery (a minute)', () => {
    expect(problemsOf({ ...minimal, WEBHOOK_SECRET_OVERLAP_SECONDS: '20' }).join('\n')).toMatch(
      /WEBHOOK_SECRET_OVERLAP_SECONDS.*60/,
    );
    expect(problemsOf({ ...minimal, WEBHOOK_SECRET_OVERLAP_SECONDS: '60' })).toEqual([]);
  });

  it('reads a minimal environment with documented defaults', () => {
    expect(loadConfig(minimal)).toMatchObject({
      port: 3000,
      listenHost: '127.0.0.1',
      siteUrl: 'https://example.com/blog',
      distributionIds: ['E2QWRUHAPOMQZL', 'E1ABCDEF234567'],
      webhookSecretId: 'ghost/webhook-secret',
      allowUnsignedWebhooks: false,
      signatureToleranceMs: 300_000,
      windowMs: 5000,
      maxWaitMs: 30_000,
      echoWindowMs: 1000,
      maxPathsPerBatch: 300,
      maxWildcardsPerBatch: 10,
      journalDir: '/var/lib/cache-invalidator',
      ghostAdminUrl: 'https://example.com/blog',
      checkIntervalMs: 2000,
      checkTimeoutMs: 1000,
    });
  });

  it('listens where LISTEN_HOST says, an IP address', () => {
    expect(loadConfig({ ...minimal, LISTEN_HOST: '0.0.0.0' }).listenHost).toBe('0.0.0.0');
    expect(problemsOf({ ...minimal, LISTEN_HOST: 'localhost' })).toEqual([
      "'LISTEN_HOST' must be an IP address (got 'localhost'). E.g. LISTEN_HOST=127.0.0.1 (0.0.0.0: every interface)",
    ]);
  });

  it('wants the readiness check timeout shorter than its interval', () => {
    expect(problemsOf({ ...minimal, CHECK_INTERVAL_MS: '1000', CHECK_TIMEOUT_MS: '1000' })).toEqual([
      "'CHECK_TIMEOUT_MS' (1000) must be shorter than 'CHECK_INTERVAL_MS' (1000). E.g. CHECK_INTERVAL_MS=2000 CHECK_TIMEOUT_MS=1000",
    ]);
  });

  it('names a missing distribution list once, and a list of only commas as empty', () => {
    const { CLOUDFRONT_DISTRIBUTION_IDS: _ids, ...withoutIds } = minimal;
    expect(problemsOf(withoutIds)).toEqual([
      "'CLOUDFRONT_DISTRIBUTION_IDS' is required. E.g. CLOUDFRONT_DISTRIBUTION_IDS=E2QWRUHAPOMQZL,E1ABCDEF234567",
    ]);
    expect(problemsOf({ ...minimal, CLOUDFRONT_DISTRIBUTION_IDS: ' , ' })).toEqual([
      "'CLOUDFRONT_DISTRIBUTION_IDS' lists no id. E.g. CLOUDFRONT_DISTRIBUTION_IDS=E2QWRUHAPOMQZL",
    ]);
  });

  it('requires a signing secret unless unsigned webhooks are allowed explicitly', () => {
    const { WEBHOOK_SECRET_ID: _, ...unsigned } = minimal;
    expect(problemsOf(unsigned).join()).toMatch(/'WEBHOOK_SECRET' or 'WEBHOOK_SECRET_ID' is required/);
    expect(problemsOf({ ...unsigned, ALLOW_UNSIGNED_WEBHOOKS: 'true' })).toEqual([]);
    expect(problemsOf({ ...minimal, WEBHOOK_SECRET: 'x' }).join()).toMatch(/only one of 'WEBHOOK_SECRET'/);
  });

  it('reports every bad value at once, naming the variable and giving an example', () => {
    const problems = problemsOf({
      SITE_URL: 'example.com',
      CLOUDFRONT_DISTRIBUTION_IDS: 'arn:aws:cloudfront::1:distribution/E1',
      WEBHOOK_SECRET: 's',
      INVALIDATION_WINDOW_MS: 'soon',
      MAX_WILDCARDS_PER_BATCH: '16',
      REGISTER_WEBHOOKS_ON_START: 'true',
    });
    expect(problems.join('\n')).toMatch(/'SITE_URL' is not a URL.*E\.g\. SITE_URL=/);
    expect(problems.join('\n')).toMatch(/CLOUDFRONT_DISTRIBUTION_IDS.*not a distribution id/);
    expect(problems.join('\n')).toMatch(/'INVALIDATION_WINDOW_MS' is not a whole number/);
    expect(problems.join('\n')).toMatch(/'MAX_WILDCARDS_PER_BATCH' must be at most 15/);
    expect(problems.join('\n')).toMatch(/'PUBLIC_URL' is required with REGISTER_WEBHOOKS_ON_START/);
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('rejects a maximum wait shorter than the window', () => {
    expect(problemsOf({ ...minimal, INVALIDATION_WINDOW_MS: '5000', INVALIDATION_MAX_WAIT_MS: '1000' }).join()).toMatch(
      /INVALIDATION_MAX_WAIT_MS/,
    );
  });

  it('has no mirror unless MIRROR_BUCKET is set, and reads its settings with defaults', () => {
    expect(loadConfig(minimal).mirror).toBeUndefined();
    expect(loadConfig({ ...minimal, MIRROR_BUCKET: 'ghost-ha-mirror-123456789012-eu-central-1' }).mirror).toEqual({
      bucket: 'ghost-ha-mirror-123456789012-eu-central-1',
      region: undefined,
      prefix: 'site',
      originUrl: 'http://127.0.0.1:8080',
      concurrency: 2,
      fetchTimeoutMs: 10_000,
      buildOnEmpty: true,
      reconcileOnStart: true,
      reconcileIntervalMs: 86_400_000,
      maxPageBytes: 5 * 1024 * 1024,
      maxFileBytes: 256 * 1024 * 1024,
      maxCacheSeconds: 600,
      maxAttempts: 5,
      parkedRetryMs: 600_000,
      recheckGoneMs: 3_000,
      maxRemoveShare: 0.25,
    });
  });

  it('reads the `/*` budget, and wants the site-change period shorter than the readiness backlog limit', () => {
    expect(loadConfig(minimal)).toMatchObject({ siteChangedMinIntervalMs: 300_000, dailyPathBudget: 1000 });
    expect(problemsOf({ ...minimal, SITE_CHANGED_MIN_INTERVAL_MS: '900000' })).toEqual([
      "'SITE_CHANGED_MIN_INTERVAL_MS' (900000) must be shorter than READY_MAX_PENDING_AGE_SECONDS (900 s): a waiting site change would fail readiness. E.g. SITE_CHANGED_MIN_INTERVAL_MS=300000",
    ]);
    expect(problemsOf({ ...minimal, DAILY_INVALIDATION_PATH_BUDGET: 'lots' }).join()).toMatch(
      /'DAILY_INVALIDATION_PATH_BUDGET'.*E\.g\. DAILY_INVALIDATION_PATH_BUDGET=1000/,
    );
    expect(problemsOf({ ...minimal, MIRROR_BUCKET: 'b-u-c', MIRROR_MAX_REMOVE_SHARE: '2' }).join()).toMatch(
      /'MIRROR_MAX_REMOVE_SHARE'.*E\.g\. MIRROR_MAX_REMOVE_SHARE=0\.25/,
    );
  });

  it('reconciles the mirror daily by default; 0 turns it off, a full crawl more often than every 10 min is refused', () => {
    const mirror = { ...minimal, MIRROR_BUCKET: 'ghost-ha-mirror-123456789012-eu-central-1' };
    expect(loadConfig({ ...mirror, MIRROR_RECONCILE_INTERVAL_MS: '0' }).mirror?.reconcileIntervalMs).toBe(0);
    expect(problemsOf({ ...mirror, MIRROR_RECONCILE_INTERVAL_MS: '60000' })).toEqual([
      "'MIRROR_RECONCILE_INTERVAL_MS' has 60000: a full crawl at most every 10 minutes (600000), or 0 for none. E.g. MIRROR_RECONCILE_INTERVAL_MS=86400000",
    ]);
  });

  it('names a bad mirror bucket, prefix or concurrency with an example', () => {
    const problems = problemsOf({
      ...minimal,
      MIRROR_BUCKET: 'Not_A_Bucket',
      MIRROR_PREFIX: 'a/b',
      MIRROR_CONCURRENCY: '0',
    });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toContain("'MIRROR_BUCKET' has 'Not_A_Bucket'");
    expect(problems.join('\n')).toContain("'MIRROR_PREFIX' must be one path segment");
    expect(problems.join('\n')).toContain('MIRROR_CONCURRENCY');
  });
});
