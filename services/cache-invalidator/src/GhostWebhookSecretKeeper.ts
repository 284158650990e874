import type { Logger } from '@ghost-ha/core';
import { INVALIDATOR_LOG } from './signals.js';
import { type SecretUpdateResult, updateGhostWebhookSecrets } from './updateGhostWebhookSecrets.js';

/**
 * How long Ghost may still be answering deliveries made before a change: each waits 2 s and is
 * retried 5 times with a doubling pause from 1 s (Ghost's WebhookTrigger), about 43 s in all.
 */
export const GHOST_DELIVERY_WINDOW_MS = 45_000;
/** The least time between two corrections of one webhook: a burst of deliveries makes one PUT. */
export const CORRECTION_INTERVAL_MS = 5_000;
/**
 * How long a correction waits after the delivery that showed the need: Ghost records that
 * delivery's answer right after it, and a PUT landing then is undone like the first one.
 */
export const CORRECTION_DELAY_MS = 3_000;

interface Target {
  secret: string;
  adminApiKey: string;
  ids: Readonly<Record<string, string>>;
}

export interface GhostWebhookSecretKeeperOptions {
  ghostUrl: string;
  /** The Admin API key; unset: the webhooks are updated by hand (README runbook). */
  adminApiKey: () => Promise<string | undefined>;
  /** Ghost's ids of the webhooks this service registered, by event; read at each rotation. */
  ids: () => Promise<Readonly<Record<string, string>>>;
  /** How long the previous secret is accepted after a rotation: the second setting comes well before. */
  overlapMs: number;
  now: () => number;
  logger: Logger;
  fetch?: typeof fetch;
}

/**
 * Keeps Ghost's webhooks that this service registered on the current secret.
 *
 * Setting it once is not enough: after each delivery Ghost saves the webhook's `last_triggered_*`
 * through a model it read before, and the save writes every column (Bookshelf without `patch`), so
 * a secret set between that read and that save is put back to the previous one. Ghost then signs with
 * the previous secret, refused for good once the overlap ends. So each webhook is set again once the
 * deliveries in flight at the change are answered (GHOST_DELIVERY_WINDOW_MS, at most half the
 * overlap), and again whenever Ghost signs a delivery with the previous secret after its webhook
 * was set: the signed time says the delivery is not one made before the change. Measured on Ghost
 * 6: a PUT landing 13 to 30 ms before a delivery's answer was undone in 16 of 40 tries.
 */
export class GhostWebhookSecretKeeper {
  readonly #options: GhostWebhookSecretKeeperOptions;
  readonly #log: Logger;
  /** What the last rotation set: the secret, the key and the ids it was set with. */
  #target: Target | undefined;
  /** By event: when Ghost last took the current secret for its webhook. */
  readonly #setAt = new Map<string, number>();
  readonly #lastCorrection = new Map<string, number>();
  #settleTimer: NodeJS.Timeout | undefined;
  readonly #correctionTimers = new Set<NodeJS.Timeout>();

  constructor(options: GhostWebhookSecretKeeperOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'GhostWebhookSecretKeeper' });
  }

  /**
   * A rotation seen (WebhookSecrets' `onRotated`): sets every registered webhook to `secret`.
   * Resolves `false` when Ghost did not take one, so the next reload tries again.
   */
  async rotated(secret: string): Promise<boolean> {
    const [adminApiKey, ids] = await Promise.all([this.#options.adminApiKey(), this.#options.ids()]);
    if (!adminApiKey || Object.keys(ids).length === 0) {
      this.#log.warn({ adminApiKey: adminApiKey !== undefined }, INVALIDATOR_LOG.webhookSecretsNotUpdated);
      return true;
    }
    this.stop();
    const target: Target = { secret, adminApiKey, ids };
    this.#target = target;
    this.#setAt.clear();
    this.#lastCorrection.clear();
    const result = await this.#set(target, ids);
    if (result.failed.length > 0) {
      this.#log.error(result, INVALIDATOR_LOG.webhookSecretsUpdateFailed);
      return false;
    }
    this.#log.info(result, INVALIDATOR_LOG.webhookSecretsUpdated);
    const settleMs = Math.min(GHOST_DELIVERY_WINDOW_MS, this.#options.overlapMs / 2);
    this.#settleTimer = setTimeout(() => void this.#setAgain(target, ids), settleMs);
    this.#settleTimer.unref();
    return true;
  }

  /**
   * A delivery for `event` verified with the previous secret, signed at `signedAtMs` (its
   * X-Ghost-Signature's `t`). Signed after its webhook took the current secret: Ghost put the
   * previous one back, so it is set again (at most once per CORRECTION_INTERVAL_MS per webhook).
   */
  signedWithPrevious(event: string, signedAtMs: number): void {
    const target = this.#target;
    const id = target?.ids[event];
    const setAt = this.#setAt.get(event);
    if (!target || id === undefined || setAt === undefined || signedAtMs <= setAt) return;
    const now = this.#options.now();
    const last = this.#lastCorrection.get(event);
    if (last !== undefined && now - last < CORRECTION_INTERVAL_MS) return;
    this.#lastCorrection.set(event, now);
    this.#log.warn(
      { event, signedAt: new Date(signedAtMs).toISOString(), setAt: new Date(setAt).toISOString() },
      INVALIDATOR_LOG.webhookSecretPutBack,
    );
    const timer = setTimeout(() => {
      this.#correctionTimers.delete(timer);
      void this.#setAgain(target, { [event]: id });
    }, CORRECTION_DELAY_MS);
    timer.unref();
    this.#correctionTimers.add(timer);
  }

  /** Cancels the pending settings; a PUT under way finishes. */
  stop(): void {
    if (this.#settleTimer) clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    for (const timer of this.#correctionTimers) clearTimeout(timer);
    this.#correctionTimers.clear();
  }

  async #setAgain(target: Target, ids: Readonly<Record<string, string>>): Promise<void> {
    // A newer rotation has its own settings.
    if (this.#target !== target) return;
    const result = await this.#set(target, ids);
    if (result.failed.length > 0) this.#log.warn(result, INVALIDATOR_LOG.webhookSecretsSetAgainFailed);
    else this.#log.info(result, INVALIDATOR_LOG.webhookSecretsSetAgain);
  }

  /** PUTs the target's secret on `ids`; never throws. Each webhook Ghost took is stamped with the time. */
  async #set(target: Target, ids: Readonly<Record<string, string>>): Promise<SecretUpdateResult> {
    const result = await updateGhostWebhookSecrets({
      ghostUrl: this.#options.ghostUrl,
      adminApiKey: target.adminApiKey,
      ids,
      secret: target.secret,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    if (this.#target === target) {
      const now = this.#options.now();
      for (const event of result.updated) this.#setAt.set(event, now);
    }
    return result;
  }
}
