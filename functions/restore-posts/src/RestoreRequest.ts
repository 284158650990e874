import {
  type BackupLocation,
  confirmSiteField,
  dryRunField,
  eventFields,
  InvalidEventError,
  parseLocation,
  siteName,
} from '@ghost-ha/content';

/** What one invocation was asked to restore, after checking the event. */
export interface RestoreRequest {
  readonly backup: BackupLocation;
  /** True unless the event says `"dryRun": false`. */
  readonly dryRun: boolean;
  readonly confirmSite: string | undefined;
  /**
   * The site whose backup this is, when it is not the site restored into (`backupFromSite`, as
   * siteName() names it); undefined: the backup must be under the target site's own prefix.
   */
  readonly backupFromSite: string | undefined;
  /** `acceptUnsignedBackup: true`: read a backup that carries no signature (written before backups were signed). */
  readonly acceptUnsignedBackup: boolean;
}

const KNOWN_KEYS = ['backup', 'dryRun', 'confirmSite', 'backupFromSite', 'acceptUnsignedBackup'];
const EXAMPLE =
  'E.g. {"backup": "s3://my-backups/delete-all-posts/blog.example.com/2026-01-31T10-00-00-000Z.json", "dryRun": false, "confirmSite": "blog.example.com"}';

/** Checks the invocation event; the backup must lie in the configured bucket. */
export function parseRestoreRequest(event: unknown, backupBucket: string): RestoreRequest {
  const { backup, dryRun, confirmSite, backupFromSite, acceptUnsignedBackup } = eventFields(event, KNOWN_KEYS, EXAMPLE);
  const location = typeof backup === 'string' ? parseLocation(backup) : undefined;
  if (!location) {
    throw new InvalidEventError(
      `'backup' must be the backup's S3 location as delete-all-posts reported it. ${EXAMPLE}`,
    );
  }
  if (location.bucket !== backupBucket) {
    throw new InvalidEventError(
      `'backup' must be in the bucket ${backupBucket} (BACKUP_BUCKET), not ${location.bucket}.`,
    );
  }
  if (backupFromSite !== undefined && (typeof backupFromSite !== 'string' || siteName(backupFromSite) === '')) {
    throw new InvalidEventError(
      `'backupFromSite' must name the site the backup was taken from, as its key does, e.g. "old.example.com" ` +
        `(only to restore another site's backup into this one). ${EXAMPLE}`,
    );
  }
  if (acceptUnsignedBackup !== undefined && typeof acceptUnsignedBackup !== 'boolean') {
    throw new InvalidEventError(`'acceptUnsignedBackup' must be true or false. ${EXAMPLE}`);
  }
  return {
    backup: location,
    dryRun: dryRunField(dryRun, EXAMPLE),
    confirmSite: confirmSiteField(confirmSite, EXAMPLE),
    backupFromSite: typeof backupFromSite === 'string' ? siteName(backupFromSite) : undefined,
    acceptUnsignedBackup: acceptUnsignedBackup === true,
  };
}
