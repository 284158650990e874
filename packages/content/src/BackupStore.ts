import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { GetObjectCommand, type GetObjectCommandOutput, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type BackupSigner, SIGNATURE_METADATA } from './BackupSigner.js';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type ContentBackup,
  LEGACY_BACKUP_FORMAT,
  type LegacyPostsBackup,
  upgradeLegacyBackup,
} from './ContentBackup.js';
import { BackupError, BackupRefusedError } from './errors.js';

export interface BackupLocation {
  readonly bucket: string;
  readonly key: string;
}

export interface BackupStoreOptions {
  s3: S3Client;
  bucket: string;
  /** Prepended to every key (BACKUP_PREFIX); ends with `/` unless empty. */
  prefix: string;
  /** Signs what is written and checks what is read. */
  signer: BackupSigner;
  /** The most a backup may hold, stored and decompressed (BACKUP_MAX_BYTES). */
  maxBytes: number;
}

/** How a backup may be read. */
export interface ReadOptions {
  /** Read a backup without a signature (one written before backups were signed); a bad signature is never accepted. */
  readonly acceptUnsigned?: boolean;
}

/** Reads and writes signed backups as gzipped JSON objects in one bucket, one prefix per site. */
export class BackupStore {
  readonly #s3: S3Client;
  readonly bucket: string;
  readonly #prefix: string;
  readonly #signer: BackupSigner;
  readonly #maxBytes: number;

  constructor(options: BackupStoreOptions) {
    this.#s3 = options.s3;
    this.bucket = options.bucket;
    this.#prefix = options.prefix;
    this.#signer = options.signer;
    this.#maxBytes = options.maxBytes;
  }

  /** Where the backups of a site (as siteName() names it) live: `<prefix><site>/`. */
  sitePrefix(siteName: string): string {
    return `${this.#prefix}${siteName.replace(/\//g, '_')}/`;
  }

  /** One object per run: `<prefix><site>/<time>.json.gz`, sortable by time. */
  locationFor(siteName: string, at: Date): BackupLocation {
    const stamp = at.toISOString().replace(/[:.]/g, '-');
    return { bucket: this.bucket, key: `${this.sitePrefix(siteName)}${stamp}.json.gz` };
  }

  /**
   * Refuses a location outside the bucket or outside the site's prefix (a backup of another site,
   * or an object such as a restore lease): restore reads only what delete-all-posts wrote for it.
   */
  requireSiteBackup(location: BackupLocation, siteName: string, hint: string): void {
    const prefix = this.sitePrefix(siteName);
    const inside =
      location.bucket === this.bucket &&
      location.key.startsWith(prefix) &&
      /^[^/]+\.json(\.gz)?$/.test(location.key.slice(prefix.length));
    if (!inside) {
      throw new BackupRefusedError(
        `${formatLocation(location)} is not a backup of ${siteName}: delete-all-posts keeps them as ` +
          `s3://${this.bucket}/${prefix}<time>.json.gz. ${hint}`,
        formatLocation(location),
      );
    }
  }

  /**
   * Gzipped JSON: a fifth of the bytes to send and store, and the compression runs on libuv's thread
   * pool, beside the JSON work on the main thread.
   */
  async write(location: BackupLocation, backup: ContentBackup): Promise<void> {
    const body = await gzipAsync(JSON.stringify(backup), { level: 1 });
    const signature = await this.#signer.sign(location, body).catch((error: unknown) => {
      throw new BackupError(
        `Signing the backup ${formatLocation(location)} failed (secret '${this.#signer.secretId}', BACKUP_SIGNING_SECRET_ID): ${errorText(error)}`,
        formatLocation(location),
        { cause: summarize(error) },
      );
    });
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          Body: body,
          ContentType: 'application/json',
          ContentEncoding: 'gzip',
          Metadata: { [SIGNATURE_METADATA]: signature },
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

  /**
   * A version 2 backup, or a version 1 backup read as version 2, once its signature verified (or it
   * has none and `acceptUnsigned` is set). Nothing larger than `maxBytes` is read or inflated.
   */
  async read(location: BackupLocation, options: ReadOptions = {}): Promise<ContentBackup> {
    const where = formatLocation(location);
    let response: GetObjectCommandOutput;
    let bytes: Uint8Array;
    try {
      response = await this.#s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
      if ((response.ContentLength ?? 0) > this.#maxBytes) {
        // Not read: a stream never consumed is dropped with the response.
        await response.Body?.transformToWebStream()
          .cancel()
          .catch(() => undefined);
        throw this.#tooLarge(location, `is ${response.ContentLength} bytes, more`);
      }
      bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (error) {
      if (error instanceof BackupRefusedError) throw error;
      throw new BackupError(`Reading the backup ${where} failed: ${describeS3Error(error)}`, where, {
        cause: summarize(error),
      });
    }
    if (bytes.length > this.#maxBytes) throw this.#tooLarge(location, `is ${bytes.length} bytes, more`);
    const signature = response.Metadata?.[SIGNATURE_METADATA];
    if (signature === undefined) {
      if (!options.acceptUnsigned) {
        throw new BackupRefusedError(
          `${where} carries no signature (metadata ${SIGNATURE_METADATA}): delete-all-posts signs every backup it ` +
            'writes, so this object was written by someone else or before backups were signed. Only if you know ' +
            `where it came from, invoke with "acceptUnsignedBackup": true. Nothing was restored.`,
          where,
        );
      }
    } else if (!(await this.#signer.verify(location, bytes, signature))) {
      throw new BackupRefusedError(
        `${where}: the signature does not match the object (changed after delete-all-posts wrote it, copied from ` +
          `another key, or signed with another key than secret '${this.#signer.secretId}'). Nothing was restored.`,
        where,
      );
    }
    let text: string;
    try {
      text = await backupText(bytes, this.#maxBytes);
    } catch (error) {
      if (isTooLarge(error)) throw this.#tooLarge(location, 'decompresses to more');
      throw new BackupError(`${where} is not a readable gzip file: ${errorText(error)}`, where, {
        cause: summarize(error),
      });
    }
    let parsed: Partial<ContentBackup> | Partial<LegacyPostsBackup>;
    try {
      parsed = JSON.parse(text) as Partial<ContentBackup> | Partial<LegacyPostsBackup>;
    } catch {
      throw new BackupError(`${where} is not JSON`, where);
    }
    if (parsed.format === BACKUP_FORMAT && parsed.version === BACKUP_VERSION && parsed.items) {
      return parsed as ContentBackup;
    }
    if (parsed.format === LEGACY_BACKUP_FORMAT && parsed.version === 1 && Array.isArray(parsed.posts)) {
      return upgradeLegacyBackup({ ...parsed, pages: parsed.pages ?? [] } as LegacyPostsBackup);
    }
    throw new BackupError(
      `${where} is not a delete-all-posts backup (format '${BACKUP_FORMAT}' version ${BACKUP_VERSION}, or '${LEGACY_BACKUP_FORMAT}' version 1)`,
      where,
    );
  }

  #tooLarge(location: BackupLocation, what: string): BackupRefusedError {
    return new BackupRefusedError(
      `${formatLocation(location)} ${what} than ${this.#maxBytes} bytes (BACKUP_MAX_BYTES): refused without ` +
        'reading it whole. Raise BACKUP_MAX_BYTES (and the memory) only for a backup you trust. Nothing was restored.',
      formatLocation(location),
    );
  }
}

/**
 * BACKUP_MAX_BYTES by default: 128 MiB of JSON (1,000 posts exported with their emails, comments and
 * revisions were 19 MB). Parsing takes a few times the text's size, which the functions' 512 MB hold;
 * the delete function, building the same JSON in the same memory, writes nothing much larger.
 */
export const DEFAULT_BACKUP_MAX_BYTES = 128 * 1024 * 1024;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * The backup's JSON text: gzipped (format 2) or plain (format 1, and files written by hand). zlib stops
 * inflating at `maxBytes` and fails with ERR_BUFFER_TOO_LARGE: a small gzip bomb never fills the memory.
 */
export async function backupText(bytes: Uint8Array, maxBytes = DEFAULT_BACKUP_MAX_BYTES): Promise<string> {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!gzipped) {
    if (bytes.length > maxBytes) throw new RangeError(`more than ${maxBytes} bytes`);
    return Buffer.from(bytes).toString('utf8');
  }
  return (await gunzipAsync(bytes, { maxOutputLength: maxBytes })).toString('utf8');
}

/** zlib's error for output beyond `maxOutputLength`. */
function isTooLarge(error: unknown): boolean {
  return error instanceof RangeError;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
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
