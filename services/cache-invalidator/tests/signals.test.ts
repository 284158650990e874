import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { INVALIDATOR_LOG, INVALIDATOR_LOG_FIELDS } from '../src/signals.js';
import { newJournalDir, startInvalidator, unreachableCloudFront } from './support/startInvalidator.js';

type LogLine = Record<string, unknown> & { msg: string };

describe('INVALIDATOR_LOG: the messages operators search for are the ones the service writes', () => {
  it('start over a torn journal, a send that fails, stop', async () => {
    const lines: LogLine[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    const logger = createLogger({ service: 'signals-test', level: 'info', destination });
    const journalDir = await newJournalDir();
    // What a crash in the middle of a write leaves: a record without its end.
    await writeFile(join(journalDir, 'journal.log'), '0badc0de {"type":"event","id":"torn');
    // Nothing listens on port 9: every send fails as a network error and is retried.
    const cloudFront = unreachableCloudFront();
    const service = await startInvalidator(
      {
        SITE_URL: 'https://example.com',
        CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
        ALLOW_UNSIGNED_WEBHOOKS: 'true',
        MANUAL_INVALIDATION_TOKEN: 'signals-test-token',
        JOURNAL_DIR: journalDir,
      },
      cloudFront,
      { logger },
    );
    const find = (msg: string) => lines.find((line) => line.msg === msg);
    try {
      await service.requestManual({ authorization: 'Bearer signals-test-token', body: { paths: ['/x/'] } });
      await expect.poll(() => find(INVALIDATOR_LOG.retrying), { timeout: 5_000 }).toBeDefined();
    } finally {
      await service.stop();
    }
    expect(find(INVALIDATOR_LOG.unsignedWebhooks)).toBeDefined();
    expect(find(INVALIDATOR_LOG.journalSkipped)).toMatchObject({ skippedCount: 1 });
    expect(find(INVALIDATOR_LOG.listening)).toBeDefined();
    expect(find(INVALIDATOR_LOG.batchCut)).toBeDefined();
    const retrying = find(INVALIDATOR_LOG.retrying);
    for (const field of Object.values(INVALIDATOR_LOG_FIELDS).filter((field) => field !== 'reason')) {
      expect(retrying, field).toHaveProperty(field);
    }
    expect(retrying?.[INVALIDATOR_LOG_FIELDS.error]).toMatchObject({ name: expect.any(String) });
    expect(find(INVALIDATOR_LOG.stopped)).toBeDefined();
  });
});
