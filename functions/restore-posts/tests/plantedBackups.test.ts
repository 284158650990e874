// @module-tag integration
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lambdaContext } from '@ghost-ha/content/testing';
import { createLogger } from '@ghost-ha/core';
import { MotoServer } from '@ghost-ha/testbed';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createHandler, type RestorePostsHandler } from '../src/createHandler.js';

const BUCKET = 'planted-backups';
const SIGNING_SECRET_ID = 'ghost-ha/backup-signing';
const MAX_BYTES = 1024 * 1024;

/**
 * Backups someone other than delete-all-posts put in the bucket (a writer without the signing key:
 * another role, a leaked credential) or that belong to another site. Restore must refuse each before
 * it talks to Ghost. The site's "Ghost" here only counts requests: a refused backup reaches none.
 */
describe('restore-posts refuses planted backups (moto S3 and Secrets Manager)', () => {
  let moto: MotoServer;
  let restoreEnv: () => void;
  let s3: S3Client;
  let ghost: Server;
  let ghostRequests = 0;
  let site: string;
  let signingKey: string;
  let restore: RestorePostsHandler;

  beforeAll(async () => {
    moto = await MotoServer.start();
    restoreEnv = moto.useInThisProcess();
    s3 = new S3Client({ forcePathStyle: true });
    const secretsManager = new SecretsManagerClient({});
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    ghost = createServer((_request, response) => {
      ghostRequests++;
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ message: 'Unknown Admin API key', type: 'UnauthorizedError' }] }));
    });
    await new Promise<void>((resolve) => ghost.listen(0, '127.0.0.1', resolve));
    const siteUrl = `http://127.0.0.1:${(ghost.address() as AddressInfo).port}`;
    site = new URL(siteUrl).host;
    signingKey = randomBytes(32).toString('hex');
    await secretsManager.send(new CreateSecretCommand({ Name: SIGNING_SECRET_ID, SecretString: signingKey }));
    await secretsManager.send(
      new CreateSecretCommand({
        Name: 'ghost-ha/ghost-admin',
        SecretString: JSON.stringify({ url: siteUrl, adminApiKey: `${'a'.repeat(24)}:${'b'.repeat(64)}` }),
      }),
    );
    restore = createHandler(
      loadConfig({
        GHOST_SECRET_ID: 'ghost-ha/ghost-admin',
        BACKUP_BUCKET: BUCKET,
        BACKUP_SIGNING_SECRET_ID: SIGNING_SECRET_ID,
        BACKUP_MAX_BYTES: String(MAX_BYTES),
        AWS_ENDPOINT_URL: moto.endpoint,
      }),
      { logger: createLogger({ service: 'test', level: 'silent' }), secretsManager, writeMetrics: () => {} },
    );
  });

  afterAll(async () => {
    restoreEnv?.();
    await new Promise((resolve) => ghost?.close(resolve));
    await moto?.destroy();
  });

  beforeEach(() => {
    ghostRequests = 0;
  });

  /** Puts an object as a writer of the bucket would; `signWith` computes the signature of `signedBody` over `key`. */
  const plant = async (
    key: string,
    body: Uint8Array,
    options: { signWith?: string; signedBody?: Uint8Array } = {},
  ): Promise<string> => {
    const metadata = options.signWith
      ? { 'hmac-sha256': signature(options.signWith, key, options.signedBody ?? body) }
      : undefined;
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ContentEncoding: 'gzip',
        ...(metadata ? { Metadata: metadata } : {}),
      }),
    );
    return `s3://${BUCKET}/${key}`;
  };
  const ownKey = (name: string): string => `delete-all-posts/${site}/${name}.json.gz`;

  it('accepts a backup of this site signed with the key (the control: it gets as far as Ghost)', async () => {
    const body = gzipSync(JSON.stringify(backupOf(`http://${site}`)));
    const backup = await plant(ownKey('signed'), body, { signWith: signingKey });

    await expect(restore({ backup }, lambdaContext())).rejects.toMatchObject({ name: 'GhostUnavailableError' });
    expect(ghostRequests).toBeGreaterThan(0);
  });

  it("refuses another site's backup unless the event names that site", async () => {
    const key = 'delete-all-posts/other.example.com/2026-01-31T10-00-00-000Z.json.gz';
    const backup = await plant(key, gzipSync(JSON.stringify(backupOf('https://other.example.com'))), {
      signWith: signingKey,
    });

    await expect(restore({ backup }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupRefusedError',
      message: expect.stringMatching(/delete-all-posts\/127\.0\.0\.1:\d+\/.*"backupFromSite": "other\.example\.com"/),
    });
    expect(ghostRequests).toBe(0);
    // Named explicitly, it is read (and then restored into this site).
    await expect(restore({ backup, backupFromSite: 'other.example.com' }, lambdaContext())).rejects.toMatchObject({
      name: 'GhostUnavailableError',
    });
    await expect(restore({ backup, backupFromSite: 42 }, lambdaContext())).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringContaining("'backupFromSite'"),
    });
  });

  it('refuses a backup whose content names another site than its key, even when signed', async () => {
    const body = gzipSync(JSON.stringify(backupOf('https://other.example.com')));
    const backup = await plant(ownKey('wrong-site'), body, { signWith: signingKey });

    await expect(restore({ backup }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupRefusedError',
      message: expect.stringContaining('other.example.com'),
    });
    expect(ghostRequests).toBe(0);
  });

  it('refuses a tampered body, a signature of another key or of another signing key, and an unsigned backup', async () => {
    const original = gzipSync(JSON.stringify(backupOf(`http://${site}`)));
    const tampered = gzipSync(JSON.stringify({ ...backupOf(`http://${site}`), filter: 'tampered' }));
    const planted = [
      await plant(ownKey('tampered'), tampered, { signWith: signingKey, signedBody: original }),
      await plant(ownKey('wrong-key'), original, { signWith: randomBytes(32).toString('hex') }),
      await plant(ownKey('unsigned'), original),
    ];
    // A signed backup copied under another key of the site: the signature covers the key.
    const moved = ownKey('moved');
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: moved,
        Body: original,
        Metadata: { 'hmac-sha256': signature(signingKey, ownKey('original'), original) },
      }),
    );
    planted.push(`s3://${BUCKET}/${moved}`);

    for (const backup of planted) {
      await expect(restore({ backup }, lambdaContext()), backup).rejects.toMatchObject({
        name: 'BackupRefusedError',
        message: expect.stringMatching(/signature/),
      });
    }
    expect(ghostRequests).toBe(0);
  });

  it('refuses a gzip bomb by its decompressed size, signed or not, without inflating it', async () => {
    // 64 MiB of JSON in about 64 KiB of gzip: a valid backup once inflated.
    const inflated = JSON.stringify({ ...backupOf(`http://${site}`), padding: ' '.repeat(64 * 1024 * 1024) });
    const bomb = gzipSync(inflated, { level: 9 });
    expect(bomb.length).toBeLessThan(MAX_BYTES);
    const signed = await plant(ownKey('bomb-signed'), bomb, { signWith: signingKey });
    const unsigned = await plant(ownKey('bomb-unsigned'), bomb);

    const heapBefore = process.memoryUsage().arrayBuffers;
    await expect(restore({ backup: signed }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupRefusedError',
      message: expect.stringMatching(/more than 1048576 bytes.*BACKUP_MAX_BYTES/),
    });
    await expect(restore({ backup: unsigned }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupRefusedError',
    });
    expect(ghostRequests).toBe(0);
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(32 * 1024 * 1024);
  });

  it('refuses an object larger than BACKUP_MAX_BYTES before reading it', async () => {
    const large = randomBytes(MAX_BYTES + 1);
    const backup = await plant(ownKey('large'), large, { signWith: signingKey });

    await expect(restore({ backup }, lambdaContext())).rejects.toMatchObject({
      name: 'BackupRefusedError',
      message: expect.stringMatching(/is 1048577 bytes, more than 1048576 bytes \(BACKUP_MAX_BYTES\)/),
    });
    expect(ghostRequests).toBe(0);
  });
});

/** The signature delete-all-posts writes: HMAC-SHA256 over the object key, a newline and the stored bytes. */
function signature(key: string, objectKey: string, body: Uint8Array): string {
  return createHmac('sha256', key).update(`${objectKey}\n`).update(body).digest('hex');
}

/** A small Admin API backup (version 2) of one post. */
function backupOf(siteUrl: string): Record<string, unknown> {
  return {
    format: 'ghost-ha/content-backup',
    version: 2,
    site: siteUrl,
    createdAt: '2026-01-31T10:00:00.000Z',
    filter: 'status:[published,draft,scheduled,sent]',
    source: 'admin-api',
    items: { posts: ['6489f3f0a1b2c3d4e5f60718'], pages: [] },
    unrestorable: { comments: undefined, emails: 0 },
    posts: [{ id: '6489f3f0a1b2c3d4e5f60718', uuid: 'u-1', slug: 'planted', title: 'Planted', status: 'published' }],
    pages: [],
  };
}
