import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ConfigError,
  createRegistry,
  HealthMonitor,
  type Logger,
  type Registry,
  type RenderedReport,
  summarizeError,
} from '@ghost-ha/core';
import type { ResolvedConfig } from './config.js';
import { createApp } from './createApp.js';
import { createMetrics, type InvalidatorMetrics } from './createMetrics.js';
import { createWebhookHandler } from './createWebhookHandler.js';
import { DistributionCheck } from './DistributionCheck.js';
import { DistributionSender } from './DistributionSender.js';
import { InvalidationQueue } from './InvalidationQueue.js';
import { Journal } from './Journal.js';
import { JournalCheck } from './JournalCheck.js';
import type { JournalFileSystem } from './JournalFileSystem.js';
import type { Batch, JournalRecord } from './JournalRecord.js';
import { ManualInvalidation } from './ManualInvalidation.js';
import type { ManualRequest, ManualRequests, ManualResult } from './ManualRequests.js';
import { MirrorCheck } from './mirror/MirrorCheck.js';
import { MirrorReconciler } from './mirror/MirrorReconciler.js';
import type { MirrorRefresher } from './mirror/MirrorRefresher.js';
import { crawlOnStart, startMirror } from './mirror/startMirror.js';
import { PathBudget } from './PathBudget.js';
import { PendingAgeCheck } from './PendingAgeCheck.js';
import { QuarantineCheck } from './QuarantineCheck.js';
import type { ReadinessSource } from './ReadinessSource.js';
import { DEFAULT_REPLAY_MEMORY, RecentSignatures } from './RecentSignatures.js';
import { SignatureLog } from './SignatureLog.js';
import { INVALIDATOR_LOG } from './signals.js';
import { SitePaths } from './sitePaths.js';
import { type RunningHttpServer, startHttpServer } from './startHttpServer.js';
import { WebhookReceiver } from './WebhookReceiver.js';
import type { WebhookDelivery, WebhookReceiving } from './WebhookReceiving.js';
import { WebhookSecrets, type WebhookSecretVersions } from './WebhookSecrets.js';

export interface CacheInvalidatorDeps {
  logger: Logger;
  cloudFront: CloudFrontClient;
  now?: () => number;
  random?: () => number;
  /** Host to listen on; default `config.listenHost` (LISTEN_HOST, loopback). */
  host?: string;
  /** The journal's file operations; default node:fs (tests pass a fault-injecting layer). */
  fileSystem?: JournalFileSystem;
  /** The mirror bucket's client; required when `config.mirror` is set. */
  s3?: S3Client;
  /** Reads the webhook secret's versions afresh (WEBHOOK_SECRET_ID); unset: `config.webhookSecret` never changes. */
  readWebhookSecret?: () => Promise<WebhookSecretVersions>;
  /** After a rotation is seen, with the new secret: updates Ghost's webhooks (main.ts); `false`: try again. */
  onWebhookSecretRotated?: (secret: string) => Promise<boolean>;
  /** A delivery verified with the previous secret, with its signed time (main.ts: GhostWebhookSecretKeeper). */
  onPreviousSecretDelivery?: (event: string, signedAtMs: number) => void;
}

/** The pieces that exist once the journal is open. */
interface Parts {
  journal: Journal<JournalRecord>;
  signatureLog: SignatureLog;
  queue: InvalidationQueue;
  webhooks: WebhookReceiver;
  secrets: WebhookSecrets | undefined;
  manual: ManualInvalidation;
  readiness: HealthMonitor;
  server: RunningHttpServer;
}

/**
 * The service: receives Ghost webhooks and manual requests, journals them, coalesces them into
 * batches and sends each batch to every distribution until CloudFront accepts it. This class only
 * puts the pieces together and starts and stops them in order.
 */
export class CacheInvalidator implements WebhookReceiving, ManualRequests, ReadinessSource {
  readonly registry: Registry;
  readonly metrics: InvalidatorMetrics;
  readonly site: SitePaths;
  readonly #config: ResolvedConfig;
  readonly #deps: CacheInvalidatorDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  #parts: Parts | undefined;
  readonly #senders = new Map<string, DistributionSender>();
  #stopping = false;
  #mirror: MirrorRefresher | undefined;
  #reconciler: MirrorReconciler | undefined;
  readonly #budget: PathBudget;

  private constructor(config: ResolvedConfig, deps: CacheInvalidatorDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#budget = new PathBudget(config.dailyPathBudget, this.#now);
    this.#log = deps.logger.child({ module: 'CacheInvalidator' });
    this.site = new SitePaths(config.siteUrl);
    this.registry = createRegistry({ service: 'cache-invalidator' });
    this.metrics = createMetrics(
      this.registry,
      () => {
        const queue = this.#parts?.queue;
        return (
          queue && {
            depth: queue.depth,
            oldestPendingAt: () => queue.oldestPendingAt(),
            permanentFailures: () => [...this.#senders.values()].filter((sender) => sender.permanentFailure).length,
            waitingSiteChanges: queue.waitingSiteChanges,
            pathsToday: this.#budget.pathsToday,
            pathBudgetExceeded: this.#budget.exceeded,
            quarantinedPaths: () => queue.quarantined.reduce((sum, entry) => sum + entry.paths.length, 0),
          }
        );
      },
      this.#now,
    );
  }

  /** Opens the journal, resumes pending work, and listens on `config.port` (0 picks a free port). */
  static async start(config: ResolvedConfig, deps: CacheInvalidatorDeps): Promise<CacheInvalidator> {
    const service = new CacheInvalidator(config, deps);
    await service.#open();
    return service;
  }

  get port(): number {
    return this.#parts?.server.port ?? 0;
  }

  get #started(): Parts {
    if (!this.#parts) throw new Error('the cache invalidator has not started');
    return this.#parts;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Events not yet in a batch (lone site.changed waiting for the next `/*` included), and unsent batches. */
  get queueDepth(): { events: number; batches: number } {
    return this.#started.queue.depth;
  }

  /** The webhook secret in force (the newest seen); undefined when unsigned webhooks are taken. */
  get webhookSecret(): string | undefined {
    return this.#started.secrets?.current;
  }

  /** The mirror's refresher, when MIRROR_BUCKET is set. */
  get mirror(): MirrorRefresher | undefined {
    return this.#mirror;
  }

  /** One webhook delivery: verified, planned, journaled; resolves once it is durable. */
  receiveWebhook(delivery: WebhookDelivery): Promise<{ id: string; paths: string[] }> {
    return this.#started.webhooks.receiveWebhook(delivery);
  }

  /** A manual request: the bearer token, then the paths; sent at once. */
  requestManual(request: ManualRequest): Promise<ManualResult> {
    return this.#started.manual.requestManual(request);
  }

  /** The last round of the readiness checks, as `/health` and `/health/ready` serve it. */
  get health(): RenderedReport {
    return this.#started.readiness.current;
  }

  async #open(): Promise<void> {
    const config = this.#config;
    const { logger } = this.#deps;
    if (!config.webhookSecret?.trim()) {
      // resolveSecrets refuses this already; a caller that skipped it must not get verification off.
      if (!config.allowUnsignedWebhooks) {
        throw new ConfigError([
          "'WEBHOOK_SECRET' or 'WEBHOOK_SECRET_ID' must give a non-blank secret (or ALLOW_UNSIGNED_WEBHOOKS=true). E.g. WEBHOOK_SECRET_ID=ghost-ha/webhook",
        ]);
      }
      this.#log.warn(INVALIDATOR_LOG.unsignedWebhooks);
    }
    const { journal, records, skipped } = await Journal.open<JournalRecord>(
      config.journalDir,
      this.#deps.fileSystem ? { fileSystem: this.#deps.fileSystem } : {},
    );
    if (skipped.length > 0) {
      // A torn last record is what a crash mid-write leaves (its request was never answered 2xx).
      this.metrics.journalSkippedRecords.inc(skipped.length);
      this.#log.warn(
        { skipped: skipped.slice(0, 20), skippedCount: skipped.length, records: records.length },
        INVALIDATOR_LOG.journalSkipped,
      );
    }
    const queue = new InvalidationQueue({
      journal,
      distributionIds: config.distributionIds,
      windowMs: config.windowMs,
      maxWaitMs: config.maxWaitMs,
      echoWindowMs: config.echoWindowMs,
      siteChangedMinIntervalMs: config.siteChangedMinIntervalMs,
      limits: {
        everything: this.site.everything,
        wildcardThreshold: config.wildcardThreshold,
        maxPaths: config.maxPathsPerBatch,
        maxWildcards: config.maxWildcardsPerBatch,
      },
      now: this.#now,
      logger,
      onBatch: (batch, recovered) => {
        this.#refreshMirror(batch);
        for (const sender of this.#senders.values()) {
          if (batch.targets && !batch.targets.includes(sender.distributionId)) continue;
          if (batch.sent[sender.distributionId] === undefined) sender.enqueue(batch, recovered);
        }
      },
    });
    for (const distributionId of config.distributionIds) {
      this.#senders.set(distributionId, this.#createSender(distributionId, queue));
    }
    await this.#openMirror();
    const restored = await queue.restore(records);
    if (restored.events + restored.batches > 0) this.#log.info(restored, INVALIDATOR_LOG.resuming);

    const secrets = config.webhookSecret?.trim()
      ? new WebhookSecrets({
          initial: config.webhookSecret,
          ...(this.#deps.readWebhookSecret ? { read: this.#deps.readWebhookSecret } : {}),
          overlapMs: config.webhookSecretOverlapMs,
          reloadIntervalMs: config.webhookSecretReloadMs,
          onReload: (result) => this.metrics.webhookSecretReloads.inc({ result }),
          ...(this.#deps.onWebhookSecretRotated ? { onRotated: this.#deps.onWebhookSecretRotated } : {}),
          now: this.#now,
          logger,
        })
      : undefined;
    // The first read also finds AWSPREVIOUS, so a restart during a rotation's overlap loses nothing.
    await secrets?.reload();
    secrets?.start();
    // Accepted signatures survive a restart, so a captured delivery cannot be replayed after one.
    const recentSignatures = new RecentSignatures({
      toleranceMs: config.signatureToleranceMs,
      maxEntries: DEFAULT_REPLAY_MEMORY,
    });
    const signatureLog = await SignatureLog.open({
      dir: config.journalDir,
      recent: recentSignatures,
      ...(this.#deps.fileSystem ? { fileSystem: this.#deps.fileSystem } : {}),
      logger,
      now: this.#now,
    });
    const webhooks = new WebhookReceiver({
      site: this.site,
      queue,
      metrics: this.metrics,
      webhookSecrets: secrets,
      signatureToleranceMs: config.signatureToleranceMs,
      ...(this.#deps.onPreviousSecretDelivery ? { onPreviousSecretDelivery: this.#deps.onPreviousSecretDelivery } : {}),
      recentSignatures,
      signatureLog,
      now: this.#now,
    });
    const manual = new ManualInvalidation({
      token: config.manualToken,
      site: this.site,
      queue,
      metrics: this.metrics,
      now: this.#now,
    });
    // The mirror's check only warns: an S3 outage or a parked page must not take invalidations down.
    const readiness = new HealthMonitor({
      checks: [
        new JournalCheck(journal),
        ...(this.#mirror ? [new MirrorCheck(this.#mirror)] : []),
        new PendingAgeCheck({ queue, maxAgeMs: config.readyMaxPendingAgeMs, now: this.#now }),
        new QuarantineCheck(queue),
        ...[...this.#senders.values()].map((sender) => new DistributionCheck(sender)),
      ],
      description: 'Ghost webhooks to CloudFront invalidations (ghost-ha cache-invalidator)',
      intervalMs: config.checkIntervalMs,
      timeoutMs: config.checkTimeoutMs,
      now: this.#now,
      observer: this.metrics.health,
      logger,
    });
    // The first round completes before the port opens, so the first probe sees a real verdict.
    await readiness.runRound();
    readiness.start();
    const server = await startHttpServer({
      port: config.port,
      host: this.#deps.host ?? config.listenHost,
      onWebhook: createWebhookHandler(webhooks, { maxBodyBytes: config.maxBodyBytes, logger }),
      app: createApp(
        {
          requestManual: (request) => manual.requestManual(request),
          get health() {
            return readiness.current;
          },
        },
        { maxBodyBytes: config.maxBodyBytes, registry: this.registry, logger },
      ),
    });
    this.#parts = { journal, signatureLog, queue, webhooks, secrets, manual, readiness, server };
    this.#log.info({ port: server.port, distributions: config.distributionIds }, INVALIDATOR_LOG.listening);
  }

  #createSender(distributionId: string, queue: InvalidationQueue): DistributionSender {
    const config = this.#config;
    return new DistributionSender({
      distributionId,
      client: this.#deps.cloudFront,
      logger: this.#deps.logger,
      ...(this.#deps.random ? { random: this.#deps.random } : {}),
      retry: {
        baseDelayMs: config.retryBaseDelayMs,
        maxDelayMs: config.retryMaxDelayMs,
        busyDelayMs: config.busyDelayMs,
        permanentDelayMs: config.permanentErrorDelayMs,
      },
      onError: (kind) => this.metrics.invalidations.inc({ distribution: distributionId, result: kind }),
      onAccepted: async (batch, invalidationId, refused) => {
        const refusedPaths = refused.reduce((sum, refusal) => sum + refusal.paths.length, 0);
        const sentPaths = batch.paths.length - refusedPaths;
        if (sentPaths > 0) {
          this.metrics.invalidations.inc({ distribution: distributionId, result: 'sent' });
          this.metrics.invalidatedPaths.inc({ distribution: distributionId }, sentPaths);
        }
        if (this.#budget.record(sentPaths)) {
          this.#log.warn(
            { pathsToday: this.#budget.pathsToday, budget: this.#budget.budget },
            INVALIDATOR_LOG.pathBudgetExceeded,
          );
        }
        const now = this.#now();
        for (const event of batch.events) {
          this.metrics.latency.observe({ distribution: distributionId }, (now - event.receivedAt) / 1000);
        }
        await queue.markSent(batch.id, distributionId, invalidationId, refused);
      },
    });
  }

  async #openMirror(): Promise<void> {
    const settings = this.#config.mirror;
    if (!settings) return;
    if (!this.#deps.s3) throw new Error('MIRROR_BUCKET is set but no S3 client was given');
    const { refresher, store } = await startMirror({
      settings,
      s3: this.#deps.s3,
      site: this.site,
      siteUrl: this.#config.siteUrl,
      journalDir: this.#config.journalDir,
      ghostAdmin: this.#config.ghostAdminApiKey
        ? { url: this.#config.ghostAdminUrl, adminApiKey: this.#config.ghostAdminApiKey }
        : undefined,
      retry: { baseDelayMs: this.#config.retryBaseDelayMs, maxDelayMs: this.#config.retryMaxDelayMs },
      logger: this.#deps.logger,
      registry: this.registry,
      now: this.#now,
      ...(this.#deps.random ? { random: this.#deps.random } : {}),
    });
    this.#mirror = refresher;
    void crawlOnStart(refresher, store, this.#deps.logger, settings, this.#now);
    this.#reconciler = new MirrorReconciler({
      enqueue: (job) => refresher.enqueue(job),
      intervalMs: settings.reconcileIntervalMs,
      logger: this.#deps.logger,
      now: this.#now,
    });
    this.#reconciler.start();
  }

  /**
   * The mirror gets the batch's paths on its own journal and queue: a slow or failing S3 or Ghost
   * delays the mirror, never an invalidation. A batch resent after a restart is refreshed once.
   */
  #refreshMirror(batch: Batch): void {
    const mirror = this.#mirror;
    if (!mirror || this.#stopping) return;
    const changedAt = Math.min(batch.createdAt, ...batch.events.map((event) => event.receivedAt));
    const everything = batch.paths.includes(this.site.everything);
    mirror
      .enqueue({ id: batch.id, changedAt, paths: batch.paths, everything, source: 'batch' })
      .catch((error: unknown) =>
        this.#log.error({ error: summarizeError(error), batchId: batch.id }, INVALIDATOR_LOG.mirrorRefreshNotJournaled),
      );
  }

  /** Stops receiving, cuts the open window and gives the senders a grace period; the rest stays journaled. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const { server, queue, journal, signatureLog, readiness, secrets } = this.#started;
    secrets?.stop();
    readiness.setDraining('stopping');
    const closed = server.close();
    try {
      await queue.flushNow();
      const deadline = this.#config.shutdownGraceMs;
      await Promise.all([...this.#senders.values()].map((sender) => sender.idle(deadline)));
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.shutdownFlushFailed);
    }
    for (const sender of this.#senders.values()) sender.close();
    await readiness.stop();
    queue.close();
    this.#reconciler?.stop();
    await this.#mirror?.stop();
    server.closeAllConnections();
    await closed;
    await Promise.all([journal.close(), signatureLog.close()]);
    this.#log.info(INVALIDATOR_LOG.stopped);
  }
}
