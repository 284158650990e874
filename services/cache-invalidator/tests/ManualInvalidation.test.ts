import { createRegistry } from '@ghost-ha/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics, type InvalidatorMetrics } from '../src/createMetrics.js';
import { RequestRejectedError } from '../src/errors.js';
import { ManualInvalidation } from '../src/ManualInvalidation.js';
import type { ManualRequest } from '../src/ManualRequests.js';
import { SitePaths } from '../src/sitePaths.js';
import { openTestQueue, type TestQueue } from './support/openTestQueue.js';

const TOKEN = 'manual-test-token-0123456789';
const site = new SitePaths('https://example.com/blog');

async function rejection(promise: Promise<unknown>): Promise<RequestRejectedError> {
  const error = await promise.then(
    () => undefined,
    (rejected: unknown) => rejected,
  );
  expect(error).toBeInstanceOf(RequestRejectedError);
  return error as RequestRejectedError;
}

describe('ManualInvalidation', () => {
  let testQueue: TestQueue;
  let metrics: InvalidatorMetrics;

  beforeEach(async () => {
    testQueue = await openTestQueue(site.everything);
    metrics = createMetrics(createRegistry({ service: 'test' }), () => undefined, Date.now);
  });
  afterEach(async () => {
    await testQueue.close();
  });

  const manual = (token: string | undefined) =>
    new ManualInvalidation({ token, site, queue: testQueue.queue, metrics, now: Date.now });
  const request = (paths: unknown, authorization: string | undefined = `Bearer ${TOKEN}`): ManualRequest => ({
    authorization,
    body: { paths },
  });
  const counts = async () =>
    Object.fromEntries(
      (await metrics.webhooks.get()).values.map((v) => [`${v.labels.event}/${v.labels.result}`, v.value]),
    );

  it('cuts its batch at once: the batch exists when the request resolves, long before the window ends', async () => {
    const result = await manual(TOKEN).requestManual(request(['/blog/hello/', '/blog/tag/news/*']));
    expect(result.paths).toEqual(['/blog/hello/', '/blog/tag/news/*']);
    expect(testQueue.batches).toHaveLength(1);
    expect([...(testQueue.batches[0]?.paths ?? [])].sort()).toEqual(['/blog/hello/', '/blog/tag/news/*']);
    expect(await counts()).toEqual({ 'manual/accepted': 1 });
  });

  it.each([
    ['the site', '/blog/*'],
    ['the whole distribution', '/*'],
  ])('a request for everything under %s is an everything batch', async (_what, path) => {
    await manual(TOKEN).requestManual(request(['/blog/hello/', path]));
    expect(testQueue.batches[0]?.paths).toEqual([site.everything]);
  });

  it('is off without a token: 403 whatever is sent, and nothing is journaled', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Bearer anything']) {
      const error = await rejection(manual(undefined).requestManual(request(['/blog/'], authorization)));
      expect([error.status, error.reason]).toEqual([403, 'manual_disabled']);
    }
    expect(await testQueue.journaled()).toEqual([]);
  });

  it('refuses a token that is a prefix or an extension of the real one, or not a bearer token', async () => {
    for (const authorization of [
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Basic ${TOKEN}`,
      TOKEN,
      `bearer ${TOKEN}`,
    ]) {
      const error = await rejection(manual(TOKEN).requestManual(request(['/blog/'], authorization)));
      expect([authorization, error.status, error.reason]).toEqual([authorization, 401, 'unauthorized']);
    }
    expect(await counts()).toEqual({ 'manual/unauthorized': 5 });
    expect(await testQueue.journaled()).toEqual([]);
  });

  it('takes 1 to 100 CloudFront paths and refuses anything else, naming the rule', async () => {
    const hundred = Array.from({ length: 100 }, (_, n) => `/blog/p${n}/`);
    expect((await manual(TOKEN).requestManual(request(hundred))).paths).toHaveLength(100);
    for (const paths of [
      [...hundred, '/blog/one-more/'],
      'not-a-list',
      [42],
      ['/blog/café/'],
      ['/blog/tab\there/'],
      [`/${'x'.repeat(1000)}`],
    ]) {
      const error = await rejection(manual(TOKEN).requestManual(request(paths)));
      expect(error.reason).toBe('bad_paths');
      expect(error.message).toContain('E.g. {"paths"');
    }
    expect(await counts()).toEqual({ 'manual/accepted': 1 });
  });
});
