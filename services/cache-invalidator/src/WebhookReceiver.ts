import { randomUUID } from 'node:crypto';
import type { InvalidatorMetrics } from './createMetrics.js';
import { JournalWriteError, PayloadShapeError, RequestRejectedError } from './errors.js';
import { type HandledEvent, isHandledEvent } from './ghostEvents.js';
import type { InvalidationQueue } from './InvalidationQueue.js';
import type { AcceptedEvent } from './JournalRecord.js';
import { type EventPlan, planEventPaths } from './planEventPaths.js';
import type { SitePaths } from './sitePaths.js';
import { verifyGhostSignature } from './verifyGhostSignature.js';
import type { WebhookDelivery, WebhookReceiving } from './WebhookReceiving.js';

export interface WebhookReceiverOptions {
  site: SitePaths;
  queue: Pick<InvalidationQueue, 'accept'>;
  metrics: Pick<InvalidatorMetrics, 'webhooks' | 'pathsPlanned'>;
  /** Unset only with ALLOW_UNSIGNED_WEBHOOKS=true: deliveries are then taken unsigned. */
  webhookSecret: string | undefined;
  signatureToleranceMs: number;
  now: () => number;
}

/**
 * One webhook delivery: a handled event, a valid signature, JSON, a payload of that event; its
 * planned paths are journaled before this resolves. Every outcome is counted in
 * `cache_invalidator_webhooks_total{event,result}` (alarms read it): `accepted`, the rejection
 * reason, `journal_unavailable`, or `error`; an event this service does not handle counts as
 * `unknown`, so a caller cannot mint label values.
 */
export class WebhookReceiver implements WebhookReceiving {
  readonly #options: WebhookReceiverOptions;

  constructor(options: WebhookReceiverOptions) {
    this.#options = options;
  }

  async receiveWebhook(delivery: WebhookDelivery): Promise<{ id: string; paths: string[] }> {
    const { event } = delivery;
    const { metrics } = this.#options;
    try {
      if (!isHandledEvent(event)) {
        throw new RequestRejectedError(404, 'unknown_event', `'${event}' is not an event this service handles`);
      }
      const plan = this.#plan(event, delivery);
      const accepted: AcceptedEvent = { id: randomUUID(), event, receivedAt: this.#options.now(), plan };
      await this.#options.queue.accept(accepted);
      metrics.webhooks.inc({ event, result: 'accepted' });
      metrics.pathsPlanned.inc(plan.paths.length);
      return { id: accepted.id, paths: plan.paths };
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

  /** Signature, JSON, payload shape: each failure is a 4xx naming what was wrong. */
  #plan(event: HandledEvent, delivery: WebhookDelivery): EventPlan {
    const { webhookSecret } = this.#options;
    if (webhookSecret) {
      verifyGhostSignature({
        rawBody: delivery.rawBody,
        header: delivery.signature,
        secret: webhookSecret,
        nowMs: this.#options.now(),
        toleranceMs: this.#options.signatureToleranceMs,
      });
    }
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
