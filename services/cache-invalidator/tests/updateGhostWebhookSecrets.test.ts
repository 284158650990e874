import { createLogger } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { INVALIDATOR_LOG } from '../src/signals.js';
import { updateGhostWebhookSecrets } from '../src/updateGhostWebhookSecrets.js';

const ADMIN_API_KEY = `${'a'.repeat(24)}:${'b'.repeat(64)}`;

/** Ghost's answer to each PUT, by webhook id; the log lines written. */
async function update(answers: Record<string, number>) {
  const lines: { level: string; msg: string; failed?: string[] }[] = [];
  const logger = createLogger({
    service: 'test',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const fetchStub: typeof fetch = async (input) => {
    const id = /\/webhooks\/([^/]+)\//.exec(String(input instanceof Request ? input.url : input))?.[1] ?? '';
    const status = answers[id] ?? 500;
    return new Response(status === 200 ? '{"webhooks":[{}]}' : '{"errors":[{"message":"no"}]}', {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  const result = await updateGhostWebhookSecrets({
    ghostUrl: 'http://127.0.0.1:9',
    adminApiKey: ADMIN_API_KEY,
    ids: { 'post.published': 'one', 'post.deleted': 'two' },
    secret: 'new-secret',
    logger,
    fetch: fetchStub,
  });
  return { result, lines };
}

describe('updateGhostWebhookSecrets', () => {
  it('says "updated" only when Ghost took every webhook', async () => {
    const { result, lines } = await update({ one: 200, two: 200 });
    expect(result).toEqual({ updated: ['post.published', 'post.deleted'], missing: [], failed: [] });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([['info', INVALIDATOR_LOG.webhookSecretsUpdated]]);
  });

  it('a webhook Ghost did not take is an error with its own message, never "updated"', async () => {
    const { result, lines } = await update({ one: 200, two: 503 });
    expect(result.failed).toEqual(['post.deleted']);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([['error', INVALIDATOR_LOG.webhookSecretsUpdateFailed]]);
    expect(lines.some((l) => l.msg === INVALIDATOR_LOG.webhookSecretsUpdated)).toBe(false);
  });
});
