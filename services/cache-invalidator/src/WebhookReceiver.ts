import { randomUUID } from 'node:crypto';
import type { InvalidatorMetrics } from './createMetrics.js';
import { JournalWriteError, PayloadShapeError, RequestRejectedError } from './errors.js';
import { type HandledEvent, isHandledEvent } from './ghostEvents.js';
import type { InvalidationQueue } from './InvalidationQueue.js';
import type { AcceptedEvent } from './JournalRecord.js';
import { type EventPlan, planEventPaths } from './planEventPaths.js';
import { DEFAULT_REPLAY_MEMORY, RecentSignatures } from './RecentSignatures.js';
import type { SignatureLog } from './SignatureLog.js';
import type { SitePaths } from './sitePaths.js';
import { type VerifiedSignature, verifyGhostSignature } from './verifyGhostSignature.js';
import type { WebhookDelivery, WebhookReceiving } from './WebhookReceiving.js';
import type { WebhookSecrets } from './WebhookSecrets.js';

export interface WebhookReceiverOptions {
  site: SitePaths;
  queue: Pick<InvalidationQueue, 'accept'>;
  metrics: Pick<InvalidatorMetrics, 'webhooks' | 'pathsPlanned' | 'previousSecretDeliveries'>;
  /**
   * The secrets a delivery may be signed with, current first (the previous one during a rotation's
   * overlap). Unset only with ALLOW_UNSIGNED_WEBHOOKS=true: deliveries are then taken unsigned.
   */
  webhookSecrets: Pick<WebhookSecrets, 'accepted'> | undefined;
  signatureToleranceMs: number;
  /**
   * A delivery verified with the previous secret, with its signed time: Ghost still signs with it
   * (GhostWebhookSecretKeeper sets the webhook again when that is after the change).
   */
  onPreviousSecretDelivery?: (event: HandledEvent, signedAtMs: number) => void;
  /**
   * The signatures of accepted deliveries, to refuse replays; default an empty memory of 10,000
   * (`replayMemory`) over `signatureToleranceMs`. The service passes the one its SignatureLog loaded.
   */
  recentSignatures?: RecentSignatures;
  replayMemory?: number;
  /** Where accepted signatures are written so that a restart still refuses their replays; unset: memory only. */
  signatureLog?: Pick<SignatureLog, 'record' | 'release'>;
  now: () => number;
}

/**
 * One webhook delivery: a handled event, a valid signature, JSON, a payload of that event; its
 * planned paths are journaled before this resolves. Every outcome is counted in
 * `cache_invalidator_webhooks_total{event,result}` (alarms read it): `accepted`, the rejection
 * reason, `journal_unavailable`, or `error`; an event this service does not handle counts as
 * `unknown`, so a caller cannot mint label values.
 *
 * A signed delivery received again while its signature is still within the window is refused with
 * 409 `replayed_signature` (Ghost signs every delivery afresh, so only a replay repeats one); the
 * signatures are also written to the SignatureLog beside the journal (in parallel with the event,
 * both durable before the answer), so a restart does not forget them.
 */
export class WebhookReceiver implements WebhookReceiving {
  readonly #options: WebhookReceiverOptions;
  readonly #recent: RecentSignatures;

  constructor(options: WebhookReceiverOptions) {
    this.#options = options;
    this.#recent =
      options.recentSignatures ??
      new RecentSignatures({
        toleranceMs: options.signatureToleranceMs,
        maxEntries: options.replayMemory ?? DEFAULT_REPLAY_MEMORY,
      });
  }

  async receiveWebhook(delivery: WebhookDelivery): Promise<{ id: string; paths: string[] }> {
    const { event } = delivery;
    const { metrics } = this.#options;
    try {
      if (!isHandledEvent(event)) {
        throw new RequestRejectedError(404, 'unknown_event', `'${event}' is not an event this service handles`);
      }
      const signature = this.#verify(event, delivery);
      // Keyed by event too: Ghost signs the body and timestamp, not the URL, so two events with the
      // same payload signed in the same millisecond share a signature, each delivered once to its URL.
      const key = signature ? `${event} ${signature.digest}` : undefined;
      if (signature && key && !this.#recent.claim(key, signature.timestampMs, this.#options.now())) {
        throw new RequestRejectedError(
          409,
          'replayed_signature',
          'this signed delivery was received before (its X-Ghost-Signature is still within the window): a replay is refused',
        );
      }
      let recorded = false;
      try {
        const plan = this.#plan(event, delivery);
        const accepted: AcceptedEvent = { id: randomUUID(), event, receivedAt: this.#options.now(), plan };
        // The signature's write never fails the delivery (SignatureLog logs it): the event is what counts.
        const written = signature && key ? this.#options.signatureLog?.record(key, signature.timestampMs) : undefined;
        recorded = written !== undefined;
        await Promise.all([this.#options.queue.accept(accepted), written]);
        metrics.webhooks.inc({ event, result: 'accepted' });
        metrics.pathsPlanned.inc(plan.paths.length);
        return { id: accepted.id, paths: plan.paths };
      } catch (error) {
        // Not accepted: Ghost may send the same delivery again, which is then judged afresh.
        if (key) {
          this.#recent.release(key);
          if (recorded) void this.#options.signatureLog?.release(key);
        }
        throw error;
      }
    } catch (error) {
      const result =
        error instanceof RequestRejectedError
          ? error.reason
          : error instanceof JournalWriteError
            ? 'journal_unavailable'
            : 'error';
      metrics.webhooks.inc({ event: isHandledEvent(event) ? event : 'unknown', result });
      throw error;
    }
  }

  /** The signature (401 when it is not Ghost's); undefined when unsigned webhooks are taken. */
  #verify(event: HandledEvent, delivery: WebhookDelivery): VerifiedSignature | undefined {
    const { webhookSecrets } = this.#options;
    if (!webhookSecrets) return undefined;
    const [current, ...others] = webhookSecrets.accepted();
    if (!current) throw new RequestRejectedError(401, 'bad_signature', 'no webhook secret is in force');
    const check = (secret: string) =>
      verifyGhostSignature({
        rawBody: delivery.rawBody,
        header: delivery.signature,
        secret,
        nowMs: this.#options.now(),
        toleranceMs: this.#options.signatureToleranceMs,
      });
    try {
      return check(current);
    } catch (error) {
      // Only a signature that does not match may match the previous secret; any other refusal stands.
      if (!(error instanceof RequestRejectedError) || error.reason !== 'bad_signature') throw error;
      for (const previous of others) {
        try {
          const verified = check(previous);
          this.#options.metrics.previousSecretDeliveries.inc();
          this.#options.onPreviousSecretDelivery?.(event, verified.timestampMs);
          return verified;
        } catch {
          // The refusal reported is the current secret's.
        }
      }
      throw error;
    }
  }

  /** JSON, payload shape: each failure is a 4xx naming what was wrong. */
  #plan(event: HandledEvent, delivery: WebhookDelivery): EventPlan {
    let body: unknown;
    try {
      body = JSON.parse(delivery.rawBody.toString('utf8'));
    } catch {
      throw new RequestRejectedError(400, 'malformed_json', 'the body is not valid JSON');
    }
    try {
      return planEventPaths(event, body, this.#options.site);
    } catch (error) {
      if (error instanceof PayloadShapeError) {
        throw new RequestRejectedError(400, 'unexpected_payload', `not a Ghost ${event} payload: ${error.message}`);
      }
      throw error;
    }
  }
}
