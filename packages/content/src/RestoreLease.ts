import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BackupLocation } from './BackupStore.js';
import { describeS3Error, formatLocation, summarize } from './BackupStore.js';
import { BackupError, RestoreInProgressError } from './errors.js';

/** What a lease object says about its holder. */
export interface LeaseHolder {
  readonly holder: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export interface RestoreLeaseOptions {
  s3: S3Client;
  /**
   * How long a lease stands without being released: longer than an invocation can run (15 min) plus
   * the time Ghost may still spend on an import it started, so an expired lease means its holder is gone.
   */
  ttlMs?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 30 * 60_000;

/**
 * One restore of a backup at a time, across concurrent invocations and retries: the lease is an
 * object beside the backup, `<backup key>.restore-lease`, created with `If-None-Match: *` (S3 lets
 * exactly one of several simultaneous writers create it; the others get 412). A lease left behind
 * by an invocation that died is taken over once expired, with `If-Match` on its ETag, so two
 * invocations cannot both take over the same stale lease.
 */
export class RestoreLease {
  readonly #s3: S3Client;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: RestoreLeaseOptions) {
    this.#s3 = options.s3;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  static locationFor(backup: BackupLocation): BackupLocation {
    return { bucket: backup.bucket, key: `${backup.key}.restore-lease` };
  }

  /** Takes the lease or throws RestoreInProgressError naming the holder; returns the release function. */
  async acquire(backup: BackupLocation, holder: string): Promise<() => Promise<void>> {
    const location = RestoreLease.locationFor(backup);
    const now = this.#now();
    const body: LeaseHolder = {
      holder,
      acquiredAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.#ttlMs).toISOString(),
    };
    let written = await this.#put(location, body, { IfNoneMatch: '*' });
    if (written === 'exists') {
      const current = await this.#read(location);
      if (current && Date.parse(current.holder.expiresAt) > now) {
        throw new RestoreInProgressError(
          `Another restore of ${formatLocation(backup)} is running (${current.holder.holder}, since ` +
            `${current.holder.acquiredAt}). Invoke again when it has finished: posts it restored count as present ` +
            `and are not restored twice. Nothing was restored.`,
        );
      }
      written = current
        ? await this.#put(location, body, { IfMatch: current.etag })
        : await this.#put(location, body, { IfNoneMatch: '*' });
      if (written === 'exists') {
        throw new RestoreInProgressError(
          `Another restore of ${formatLocation(backup)} took over its expired lease at the same moment. Nothing was restored.`,
        );
      }
    }
    return async () => {
      await this.#s3.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key })).catch(() => {
        // An unreleased lease expires by itself; the restore itself is done.
      });
    };
  }

  async #put(
    location: BackupLocation,
    body: LeaseHolder,
    condition: { IfNoneMatch: string } | { IfMatch: string },
  ): Promise<PutObjectCommandOutput | 'exists'> {
    try {
      return await this.#s3.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          Body: JSON.stringify(body),
          ContentType: 'application/json',
          ...condition,
        }),
      );
    } catch (error) {
      // 412: someone else's lease is there (or changed under an If-Match); 409: a concurrent conditional write.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return 'exists';
      throw new BackupError(
        `Taking the restore lease ${formatLocation(location)} failed: ${describeS3Error(error)}. Nothing was restored.`,
        formatLocation(location),
        { cause: summarize(error) },
      );
    }
  }

  async #read(location: BackupLocation): Promise<{ holder: LeaseHolder; etag: string } | undefined> {
    try {
      const response = await this.#s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
      const text = (await response.Body?.transformToString('utf8')) ?? '';
      return { holder: JSON.parse(text) as LeaseHolder, etag: response.ETag ?? '' };
    } catch (error) {
      if (error instanceof Error && error.name === 'NoSuchKey') return undefined;
      throw new BackupError(
        `Reading the restore lease ${formatLocation(location)} failed: ${describeS3Error(error)}. Nothing was restored.`,
        formatLocation(location),
        { cause: summarize(error) },
      );
    }
  }
}
