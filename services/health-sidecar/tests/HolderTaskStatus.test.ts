// @module-tag integration
// The standby's question to ECS, through the SDK's own client, against the test bed's ECS API
// (DescribeTasks in ECS's JSON protocol over the task model's states, reported late as ECS does).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient } from '@aws-sdk/client-ecs';
import { createLogger } from '@ghost-ha/core';
import {
  type ContainerState,
  type DescribedTask,
  EcsApiEndpoint,
  MODEL_CLUSTER_ARN,
  MOTO_CREDENTIALS,
  MOTO_REGION,
} from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HolderTaskStatus, holderTaskArn } from '../src/HolderTaskStatus.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const DELAY_MS = 3_000;
const ARN_PREFIX = 'arn:aws:ecs:us-east-1:123456789012:task/local/';

function container(name: string, startedAt: number, stoppedAt?: number): ContainerState {
  return { name, startedAt, stoppedAt, exitCode: stoppedAt === undefined ? undefined : 137 } as ContainerState;
}

function task(id: string, times: Partial<Pick<DescribedTask, 'stoppingAt' | 'stoppedAt'>>, ghostStoppedAt?: number) {
  const start = Date.now() - 600_000;
  return {
    arn: `${ARN_PREFIX}${id}`,
    id,
    createdAt: start,
    runningAt: start + 1_000,
    stoppingAt: times.stoppingAt,
    stoppedAt: times.stoppedAt,
    stoppedReason: times.stoppingAt === undefined ? undefined : 'Essential container in task exited',
    containers: [container('health-sidecar', start), container('ghost', start + 500, ghostStoppedAt)],
  } satisfies DescribedTask;
}

let api: EcsApiEndpoint;
let tasks: DescribedTask[] = [];
let status: HolderTaskStatus;

beforeAll(async () => {
  api = await EcsApiEndpoint.start({ tasks: () => tasks, statusDelayMs: DELAY_MS });
  status = new HolderTaskStatus({
    client: new ECSClient({ endpoint: api.url, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }),
    cluster: MODEL_CLUSTER_ARN,
    timeoutMs: 2_000,
    logger,
  });
});

afterAll(async () => {
  await api?.close();
});

describe('HolderTaskStatus: ECS DescribeTasks as evidence that a lease holder stopped', () => {
  const now = () => Date.now();

  it('reads STOPPED only once ECS reports it, which is after the task really stopped', async () => {
    tasks = [
      task('running', {}),
      task('stopped-long-ago', { stoppingAt: now() - 20_000, stoppedAt: now() - 10_000 }, now() - 12_000),
      task('stopped-just-now', { stoppingAt: now() - 2_000, stoppedAt: now() - 1_000 }, now() - 1_500),
      task('ghost-stopped-task-stopping', { stoppingAt: now() - 10_000 }, now() - 5_000),
      task('ghost-exited-task-not-stopping', {}, now() - 10_000),
    ];
    const verdict = (id: string) => status.verdict(`${ARN_PREFIX}${id}#0a1b2c3d`);
    expect(await verdict('running')).toBe('unknown');
    expect(await verdict('stopped-long-ago')).toBe('stopped');
    expect(await verdict('stopped-just-now'), 'ECS has not reported it yet').toBe('unknown');
    expect(await verdict('ghost-stopped-task-stopping')).toBe('stopped');
    expect(await verdict('ghost-exited-task-not-stopping'), 'a task not being stopped may restart it').toBe('unknown');
    expect(await verdict('no-such-task')).toBe('unknown');
  });

  it('asks nothing about a holder that is not a task of its cluster', async () => {
    const before = api.calls;
    expect(await status.verdict('ip-10-0-0-1:42#0a1b2c3d')).toBe('unknown');
    expect(await status.verdict('arn:aws:ecs:us-east-1:123456789012:task/other/abc#0a1b2c3d')).toBe('unknown');
    expect(api.calls).toBe(before);
    expect(holderTaskArn(`${ARN_PREFIX}abc#0a1b2c3d`, 'local')).toBe(`${ARN_PREFIX}abc`);
    expect(holderTaskArn(`${ARN_PREFIX}abc#0a1b2c3d`, MODEL_CLUSTER_ARN)).toBe(`${ARN_PREFIX}abc`);
  });

  it('an API that accepts and never answers is "unknown" at the time limit', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const hanging = new HolderTaskStatus({
        client: new ECSClient({
          endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
          region: MOTO_REGION,
          credentials: MOTO_CREDENTIALS,
          maxAttempts: 1,
        }),
        cluster: MODEL_CLUSTER_ARN,
        timeoutMs: 500,
        logger,
      });
      const started = Date.now();
      expect(await hanging.verdict(`${ARN_PREFIX}stopped-long-ago#0a1b2c3d`)).toBe('unknown');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      silent.closeAllConnections?.();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('an unreachable API is "unknown", within the time limit', async () => {
    tasks = [task('stopped-long-ago', { stoppingAt: now() - 20_000, stoppedAt: now() - 10_000 }, now() - 12_000)];
    api.setUnreachable(true);
    try {
      const started = Date.now();
      expect(await status.verdict(`${ARN_PREFIX}stopped-long-ago#0a1b2c3d`)).toBe('unknown');
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      api.setUnreachable(false);
    }
    expect(await status.verdict(`${ARN_PREFIX}stopped-long-ago#0a1b2c3d`)).toBe('stopped');
  });
});
