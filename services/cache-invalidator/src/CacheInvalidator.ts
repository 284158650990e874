import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { S3Client } from '@aws-sdk/client-s3';
import { createRegistry, type Logger, type Registry, summarizeError } from '@ghost-ha/core';
import type { ResolvedConfig } from './config.js';
import { createApp } from './createApp.js';
import { createMetrics, type InvalidatorMetrics } from './createMetrics.js';
import { createWebhookHandler, WEBHOOK_PREFIX } from './createWebhookHandler.js';
import { DistributionSender } from './DistributionSender.js';
import { JournalWriteError, PayloadShapeError, RequestRejectedError } from './errors.js';
import { isHandledEvent } from './ghostEvents.js';
import { InvalidationQueue } from './InvalidationQueue.js';
import { Journal } from './Journal.js';
import type { JournalFileSystem } from './JournalFileSystem.js';
import type { AcceptedEvent, Batch, JournalRecord } from './JournalRecord.js';
import type { MirrorRefresher } from './mirror/MirrorRefresher.js';
import { buildIfEmpty, startMirror } from './mirror/startMirror.js';
import { planEventPaths } from './planEventPaths.js';
import { SitePaths } from './sitePaths.js';
import { verifyGhostSignature } from './verifyGhostSignature.js';

export interface CacheInvalidatorDeps {
  logger: Logger;
  cloudFront: CloudFrontClient;
  now?: () => number;
  random?: () => number;
  /** Host to listen on; default all interfaces. */
  host?: string;
  /** The journal's file operations; default node:fs (tests pass a fault-injecting layer). */
  fileSystem?: JournalFileSystem;
  /** The mirror bucket's client; required when `config.mirror` is set. */
  s3?: S3Client;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { status: 'pass' | 'fail'; detail?: unknown }>;
}

const MAX_MANUAL_PATHS = 100;

/**
 * The service: receives Ghost webhooks and manual requests, journals them, coalesces them into
 * batches and sends each batch to every distribution until CloudFront accepts it.
 */
/** How long a client may take to send its headers, and its whole request. */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 10_000;

export class CacheInvalidator {
  readonly registry: Registry;
  readonly metrics: InvalidatorMetrics;
  readonly site: SitePaths;
  readonly #config: ResolvedConfig;
  readonly #deps: CacheInvalidatorDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  #journal!: Journal<JournalRecord>;
  #queue!: InvalidationQueue;
  readonly #senders = new Map<string, DistributionSender>();
  #server: Server | undefined;
  #stopping = false;
  #mirror: MirrorRefresher | undefined;

  private constructor(config: ResolvedConfig, deps: CacheInvalidatorDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.logger.child({ module: 'CacheInvalidator' });
    this.site = new SitePaths(config.siteUrl);
    this.registry = createRegistry({ service: 'cache-invalidator' });
    this.metrics = createMetrics(
      this.registry,
      () =>
        this.#queue && {
          depth: this.#queue.depth,
          oldestPendingAt: () => this.#queue.oldestPendingAt(),
          permanentFailures: () => [...this.#senders.values()].filter((sender) => sender.permanentFailure).length,
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
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async #open(): Promise<void> {
    const config = this.#config;
    if (!config.webhookSecret) {
      this.#log.warn(
        'ALLOW_UNSIGNED_WEBHOOKS=true: webhooks are accepted without a signature; anyone who can reach this port can trigger invalidations',
      );
    }
    const { journal, records, skipped } = await Journal.open<JournalRecord>(
      config.journalDir,
      this.#deps.fileSystem ? { fileSystem: this.#deps.fileSystem } : {},
    );
    this.#journal = journal;
    if (skipped.length > 0) {
      // A torn last record is what a crash mid-write leaves (its request was never answered 2xx).
      this.metrics.journalSkippedRecords.inc(skipped.length);
      this.#log.warn(
        { skipped: skipped.slice(0, 20), skippedCount: skipped.length, records: records.length },
        'journal: skipped what was not a whole record',
      );
    }
    this.#queue = new InvalidationQueue({
      journal,
      distributionIds: config.distributionIds,
      windowMs: config.windowMs,
      maxWaitMs: config.maxWaitMs,
      echoWindowMs: config.echoWindowMs,
      limits: {
        everything: this.site.everything,
        wildcardThreshold: config.wildcardThreshold,
        maxPaths: config.maxPathsPerBatch,
        maxWildcards: config.maxWildcardsPerBatch,
      },
      now: this.#now,
      logger: this.#deps.logger,
      onBatch: (batch, recovered) => {
        this.#refreshMirror(batch);
        for (const sender of this.#senders.values()) {
          if (batch.sent[sender.distributionId] === undefined) sender.enqueue(batch, recovered);
        }
      },
    });
    for (const distributionId of config.distributionIds) {
      this.#senders.set(
        distributionId,
        new DistributionSender({
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
          onAccepted: async (batch, invalidationId) => {
            this.metrics.invalidations.inc({ distribution: distributionId, result: 'sent' });
            this.metrics.invalidatedPaths.inc({ distribution: distributionId }, batch.paths.length);
            const now = this.#now();
            for (const event of batch.events) {
              this.metrics.latency.observe({ distribution: distributionId }, (now - event.receivedAt) / 1000);
            }
            await this.#queue.markSent(batch.id, distributionId, invalidationId);
          },
        }),
      );
    }
    await this.#openMirror();
    const restored = await this.#queue.restore(records);
    if (restored.events + restored.batches > 0) this.#log.info(restored, 'resuming work found in the journal');
    const app = createApp(this, {
      maxBodyBytes: config.maxBodyBytes,
      registry: this.registry,
      logger: this.#deps.logger,
    });
    const onWebhook = createWebhookHandler(this, { maxBodyBytes: config.maxBodyBytes, logger: this.#deps.logger });
    // Ghost gives up after 2 s; a slow client must not hold a socket much longer than that. Node
    // enforces these limits on a sweep every `connectionsCheckingInterval` (30 s unless set here, at
    // creation), so without it a slow client held its socket for up to 35 s.
    const server = createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 250 },
      (req, res) => {
        if (req.method === 'POST' && req.url?.startsWith(WEBHOOK_PREFIX)) onWebhook(req, res);
        else app(req, res);
      },
    );
    server.listen(config.port, this.#deps.host ?? '0.0.0.0');
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.#log.info({ port: this.port, distributions: config.distributionIds }, 'cache invalidator listening');
  }

  /** The mirror's refresher, when MIRROR_BUCKET is set. */
  get mirror(): MirrorRefresher | undefined {
    return this.#mirror;
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
      retry: { baseDelayMs: this.#config.retryBaseDelayMs, maxDelayMs: this.#config.retryMaxDelayMs },
      logger: this.#deps.logger,
      registry: this.registry,
      now: this.#now,
      ...(this.#deps.random ? { random: this.#deps.random } : {}),
    });
    this.#mirror = refresher;
    if (settings.buildOnEmpty) void buildIfEmpty(refresher, store, this.#deps.logger, this.#now);
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
        this.#log.error({ error: summarizeError(error), batchId: batch.id }, 'could not journal a mirror refresh'),
      );
  }

  /** One webhook delivery: verified, planned, journaled; resolves once it is durable. */
  async receiveWebhook(delivery: {
    event: string;
    rawBody: Buffer;
    signature: string | undefined;
  }): Promise<{ id: string; paths: string[] }> {
    const { event } = delivery;
    try {
      if (!isHandledEvent(event)) {
        throw new RequestRejectedError(404, 'unknown_event', `'${event}' is not an event this service handles`);
      }
      if (this.#config.webhookSecret) {
        verifyGhostSignature({
          rawBody: delivery.rawBody,
          header: delivery.signature,
          secret: this.#config.webhookSecret,
          nowMs: this.#now(),
          toleranceMs: this.#config.signatureToleranceMs,
        });
      }
      let body: unknown;
      try {
        body = JSON.parse(delivery.rawBody.toString('utf8'));
      } catch {
        throw new RequestRejectedError(400, 'malformed_json', 'the body is not valid JSON');
      }
      let plan: ReturnType<typeof planEventPaths>;
      try {
        plan = planEventPaths(event, body, this.site);
      } catch (error) {
        if (error instanceof PayloadShapeError) {
          throw new RequestRejectedError(400, 'unexpected_payload', `not a Ghost ${event} payload: ${error.message}`);
        }
        throw error;
      }
      const accepted: AcceptedEvent = { id: randomUUID(), event, receivedAt: this.#now(), plan };
      await this.#queue.accept(accepted);
      this.metrics.webhooks.inc({ event, result: 'accepted' });
      this.metrics.pathsPlanned.inc(plan.paths.length);
      return { id: accepted.id, paths: plan.paths };
    } catch (error) {
      const result =
        error instanceof RequestRejectedError
          ? error.reason
          : error instanceof JournalWriteError
            ? 'journal_unavailable'
            : 'error';
      this.metrics.webhooks.inc({ event: isHandledEvent(event) ? event : 'unknown', result });
      throw error;
    }
  }

  /** A manual request: the bearer token, then the paths (viewer paths, as CloudFront takes them); sent at once. */
  async requestManual(request: { authorization: string | undefined; body: unknown }): Promise<{
    id: string;
    paths: string[];
  }> {
    const token = this.#config.manualToken;
    if (!token) {
      throw new RequestRejectedError(
        403,
        'manual_disabled',
        'manual invalidation is off; set MANUAL_INVALIDATION_TOKEN to enable it',
      );
    }
    const given = /^Bearer (.+)$/.exec(request.authorization ?? '')?.[1] ?? '';
    if (!sameSecret(given, token)) {
      this.metrics.webhooks.inc({ event: 'manual', result: 'unauthorized' });
      throw new RequestRejectedError(401, 'unauthorized', 'a valid "Authorization: Bearer <token>" header is required');
    }
    const paths = validateManualPaths(request.body);
    const everything = paths.includes(this.site.everything) || paths.includes('/*');
    const accepted: AcceptedEvent = {
      id: randomUUID(),
      event: 'manual',
      receivedAt: this.#now(),
      plan: { paths, everything, siteChanged: false },
    };
    await this.#queue.accept(accepted);
    this.metrics.webhooks.inc({ event: 'manual', result: 'accepted' });
    this.metrics.pathsPlanned.inc(paths.length);
    await this.#queue.flushNow();
    return { id: accepted.id, paths };
  }

  async readiness(): Promise<Readiness> {
    const checks: Readiness['checks'] = {};
    // Fails while the journal's writes fail, and when the directory stopped taking writes.
    const journalError = await this.#journal.health();
    checks.journal = journalError
      ? { status: 'fail', detail: summarizeError(journalError) }
      : { status: 'pass', detail: { dir: this.#config.journalDir } };
    const oldest = this.#queue.oldestPendingAt();
    const ageSeconds = oldest === undefined ? 0 : Math.round((this.#now() - oldest) / 1000);
    checks.pending = {
      status: ageSeconds * 1000 > this.#config.readyMaxPendingAgeMs ? 'fail' : 'pass',
      detail: { ...this.#queue.depth, oldestAgeSeconds: ageSeconds },
    };
    for (const sender of this.#senders.values()) {
      const failure = sender.permanentFailure;
      checks[`distribution:${sender.distributionId}`] = failure
        ? { status: 'fail', detail: { ...failure, since: new Date(failure.since).toISOString() } }
        : { status: 'pass', detail: { pendingBatches: sender.pending } };
    }
    if (this.#stopping) checks.shutdown = { status: 'fail', detail: 'stopping' };
    return { ready: Object.values(checks).every((check) => check.status === 'pass'), checks };
  }

  /** Stops receiving, cuts the open window and gives the senders a grace period; the rest stays journaled. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const server = this.#server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    try {
      await this.#queue.flushNow();
      const deadline = this.#config.shutdownGraceMs;
      await Promise.all([...this.#senders.values()].map((sender) => sender.idle(deadline)));
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, 'shutdown flush failed; the journal keeps the work');
    }
    for (const sender of this.#senders.values()) sender.close();
    this.#queue.close();
    await this.#mirror?.stop();
    server?.closeAllConnections();
    await closed;
    await this.#journal.close();
    this.#log.info('cache invalidator stopped');
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function validateManualPaths(body: unknown): string[] {
  const example = 'E.g. {"paths":["/hello-world/","/tag/news/*"]}';
  const paths = (body as { paths?: unknown } | undefined)?.paths;
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > MAX_MANUAL_PATHS) {
    throw new RequestRejectedError(
      400,
      'bad_paths',
      `"paths" must be an array of 1 to ${MAX_MANUAL_PATHS} paths. ${example}`,
    );
  }
  for (const path of paths) {
    if (
      typeof path !== 'string' ||
      !path.startsWith('/') ||
      path.length > 1000 ||
      /[^\x21-\x7e]/.test(path) ||
      path.slice(0, -1).includes('*')
    ) {
      throw new RequestRejectedError(
        400,
        'bad_paths',
        `${JSON.stringify(path)} is not a CloudFront path: it must start with "/", be printable ASCII without spaces (percent-encode the rest), and "*" only at the end. ${example}`,
      );
    }
  }
  return [...new Set(paths as string[])];
}
