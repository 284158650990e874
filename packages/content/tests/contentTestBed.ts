import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger, type Logger } from '@ghost-ha/core';
import { GhostServer, MotoServer } from '@ghost-ha/testbed';
import type { LambdaContext } from '../src/LambdaContext.js';

export const BUCKET = 'content-backups';
/** The secret with both keys: the complete backup (`/db` export) and restore by Ghost's import. */
export const SECRET_ID = 'ghost/test-site/admin-api';
/** The secret with the integration key only: the Admin API backup and restore. */
export const INTEGRATION_ONLY_SECRET_ID = 'ghost/test-site/integration-only';
/** The key backups are signed and checked with (BACKUP_SIGNING_SECRET_ID). */
export const SIGNING_SECRET_ID = 'ghost/test-site/backup-signing';

/** One real Ghost (without posts) and one moto (Secrets Manager + S3) shared by a test file. */
export interface ContentTestBed {
  ghost: GhostServer;
  moto: MotoServer;
  s3: S3Client;
  secretsManager: SecretsManagerClient;
  logger: Logger;
  /** The owner's staff access token (their own Admin API key), `id:secret`. */
  staffAccessToken: string;
  /** Stores `{url, adminApiKey, staffAccessToken?}` under a new secret id and returns the id. */
  putSecret(value: { url: string; adminApiKey?: string; staffAccessToken?: string }, id?: string): Promise<string>;
  backupKeys(): Promise<string[]>;
  destroy(): Promise<void>;
}

let secretCount = 0;

export async function startContentTestBed(): Promise<ContentTestBed> {
  const [ghost, moto] = await Promise.all([GhostServer.start(), MotoServer.start({ extended: true })]);
  const restoreEnv = moto.useInThisProcess();
  const s3 = new S3Client({ forcePathStyle: true });
  const secretsManager = new SecretsManagerClient({});
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // A new Ghost comes with a sample post; the tests count from zero.
  await ghost.admin.bulkDelete('posts', 'status:[published,draft,scheduled,sent]');
  const token = await ghost.staffRequest('GET', '/users/me/token/');
  const apiKey = (token.body as { apiKey?: { id: string; secret: string } }).apiKey;
  if (token.status !== 200 || !apiKey)
    throw new Error(`Reading the owner's staff access token failed: HTTP ${token.status}`);
  const bed: ContentTestBed = {
    ghost,
    moto,
    s3,
    secretsManager,
    logger: createLogger({ service: 'test', level: 'silent' }),
    staffAccessToken: `${apiKey.id}:${apiKey.secret}`,
    async putSecret(value, id = `${SECRET_ID}-${++secretCount}`) {
      await secretsManager.send(new CreateSecretCommand({ Name: id, SecretString: JSON.stringify(value) }));
      return id;
    },
    async backupKeys() {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      return (listed.Contents ?? []).map((object) => object.Key ?? '');
    },
    async destroy() {
      restoreEnv();
      await Promise.all([ghost.destroy(), moto.destroy()]);
    },
  };
  await bed.putSecret(
    { url: ghost.url, adminApiKey: ghost.adminApiKey, staffAccessToken: bed.staffAccessToken },
    SECRET_ID,
  );
  await bed.putSecret({ url: ghost.url, adminApiKey: ghost.adminApiKey }, INTEGRATION_ONLY_SECRET_ID);
  await secretsManager.send(
    new CreateSecretCommand({ Name: SIGNING_SECRET_ID, SecretString: randomBytes(32).toString('hex') }),
  );
  return bed;
}

/** A Lambda context with plenty of time, or the given remaining-time function. */
export function lambdaContext(remainingMs: () => number = () => 900_000, awsRequestId?: string): LambdaContext {
  return { getRemainingTimeInMillis: remainingMs, ...(awsRequestId ? { awsRequestId } : {}) };
}

/** How the site is named in a confirmation: the test Ghost's host and port. */
export function siteOf(url: string): string {
  return new URL(url).host;
}
