import { GhostAdminClient, GhostApiError, type Logger } from '@ghost-ha/core';
import { WebhookRegistrationError } from './errors.js';
import { HANDLED_EVENTS } from './ghostEvents.js';
import { INVALIDATOR_LOG } from './signals.js';

export interface RegistrationRequest {
  ghostUrl: string;
  adminApiKey: string;
  /** This service as Ghost reaches it; each event gets `<targetBaseUrl>/webhooks/ghost/<event>`. */
  targetBaseUrl: string;
  secret: string | undefined;
  logger: Logger;
  fetch?: typeof fetch;
}

export interface RegistrationResult {
  created: string[];
  alreadyRegistered: string[];
  /** Ghost's id of each webhook created now, by event: what a later secret update needs. */
  ids: Record<string, string>;
}

/**
 * Registers one webhook per handled event on the integration that owns the Admin API key. Ghost
 * cannot list webhooks but refuses a second one for the same event and URL: that refusal means
 * "already registered", so running this again is harmless. A webhook registered earlier keeps the
 * secret it was created with; its id (returned for those created now) lets `updateGhostWebhookSecrets`
 * change it.
 */
export async function registerGhostWebhooks(request: RegistrationRequest): Promise<RegistrationResult> {
  const log = request.logger.child({ module: 'registerGhostWebhooks' });
  const ghost = new GhostAdminClient({
    url: request.ghostUrl,
    adminApiKey: request.adminApiKey,
    ...(request.fetch ? { fetch: request.fetch } : {}),
  });
  const result: RegistrationResult = { created: [], alreadyRegistered: [], ids: {} };
  for (const event of HANDLED_EVENTS) {
    const targetUrl = `${request.targetBaseUrl.replace(/\/+$/, '')}/webhooks/ghost/${event}`;
    try {
      const created = await ghost.addWebhook({
        event,
        target_url: targetUrl,
        name: `cache-invalidator ${event}`,
        ...(request.secret ? { secret: request.secret } : {}),
      });
      result.created.push(event);
      if (typeof created.id === 'string') result.ids[event] = created.id;
    } catch (error) {
      if (isDuplicate(error)) {
        result.alreadyRegistered.push(event);
        continue;
      }
      throw new WebhookRegistrationError(
        event,
        `registering ${event} → ${targetUrl} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  log.info(
    { created: result.created, alreadyRegistered: result.alreadyRegistered },
    INVALIDATOR_LOG.webhooksRegistered,
  );
  return result;
}

function isDuplicate(error: unknown): boolean {
  if (error instanceof GhostApiError) {
    return error.status === 422 && /already/i.test(error.message);
  }
  // @tryghost/admin-api rejects with its own error shape for 4xx answers.
  const record = (error ?? {}) as { response?: { status?: number }; message?: unknown; type?: unknown };
  const message = typeof record.message === 'string' ? record.message : '';
  return (
    /already been used|already exists/i.test(message) || (record.type === 'ValidationError' && /already/i.test(message))
  );
}
