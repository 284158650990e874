import { GhostAdminClient, GhostApiError, type Logger } from '@ghost-ha/core';
import { INVALIDATOR_LOG } from './signals.js';

export interface SecretUpdateRequest {
  ghostUrl: string;
  adminApiKey: string;
  /** Ghost's webhook ids by event, as registration returned them. */
  ids: Readonly<Record<string, string>>;
  secret: string;
  logger: Logger;
  fetch?: typeof fetch;
}

export interface SecretUpdateResult {
  updated: string[];
  /** Events whose webhook Ghost no longer has (deleted in Ghost Admin): nothing to update. */
  missing: string[];
  failed: string[];
}

/**
 * Sets the signing secret of each webhook this service registered: `PUT /webhooks/:id/` with
 * `secret` (Ghost's `webhooks.edit` takes it, for the integration that owns the webhook). Each
 * webhook is tried once; a failure is reported, never thrown, as the previous secret is still
 * accepted for the overlap and the runbook's manual step remains.
 */
export async function updateGhostWebhookSecrets(request: SecretUpdateRequest): Promise<SecretUpdateResult> {
  const log = request.logger.child({ module: 'updateGhostWebhookSecrets' });
  const ghost = new GhostAdminClient({
    url: request.ghostUrl,
    adminApiKey: request.adminApiKey,
    ...(request.fetch ? { fetch: request.fetch } : {}),
  });
  const result: SecretUpdateResult = { updated: [], missing: [], failed: [] };
  for (const [event, id] of Object.entries(request.ids)) {
    try {
      await ghost.request('PUT', `/webhooks/${encodeURIComponent(id)}/`, {
        body: { webhooks: [{ secret: request.secret }] },
      });
      result.updated.push(event);
    } catch (error) {
      if (error instanceof GhostApiError && error.status === 404) result.missing.push(event);
      else result.failed.push(event);
    }
  }
  // Distinct messages: an operator (or a test) waiting for "updated" must not read it for a failure.
  if (result.failed.length > 0) log.error(result, INVALIDATOR_LOG.webhookSecretsUpdateFailed);
  else log.info(result, INVALIDATOR_LOG.webhookSecretsUpdated);
  return result;
}
