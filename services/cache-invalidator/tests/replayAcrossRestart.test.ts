import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@ghost-ha/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheInvalidator } from '../src/CacheInvalidator.js';
import { INVALIDATOR_LOG } from '../src/signals.js';
import { signGhostPayload } from '../src/verifyGhostSignature.js';
import { captured, webhookOf } from './support/fixtures.js';
import { newJournalDir, startInvalidator, unreachableCloudFront } from './support/startInvalidator.js';

const SECRET = 'replay-restart-secret';
type LogLine = Record<string, unknown> & { msg: string };

describe('a replayed delivery is refused across a restart of the service', () => {
  const running: CacheInvalidator[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((service) => service.stop()));
  });

  /** The service on `journalDir`, as after a restart of its task; nothing is sent (no CloudFront answers on port 9). */
  async function start(journalDir: string, lines: LogLine[] = []): Promise<CacheInvalidator> {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    const cloudFront = unreachableCloudFront();
    const service = await startInvalidator(
      {
        SITE_URL: captured.siteUrl,
        CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
        WEBHOOK_SECRET: SECRET,
        JOURNAL_DIR: journalDir,
      },
      cloudFront,
      { logger: createLogger({ service: 'replay-restart-test', level: 'info', destination }) },
    );
    running.push(service);
    return service;
  }

  async function post(service: CacheInvalidator, body: string, signature: string): Promise<[number, unknown]> {
    const response = await fetch(`${service.url}/webhooks/ghost/post.published`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Ghost-Signature': signature },
      body,
    });
    return [response.status, ((await response.json()) as { error?: unknown }).error];
  }

  const body = JSON.stringify(webhookOf('publish post with tags', 'post.published').body);

  it('remembers accepted signatures on disk beside the journal: the same delivery after a restart is 409', async () => {
    const journalDir = await newJournalDir();
    const signature = signGhostPayload(SECRET, body, Date.now());
    const first = await start(journalDir);
    expect(await post(first, body, signature)).toEqual([202, undefined]);
    await first.stop();
    running.splice(0);

    const restarted = await start(journalDir);
    expect(await post(restarted, body, signature)).toEqual([409, 'replayed_signature']);
    // A new delivery (signed afresh) is still taken after the restart.
    expect(await post(restarted, body, signGhostPayload(SECRET, body, Date.now() + 1))).toEqual([202, undefined]);
  });

  it('starts over a corrupt or unreadable record of signatures, saying what was lost', async () => {
    const corrupt = await newJournalDir();
    const signature = signGhostPayload(SECRET, body, Date.now());
    const first = await start(corrupt);
    expect(await post(first, body, signature)).toEqual([202, undefined]);
    await first.stop();
    running.splice(0);
    await writeFile(join(corrupt, 'signatures.log'), '0badc0de {"key":"torn', { flag: 'a' });
    const corruptLines: LogLine[] = [];
    const afterCorrupt = await start(corrupt, corruptLines);
    expect(corruptLines.find((line) => line.msg === INVALIDATOR_LOG.signaturesSkipped)).toMatchObject({
      skippedCount: 1,
    });
    // The whole records before the corrupt one still count.
    expect(await post(afterCorrupt, body, signature)).toEqual([409, 'replayed_signature']);
    await afterCorrupt.stop();
    running.splice(0);

    // A directory where the file should be: reading it fails (EISDIR), the service starts anyway.
    const unreadable = await newJournalDir();
    await mkdir(join(unreadable, 'signatures.log'));
    const lines: LogLine[] = [];
    const service = await start(unreadable, lines);
    expect(lines.find((line) => line.msg === INVALIDATOR_LOG.signaturesUnreadable)).toMatchObject({
      error: { code: 'EISDIR' },
    });
    expect(await post(service, body, signGhostPayload(SECRET, body, Date.now()))).toEqual([202, undefined]);
  });
});
