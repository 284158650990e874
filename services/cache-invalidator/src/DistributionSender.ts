import {
  type CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
} from '@aws-sdk/client-cloudfront';
import { type Logger, summarizeError } from '@ghost-ha/core';
import { classifySendError, type SendErrorKind } from './classifySendError.js';
import type { Batch } from './JournalRecord.js';
import { INVALIDATOR_LOG } from './signals.js';

export interface RetrySettings {
  /** First backoff after a throttle or 5xx; doubles each attempt, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Wait after TooManyInvalidationsInProgress before asking again. */
  busyDelayMs: number;
  /** Wait after a permanent error (no such distribution, access denied) before trying again. */
  permanentDelayMs: number;
}

export interface DistributionSenderOptions {
  distributionId: string;
  client: CloudFrontClient;
  retry: RetrySettings;
  /** Durably records the acceptance; the next batch is sent only after it resolves. */
  onAccepted: (batch: Batch, invalidationId: string) => Promise<void>;
  onError?: (kind: SendErrorKind) => void;
  logger: Logger;
  random?: () => number;
}

export interface PermanentFailure {
  name: string;
  message: string;
  since: number;
}

/**
 * Sends batches to one distribution, one at a time and in order, until CloudFront accepts each.
 * Never gives up on a batch: throttles and 5xx back off with jitter, a full distribution waits for
 * room, a permanent error is kept visible (`permanentFailure`) and retried slowly.
 */
export class DistributionSender {
  readonly distributionId: string;
  readonly #options: DistributionSenderOptions;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #queue: { batch: Batch; recovered: boolean }[] = [];
  #draining = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #permanentFailure: PermanentFailure | undefined;
  #attempts = 0;

  constructor(options: DistributionSenderOptions) {
    this.distributionId = options.distributionId;
    this.#options = options;
    this.#log = options.logger.child({ module: 'DistributionSender', distributionId: options.distributionId });
    this.#random = options.random ?? Math.random;
  }

  get permanentFailure(): PermanentFailure | undefined {
    return this.#permanentFailure;
  }

  get pending(): number {
    return this.#queue.length;
  }

  enqueue(batch: Batch, recovered: boolean): void {
    if (this.#queue.some((item) => item.batch.id === batch.id)) return;
    this.#queue.push({ batch, recovered });
    if (!this.#draining) {
      this.#draining = true;
      void this.#drain();
    }
  }

  /** Resolves when the queue is empty or `timeoutMs` passed; used on shutdown. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length > 0 && Date.now() < deadline) await sleep(20);
    return this.#queue.length === 0;
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#closed) {
        const next = this.#queue[0];
        if (!next) break;
        const invalidationId = await this.#deliver(next.batch, next.recovered);
        if (invalidationId === undefined) break; // closed while waiting
        await this.#options.onAccepted(next.batch, invalidationId);
        this.#queue.shift();
      }
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.senderStopped);
    } finally {
      // Set in the same turn as the empty-queue check, so a later enqueue starts a new drain.
      this.#draining = false;
    }
  }

  async #deliver(batch: Batch, recovered: boolean): Promise<string | undefined> {
    // After a restart, or a failure that may have happened after CloudFront created the
    // invalidation (5xx, reset, timeout), look for the batch before sending it again.
    let mayExist = recovered;
    this.#attempts = 0;
    while (!this.#closed) {
      if (mayExist) {
        const existing = await this.#findExisting(batch);
        if (existing) {
          this.#log.info({ batchId: batch.id, invalidationId: existing }, INVALIDATOR_LOG.alreadyAccepted);
          return existing;
        }
      }
      try {
        const response = await this.#options.client.send(
          new CreateInvalidationCommand({
            DistributionId: this.distributionId,
            InvalidationBatch: {
              CallerReference: batch.id,
              Paths: { Quantity: batch.paths.length, Items: batch.paths },
            },
          }),
        );
        if (this.#permanentFailure) this.#log.info(INVALIDATOR_LOG.recovered);
        this.#permanentFailure = undefined;
        const id = response.Invalidation?.Id ?? 'unknown';
        this.#log.info(
          { batchId: batch.id, invalidationId: id, paths: batch.paths.length },
          INVALIDATOR_LOG.invalidationCreated,
        );
        return id;
      } catch (error) {
        if ((error as { name?: string }).name === 'InvalidationBatchAlreadyExists') {
          // Only a batch with this CallerReference can exist under it, and ours are content hashes.
          return 'existing';
        }
        mayExist = classifySendError(error) === 'transient';
        await this.#wait(batch, error);
      }
    }
    return undefined;
  }

  async #wait(batch: Batch, error: unknown): Promise<void> {
    const kind = classifySendError(error);
    this.#options.onError?.(kind);
    const err = summarizeError(error);
    let delay: number;
    const { retry } = this.#options;
    if (kind === 'permanent') {
      this.#permanentFailure ??= { name: err.name, message: err.message, since: Date.now() };
      delay = retry.permanentDelayMs;
      this.#log.error({ error: err, batchId: batch.id, retryInMs: delay }, INVALIDATOR_LOG.permanentFailure);
    } else if (kind === 'busy') {
      delay = retry.busyDelayMs * (0.75 + this.#random() / 2);
      this.#log.warn({ error: err, batchId: batch.id, retryInMs: Math.round(delay) }, INVALIDATOR_LOG.busy);
    } else {
      const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** this.#attempts);
      this.#attempts += 1;
      delay = ceiling / 2 + (this.#random() * ceiling) / 2;
      this.#log.warn({ error: err, batchId: batch.id, kind, retryInMs: Math.round(delay) }, INVALIDATOR_LOG.retrying);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  /**
   * The invalidation created for this batch, if any: after a crash between CloudFront's answer and
   * the journal entry, or a lost answer. CloudFront itself deduplicates by CallerReference; looking
   * first keeps the count exact with stand-ins that do not. Only invalidations created since the
   * batch was cut are read.
   */
  async #findExisting(batch: Batch): Promise<string | undefined> {
    try {
      const list = await this.#options.client.send(
        new ListInvalidationsCommand({ DistributionId: this.distributionId, MaxItems: 100 }),
      );
      const candidates = (list.InvalidationList?.Items ?? []).filter(
        (item) => item.CreateTime === undefined || item.CreateTime.getTime() >= batch.createdAt - 60_000,
      );
      for (const candidate of candidates.slice(0, 20)) {
        if (!candidate.Id) continue;
        const detail = await this.#options.client.send(
          new GetInvalidationCommand({ DistributionId: this.distributionId, Id: candidate.Id }),
        );
        if (detail.Invalidation?.InvalidationBatch?.CallerReference === batch.id) return candidate.Id;
      }
    } catch (error) {
      this.#log.warn({ error: summarizeError(error), batchId: batch.id }, INVALIDATOR_LOG.lookupFailed);
    }
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
