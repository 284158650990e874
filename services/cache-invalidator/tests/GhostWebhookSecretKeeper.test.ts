import { createLogger } from '@ghost-ha/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GhostWebhookSecretKeeper } from '../src/GhostWebhookSecretKeeper.js';
import { INVALIDATOR_LOG } from '../src/signals.js';

const ADMIN_API_KEY = `${'a'.repeat(24)}:${'b'.repeat(64)}`;
const IDS = { 'post.published': 'aaaaaaaaaaaaaaaaaaaaaaaa', 'post.deleted': 'bbbbbbbbbbbbbbbbbbbbbbbb' };

/**
 * The keeper against Ghost at the edge (each PUT recorded with its secret, answered by `answer`),
 * on a clock the test moves.
 */
function keeperWith(options: { answer?: (id: string) => number; overlapMs?: number; adminApiKey?: string } = {}) {
  const puts: { id: string; secret: string }[] = [];
  const lines: { level: number; msg: string; event?: string; failed?: string[] }[] = [];
  const clock = { now: 1_000_000 };
  const ghost: typeof fetch = async (input, init) => {
    const id = /\/webhooks\/([^/]+)\//.exec(String(input instanceof Request ? input.url : input))?.[1] ?? '';
    const body = JSON.parse(String(init?.body)) as { webhooks: { secret: string }[] };
    puts.push({ id, secret: body.webhooks[0]?.secret ?? '' });
    const status = options.answer?.(id) ?? 200;
    return new Response(status === 200 ? '{"webhooks":[{}]}' : '{"errors":[{"message":"no"}]}', {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  const keeper = new GhostWebhookSecretKeeper({
    ghostUrl: 'http://127.0.0.1:9',
    adminApiKey: async () => ('adminApiKey' in options ? options.adminApiKey : ADMIN_API_KEY),
    ids: async () => IDS,
    overlapMs: options.overlapMs ?? 60_000,
    now: () => clock.now,
    logger: createLogger({
      service: 'test',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    }),
    fetch: ghost,
  });
  const messages = () => lines.map((line) => line.msg);
  return { keeper, puts, lines, clock, messages };
}

describe('GhostWebhookSecretKeeper', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sets every registered webhook to the new secret and says "updated" only when Ghost took each', async () => {
    const { keeper, puts, messages } = keeperWith();
    expect(await keeper.rotated('new')).toBe(true);
    expect(puts).toEqual([
      { id: IDS['post.published'], secret: 'new' },
      { id: IDS['post.deleted'], secret: 'new' },
    ]);
    expect(messages()).toEqual([INVALIDATOR_LOG.webhookSecretsUpdated]);
    keeper.stop();
  });

  it('a webhook Ghost did not take: its own error message, never "updated", and false so the next reload tries again', async () => {
    const { keeper, lines } = keeperWith({ answer: (id) => (id === IDS['post.deleted'] ? 503 : 200) });
    expect(await keeper.rotated('new')).toBe(false);
    expect(lines.map((line) => [line.msg, line.failed])).toEqual([
      [INVALIDATOR_LOG.webhookSecretsUpdateFailed, ['post.deleted']],
    ]);
  });

  it('without an Admin API key it says the webhooks must be updated by hand, and PUTs nothing', async () => {
    const { keeper, puts, messages } = keeperWith({ adminApiKey: undefined });
    expect(await keeper.rotated('new')).toBe(true);
    expect(puts).toEqual([]);
    expect(messages()).toEqual([INVALIDATOR_LOG.webhookSecretsNotUpdated]);
  });

  it('sets every webhook again once the deliveries in flight at the change are answered (at most half the overlap)', async () => {
    const { keeper, puts, messages } = keeperWith({ overlapMs: 60_000 });
    await keeper.rotated('new');
    await vi.advanceTimersByTimeAsync(29_000);
    expect(puts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(puts).toHaveLength(4);
    expect(puts.slice(2).map((put) => put.secret)).toEqual(['new', 'new']);
    expect(messages()).toEqual([INVALIDATOR_LOG.webhookSecretsUpdated, INVALIDATOR_LOG.webhookSecretsSetAgain]);

    // With the default hour of overlap the second setting comes after Ghost's retries, 45 s.
    const hour = keeperWith({ overlapMs: 3_600_000 });
    await hour.keeper.rotated('new');
    await vi.advanceTimersByTimeAsync(44_000);
    expect(hour.puts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(hour.puts).toHaveLength(4);
  });

  it('a delivery signed with the previous secret after its webhook took the new one sets that webhook again, once per burst', async () => {
    const { keeper, puts, lines, clock } = keeperWith();
    await keeper.rotated('new');
    const setAt = clock.now;
    // Made before the change and retried by Ghost: nothing to correct.
    keeper.signedWithPrevious('post.published', setAt - 500);
    keeper.signedWithPrevious('post.published', setAt);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(puts).toHaveLength(2);

    // Signed after the change with the previous secret: Ghost put it back.
    clock.now += 2_000;
    keeper.signedWithPrevious('post.published', setAt + 1_500);
    keeper.signedWithPrevious('post.published', setAt + 1_600);
    // Not while Ghost records the answer to the delivery that showed it: that would be undone too.
    await vi.advanceTimersByTimeAsync(2_900);
    expect(puts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(puts.slice(2)).toEqual([{ id: IDS['post.published'], secret: 'new' }]);
    expect(lines.slice(1).map((line) => [line.msg, line.event])).toEqual([
      [INVALIDATOR_LOG.webhookSecretPutBack, 'post.published'],
      [INVALIDATOR_LOG.webhookSecretsSetAgain, undefined],
    ]);

    // Still signed with it after the correction, and past the interval: set again.
    clock.now += 5_000;
    keeper.signedWithPrevious('post.published', clock.now - 100);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(puts).toHaveLength(4);
    // An event this service did not register is not its to correct.
    keeper.signedWithPrevious('member.added', clock.now);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(puts).toHaveLength(4);
    keeper.stop();
  });

  it("a newer rotation cancels the previous one's second setting; nothing is set back to an older secret", async () => {
    const { keeper, puts } = keeperWith();
    await keeper.rotated('second');
    await vi.advanceTimersByTimeAsync(10_000);
    await keeper.rotated('third');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(puts.map((put) => put.secret)).toEqual(['second', 'second', 'third', 'third', 'third', 'third']);
  });
});
