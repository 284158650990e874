import { CloudFrontClient, CreateInvalidationCommand, InvalidArgument } from '@aws-sdk/client-cloudfront';
import { createLogger } from '@ghost-ha/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributionSender, MAX_SPLIT_CALLS, type Refusal } from '../src/DistributionSender.js';
import type { Batch } from '../src/JournalRecord.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const cloudFront = mockClient(CloudFrontClient);

/** A distribution that refuses any CreateInvalidation naming one of `refused`, as CloudFront answers a path it will not take. */
function refusing(refused: ReadonlySet<string>): string[][] {
  const accepted: string[][] = [];
  cloudFront.on(CreateInvalidationCommand).callsFake((input: CreateInvalidationCommand['input']) => {
    const paths = input.InvalidationBatch?.Paths?.Items ?? [];
    if (paths.some((path) => refused.has(path))) {
      throw new InvalidArgument({
        message: 'Your request contains one or more invalid invalidation paths.',
        $metadata: {},
      });
    }
    accepted.push(paths);
    return { Invalidation: { Id: `I${accepted.length}` } };
  });
  return accepted;
}

async function deliver(paths: string[]): Promise<{ refused: readonly Refusal[]; invalidationId: string }> {
  const batch: Batch = { id: 'ghost-ha-test', createdAt: Date.now(), paths, events: [], sent: {} };
  return new Promise((resolve) => {
    const sender = new DistributionSender({
      distributionId: 'E1',
      client: new CloudFrontClient({ region: 'us-east-1' }),
      retry: { baseDelayMs: 1, maxDelayMs: 5, busyDelayMs: 5, permanentDelayMs: 5 },
      logger,
      onAccepted: async (_batch, invalidationId, refused) => {
        sender.close();
        resolve({ invalidationId, refused });
      },
    });
    sender.enqueue(batch, false);
  });
}

const paths = (n: number) => Array.from({ length: n }, (_, i) => `/p-${i}/`);

describe('DistributionSender splitting a refused batch', () => {
  afterEach(() => cloudFront.reset());

  it('finds one refused path among 50 in 12 more calls and sends the other 49', async () => {
    const accepted = refusing(new Set(['/p-17/']));
    const { refused, invalidationId } = await deliver(paths(50));
    expect(refused).toEqual([
      { paths: ['/p-17/'], error: { name: 'InvalidArgument', message: expect.stringContaining('invalid') } },
    ]);
    expect(accepted.flat().sort()).toEqual(
      paths(50)
        .filter((p) => p !== '/p-17/')
        .sort(),
    );
    expect(invalidationId.split(',')).toHaveLength(accepted.length);
    expect(cloudFront.commandCalls(CreateInvalidationCommand)).toHaveLength(13);
  });

  it('spends at most MAX_SPLIT_CALLS more calls; what is still refused is handed back whole, nothing dropped', async () => {
    // Every path refused: the worst case for the budget.
    const all = paths(200);
    const accepted = refusing(new Set(all));
    const { refused, invalidationId } = await deliver(all);
    expect(cloudFront.commandCalls(CreateInvalidationCommand).length).toBeLessThanOrEqual(1 + MAX_SPLIT_CALLS);
    expect(accepted).toEqual([]);
    expect(invalidationId).toBe('none');
    expect(refused.flatMap((r) => r.paths).sort()).toEqual([...all].sort());
  });

  it('scattered refusals: every path is either accepted or handed back, exactly once', async () => {
    const all = paths(300);
    const bad = new Set(['/p-3/', '/p-150/', '/p-151/', '/p-299/']);
    const accepted = refusing(bad);
    const { refused } = await deliver(all);
    const handedBack = refused.flatMap((r) => r.paths);
    expect([...accepted.flat(), ...handedBack].sort()).toEqual([...all].sort());
    for (const path of bad) expect(handedBack).toContain(path);
    expect(cloudFront.commandCalls(CreateInvalidationCommand).length).toBeLessThanOrEqual(1 + MAX_SPLIT_CALLS);
  });
});
