import { describe, expect, it } from 'vitest';
import { updateGhostWebhookSecrets } from '../src/updateGhostWebhookSecrets.js';

const ADMIN_API_KEY = `${'a'.repeat(24)}:${'b'.repeat(64)}`;

/** Ghost at the edge: its answer to each PUT, by webhook id. */
function ghostAnswering(answers: Record<string, number>): typeof fetch {
  return async (input) => {
    const id = /\/webhooks\/([^/]+)\//.exec(String(input instanceof Request ? input.url : input))?.[1] ?? '';
    const status = answers[id] ?? 500;
    return new Response(status === 200 ? '{"webhooks":[{}]}' : '{"errors":[{"message":"no"}]}', {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
}

describe('updateGhostWebhookSecrets', () => {
  it('sorts each webhook by what Ghost answered: taken, gone (404) or failed; never throws', async () => {
    const result = await updateGhostWebhookSecrets({
      ghostUrl: 'http://127.0.0.1:9',
      adminApiKey: ADMIN_API_KEY,
      ids: { 'post.published': 'one', 'post.deleted': 'two', 'tag.deleted': 'three' },
      secret: 'new-secret',
      fetch: ghostAnswering({ one: 200, two: 404, three: 503 }),
    });
    expect(result).toEqual({ updated: ['post.published'], missing: ['post.deleted'], failed: ['tag.deleted'] });
  });
});
