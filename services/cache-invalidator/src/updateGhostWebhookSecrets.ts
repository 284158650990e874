import { GhostAdminClient, GhostApiError } from '@ghost-ha/core';

export interface SecretUpdateRequest {
  ghostUrl: string;
  adminApiKey: string;
  /** Ghost's webhook ids by event, as registration returned them. */
  ids: Readonly<Record<string, string>>;
  secret: string;
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
 * webhook is tried once; a failure is reported, never thrown (GhostWebhookSecretKeeper logs and
 * retries).
 */
export async function updateGhostWebhookSecrets(request: SecretUpdateRequest): Promise<SecretUpdateResult> {
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
  return result;
}
