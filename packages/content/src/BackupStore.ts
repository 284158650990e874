import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type ContentBackup,
  LEGACY_BACKUP_FORMAT,
  type LegacyPostsBackup,
  upgradeLegacyBackup,
} from './ContentBackup.js';
import { BackupError } from './errors.js';

export interface BackupLocation {
  readonly bucket: string;
  readonly key: string;
}

/** Reads and writes backups as JSON objects in one bucket. */
export class BackupStore {
  readonly #s3: S3Client;
  readonly bucket: string;
  readonly #prefix: string;

  constructor(options: { s3: S3Client; bucket: string; prefix: string }) {
    this.#s3 = options.s3;
    this.bucket = options.bucket;
    this.#prefix = options.prefix;
  }

  /** One object per run: `<prefix><site>/<time>.json.gz`, sortable by time. */
  locationFor(siteName: string, at: Date): BackupLocation {
    const stamp = at.toISOString().replace(/[:.]/g, '-');
    return { bucket: this.bucket, key: `${this.#prefix}${siteName.replace(/\//g, '_')}/${stamp}.json.gz` };
  }

  /**
   * Gzipped JSON: a fifth of the bytes to send and store, and the compression runs on libuv's thread
   * pool, beside the JSON work on the main thread.
   */
  async write(location: BackupLocation, backup: ContentBackup): Promise<void> {
    const body = await gzipAsync(JSON.stringify(backup), { level: 1 });
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          Body: body,
          ContentType: 'application/json',
          ContentEncoding: 'gzip',
          // A second write to the same key must never replace a backup.
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      throw new BackupError(
        `Writing the backup to ${formatLocation(location)} failed: ${describeS3Error(error)}`,
        formatLocation(location),
        { cause: summarize(error) },
      );
    }
  }

  /** A version 2 backup, or a version 1 backup read as version 2. */
  async read(location: BackupLocation): Promise<ContentBackup> {
    let text: string;
    try {
      const response = await this.#s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
      text = await backupText((await response.Body?.transformToByteArray()) ?? new Uint8Array());
    } catch (error) {
      throw new BackupError(
        `Reading the backup ${formatLocation(location)} failed: ${describeS3Error(error)}`,
        formatLocation(location),
        { cause: summarize(error) },
      );
    }
    let parsed: Partial<ContentBackup> | Partial<LegacyPostsBackup>;
    try {
      parsed = JSON.parse(text) as Partial<ContentBackup> | Partial<LegacyPostsBackup>;
    } catch {
      throw new BackupError(`${formatLocation(location)} is not JSON`, formatLocation(location));
    }
    if (parsed.format === BACKUP_FORMAT && parsed.version === BACKUP_VERSION && parsed.items) {
      return parsed as ContentBackup;
    }
    if (parsed.format === LEGACY_BACKUP_FORMAT && parsed.version === 1 && Array.isArray(parsed.posts)) {
      return upgradeLegacyBackup({ ...parsed, pages: parsed.pages ?? [] } as LegacyPostsBackup);
    }
    throw new BackupError(
      `${formatLocation(location)} is not a delete-all-posts backup (format '${BACKUP_FORMAT}' version ${BACKUP_VERSION}, or '${LEGACY_BACKUP_FORMAT}' version 1)`,
      formatLocation(location),
    );
  }
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The backup's JSON text: gzipped (format 2) or plain (format 1, and files written by hand). */
export async function backupText(bytes: Uint8Array): Promise<string> {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gzipped ? await gunzipAsync(bytes) : Buffer.from(bytes)).toString('utf8');
}

export function formatLocation(location: BackupLocation): string {
  return `s3://${location.bucket}/${location.key}`;
}

/** `s3://bucket/key` → location; undefined when it is not of that form. */
export function parseLocation(text: string): BackupLocation | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(text.trim());
  return match?.[1] && match[2] ? { bucket: match[1], key: match[2] } : undefined;
}

export function describeS3Error(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const hints: Record<string, string> = {
    AccessDenied:
      'access denied; grant this role s3:PutObject/s3:GetObject on the bucket (and kms:GenerateDataKey/kms:Decrypt on its key)',
    NoSuchBucket: 'the bucket does not exist (check BACKUP_BUCKET and the region)',
    NoSuchKey: 'there is no such object',
    PreconditionFailed: 'an object already exists at that key',
  };
  return `${error.name}: ${hints[error.name] ?? error.message}`;
}

/** The SDK's error holds the raw response; keep only what is safe to log. */
export function summarize(error: unknown): { name: string; message: string } | undefined {
  return error instanceof Error ? { name: error.name, message: error.message } : undefined;
}
