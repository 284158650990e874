import { createLogger } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { WebhookSecrets, type WebhookSecretVersions } from '../src/WebhookSecrets.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const HOUR = 3_600_000;

function secretsWith(initial: string, versions: () => WebhookSecretVersions | Error, clock: { now: number }) {
  const results: string[] = [];
  const secrets = new WebhookSecrets({
    initial,
    read: async () => {
      const next = versions();
      if (next instanceof Error) throw next;
      return next;
    },
    overlapMs: HOUR,
    reloadIntervalMs: 60_000,
    onReload: (result) => results.push(result),
    now: () => clock.now,
    logger,
  });
  return { secrets, results };
}

describe('WebhookSecrets', () => {
  it('takes a rotation: the previous secret is accepted until the overlap after it, then only the new one', async () => {
    const clock = { now: 10 * HOUR };
    let versions: WebhookSecretVersions = { current: 'a', previous: undefined, currentCreatedAt: 0 };
    const { secrets, results } = secretsWith('a', () => versions, clock);
    await secrets.reload();
    expect(secrets.accepted()).toEqual(['a']);
    versions = { current: 'b', previous: 'a', currentCreatedAt: undefined };
    await secrets.reload();
    expect(secrets.accepted()).toEqual(['b', 'a']);
    clock.now += HOUR - 1;
    expect(secrets.accepted()).toEqual(['b', 'a']);
    clock.now += 1;
    expect(secrets.accepted()).toEqual(['b']);
    expect(results).toEqual(['unchanged', 'changed']);
  });

  it('counts the overlap from the version creation when that is earlier than first seen', async () => {
    const clock = { now: 10 * HOUR };
    const { secrets } = secretsWith('a', () => ({ current: 'b', previous: 'a', currentCreatedAt: 9.5 * HOUR }), clock);
    await secrets.reload();
    expect(secrets.accepted()).toEqual(['b', 'a']);
    clock.now = 10.5 * HOUR;
    expect(secrets.accepted()).toEqual(['b']);
  });

  it('at start takes AWSPREVIOUS only while its rotation is within the overlap: a restart does not reopen it', async () => {
    const clock = { now: 10 * HOUR };
    const recent = secretsWith('b', () => ({ current: 'b', previous: 'a', currentCreatedAt: 9.9 * HOUR }), clock);
    await recent.secrets.reload();
    expect(recent.secrets.accepted()).toEqual(['b', 'a']);
    const old = secretsWith('b', () => ({ current: 'b', previous: 'a', currentCreatedAt: 2 * HOUR }), clock);
    await old.secrets.reload();
    expect(old.secrets.accepted()).toEqual(['b']);
  });

  it('keeps the last good secrets when a read fails or gives a blank value', async () => {
    const clock = { now: 10 * HOUR };
    let next: WebhookSecretVersions | Error = new Error('AccessDeniedException');
    const { secrets, results } = secretsWith('a', () => next, clock);
    await secrets.reload();
    next = { current: '  ', previous: 'a', currentCreatedAt: undefined };
    await secrets.reload();
    expect(secrets.accepted()).toEqual(['a']);
    expect(results).toEqual(['error', 'error']);
  });

  it('tells of a rotation until the update succeeds, once it has', async () => {
    const clock = { now: 10 * HOUR };
    const announced: string[] = [];
    const answers = [false, true];
    const secrets = new WebhookSecrets({
      initial: 'a',
      read: async () => ({ current: 'b', previous: 'a', currentCreatedAt: undefined }),
      overlapMs: HOUR,
      reloadIntervalMs: 60_000,
      onRotated: async (secret) => {
        announced.push(secret);
        return answers.shift() ?? true;
      },
      now: () => clock.now,
      logger,
    });
    await secrets.reload();
    await secrets.reload();
    await secrets.reload();
    expect(announced).toEqual(['b', 'b']);
  });
});
