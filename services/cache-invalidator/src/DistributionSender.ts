import { createHash } from 'node:crypto';
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
  /**
   * Durably records the acceptance, and the paths refused for good (quarantined); the next batch is
   * sent only after it resolves. `invalidationId` lists the accepted invalidations (comma-separated
   * when the batch was split; `none` when every path was refused).
   */
  onAccepted: (batch: Batch, invalidationId: string, refused: readonly Refusal[]) => Promise<void>;
  onError?: (kind: SendErrorKind) => void;
  logger: Logger;
  random?: () => number;
}

/** Paths CloudFront refused for good (`refused` errors), once the batch was split as far as allowed. */
export interface Refusal {
  paths: string[];
  error: { name: string; message: string };
}

/**
 * CreateInvalidation calls a refused batch may spend on finding its refused paths, beyond the first:
 * each split costs two, so one refused path among 3,000 is found in 24, a few among a few hundred too;
 * what is still refused when the budget is spent is quarantined in the pieces found so far.
 */
export const MAX_SPLIT_CALLS = 32;

type Answer = { readonly ok: string } | { readonly refused: { name: string; message: string } };

export interface PermanentFailure {
  name: string;
  message: string;
  since: number;
}

/**
 * Sends batches to one distribution, one at a time and in order, until CloudFront accepts each.
 * Never gives up on a batch: throttles and 5xx back off with jitter, a full distribution waits for
 * room, a permanent error is kept visible (`permanentFailure`) and retried slowly. A batch whose
 * content CloudFront refuses (`refused`) is split in halves, and refused halves again, within
 * `MAX_SPLIT_CALLS`: the accepted pieces are sent, the refused ones handed back as refusals for the
 * journal's quarantine, and the next batch goes out straight after.
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
        const delivered = await this.#deliver(next.batch, next.recovered);
        if (delivered === undefined) break; // closed while waiting
        await this.#options.onAccepted(next.batch, delivered.invalidationId, delivered.refused);
        this.#queue.shift();
      }
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.senderStopped);
    } finally {
      // Set in the same turn as the empty-queue check, so a later enqueue starts a new drain.
      this.#draining = false;
    }
  }

  async #deliver(
    batch: Batch,
    recovered: boolean,
  ): Promise<{ invalidationId: string; refused: Refusal[] } | undefined> {
    this.#attempts = 0;
    const whole = await this.#send(batch, batch.id, batch.paths, recovered);
    if (whole === undefined) return undefined;
    if ('ok' in whole) return { invalidationId: whole.ok, refused: [] };
    // Refused for good: split, send what CloudFront takes, hand back what it does not.
    const accepted: string[] = [];
    const refused: Refusal[] = [];
    const pending: Refusal[] = [{ paths: batch.paths, error: whole.refused }];
    let calls = 0;
    for (let piece = pending.shift(); piece; piece = pending.shift()) {
      if (piece.paths.length === 1 || calls + 2 > MAX_SPLIT_CALLS) {
        refused.push(piece);
        continue;
      }
      const middle = Math.ceil(piece.paths.length / 2);
      for (const half of [piece.paths.slice(0, middle), piece.paths.slice(middle)]) {
        calls += 1;
        const answer = await this.#send(batch, pieceReference(batch.id, half), half, recovered);
        if (answer === undefined) return undefined;
        if ('ok' in answer) accepted.push(answer.ok);
        else pending.push({ paths: half, error: answer.refused });
      }
    }
    this.#log.error(
      {
        batchId: batch.id,
        calls: calls + 1,
        refused: refused.map((r) => ({ paths: r.paths.slice(0, 20), error: r.error })),
        acceptedPieces: accepted.length,
      },
      INVALIDATOR_LOG.pathsQuarantined,
    );
    return { invalidationId: accepted.length > 0 ? accepted.join(',') : 'none', refused };
  }

  /**
   * One CreateInvalidation of `paths` under `callerReference`, repeated through throttles, busy
   * answers, 5xx and permanent errors until CloudFront accepts it or refuses its content; undefined
   * once closed.
   */
  async #send(batch: Batch, callerReference: string, paths: string[], recovered: boolean): Promise<Answer | undefined> {
    // After a restart, or a failure that may have happened after CloudFront created the
    // invalidation (5xx, reset, timeout), look for the batch before sending it again.
    let mayExist = recovered;
    while (!this.#closed) {
      if (mayExist) {
        const existing = await this.#findExisting(batch, callerReference);
        if (existing) {
          this.#log.info(
            { batchId: batch.id, callerReference, invalidationId: existing },
            INVALIDATOR_LOG.alreadyAccepted,
          );
          return { ok: existing };
        }
      }
      try {
        const response = await this.#options.client.send(
          new CreateInvalidationCommand({
            DistributionId: this.distributionId,
            InvalidationBatch: {
              CallerReference: callerReference,
              Paths: { Quantity: paths.length, Items: paths },
            },
          }),
        );
        if (this.#permanentFailure) this.#log.info(INVALIDATOR_LOG.recovered);
        this.#permanentFailure = undefined;
        const id = response.Invalidation?.Id ?? 'unknown';
        this.#log.info(
          { batchId: batch.id, callerReference, invalidationId: id, paths: paths.length },
          INVALIDATOR_LOG.invalidationCreated,
        );
        return { ok: id };
      } catch (error) {
        if ((error as { name?: string }).name === 'InvalidationBatchAlreadyExists') {
          // Only a batch with this CallerReference can exist under it, and ours are content hashes.
          return { ok: 'existing' };
        }
        const kind = classifySendError(error);
        if (kind === 'refused') {
          this.#options.onError?.(kind);
          const { name, message } = summarizeError(error);
          this.#log.warn(
            { batchId: batch.id, callerReference, paths: paths.length, error: { name, message } },
            INVALIDATOR_LOG.refused,
          );
          return { refused: { name, message } };
        }
        mayExist = kind === 'transient';
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
  async #findExisting(batch: Batch, callerReference: string): Promise<string | undefined> {
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
        if (detail.Invalidation?.InvalidationBatch?.CallerReference === callerReference) return candidate.Id;
      }
    } catch (error) {
      this.#log.warn({ error: summarizeError(error), batchId: batch.id }, INVALIDATOR_LOG.lookupFailed);
    }
    return undefined;
  }
}

/** A piece's CallerReference: the batch's, and a digest of the piece's paths (the same piece, the same one). */
function pieceReference(batchId: string, paths: readonly string[]): string {
  return `${batchId}-${createHash('sha256').update(JSON.stringify(paths)).digest('hex').slice(0, 16)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
