import { type Logger, summarizeError } from '@ghost-ha/core';
import { INVALIDATOR_LOG } from './signals.js';

/** The webhook secret as Secrets Manager holds it: `AWSCURRENT`, and `AWSPREVIOUS` once rotated. */
export interface WebhookSecretVersions {
  current: string;
  previous: string | undefined;
  /** When the current version was created (ms since epoch), when known. */
  currentCreatedAt: number | undefined;
}

export interface WebhookSecretsOptions {
  /** The secret in force at start (WEBHOOK_SECRET, or WEBHOOK_SECRET_ID as read at start). */
  initial: string;
  /** Reads both versions afresh; unset (a plain WEBHOOK_SECRET): the secret never changes. */
  read?: () => Promise<WebhookSecretVersions>;
  /** How long the previous secret is still accepted after a rotation. */
  overlapMs: number;
  reloadIntervalMs: number;
  onReload?: (result: 'changed' | 'unchanged' | 'error') => void;
  /**
   * Called after a rotation is seen, with the new secret (e.g. to update Ghost's webhooks); resolving
   * `false` or throwing calls it again at the next reload, until it resolves `true`.
   */
  onRotated?: (current: string) => Promise<boolean>;
  now: () => number;
  logger: Logger;
}

/**
 * The secrets a delivery may be signed with. After a rotation Ghost keeps signing with the old
 * secret until its webhooks are updated, so the previous secret is still accepted for
 * WEBHOOK_SECRET_OVERLAP_SECONDS, counted from the rotation: the current version's creation time,
 * or when this process first saw it if that is earlier (a restart does not open the window again).
 * Reloaded every WEBHOOK_SECRET_RELOAD_SECONDS; a failed or blank read keeps the last good values.
 */
export class WebhookSecrets {
  readonly #options: WebhookSecretsOptions;
  readonly #log: Logger;
  #current: string;
  #previous: { secret: string; until: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  /** A rotation `onRotated` has not completed for yet. */
  #unannounced: string | undefined;

  constructor(options: WebhookSecretsOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'WebhookSecrets' });
    this.#current = options.initial;
  }

  /** The current secret first, then the previous one while its overlap lasts. */
  accepted(): string[] {
    const previous = this.#previous;
    if (previous && this.#options.now() < previous.until) return [this.#current, previous.secret];
    return [this.#current];
  }

  /** The secret deliveries are signed with once Ghost's webhooks are up to date. */
  get current(): string {
    return this.#current;
  }

  /** One read of Secrets Manager; never throws. Concurrent callers share one read. */
  reload(): Promise<void> {
    this.#reloading ??= this.#reload().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  start(): void {
    if (!this.#options.read || this.#timer) return;
    this.#timer = setInterval(() => void this.reload(), this.#options.reloadIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #reload(): Promise<void> {
    const { read, onReload } = this.#options;
    if (!read) return;
    let versions: WebhookSecretVersions;
    try {
      versions = await read();
      if (versions.current.trim() === '') throw new Error('the current version of the webhook secret is blank');
    } catch (error) {
      onReload?.('error');
      this.#log.warn({ error: summarizeError(error) }, INVALIDATOR_LOG.webhookSecretReloadFailed);
      return;
    }
    const now = this.#options.now();
    const rotatedAt = Math.min(now, versions.currentCreatedAt ?? now);
    const until = rotatedAt + this.#options.overlapMs;
    const previous = versions.previous?.trim() ? versions.previous : undefined;
    if (versions.current === this.#current) {
      // At start the previous version comes from Secrets Manager; its window is counted from the rotation.
      if (!this.#previous && previous !== undefined && previous !== versions.current && until > now) {
        this.#previous = { secret: previous, until };
      }
      onReload?.('unchanged');
    } else {
      // What Ghost signed with until now is the secret this process held.
      this.#previous = { secret: this.#current, until };
      this.#current = versions.current;
      this.#unannounced = versions.current;
      onReload?.('changed');
      this.#log.info({ previousAcceptedUntil: new Date(until).toISOString() }, INVALIDATOR_LOG.webhookSecretRotated);
    }
    await this.#announce();
  }

  async #announce(): Promise<void> {
    const secret = this.#unannounced;
    const { onRotated } = this.#options;
    if (secret === undefined || !onRotated) return;
    const done = await onRotated(secret).catch((error: unknown) => {
      this.#log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.webhookSecretsNotUpdated);
      return false;
    });
    // A newer rotation meanwhile is announced on its own.
    if (done && this.#unannounced === secret) this.#unannounced = undefined;
  }
}
