import {
  type BackupLocation,
  confirmSiteField,
  dryRunField,
  eventFields,
  InvalidEventError,
  parseLocation,
} from '@ghost-ha/content';

/** What one invocation was asked to restore, after checking the event. */
export interface RestoreRequest {
  readonly backup: BackupLocation;
  /** True unless the event says `"dryRun": false`. */
  readonly dryRun: boolean;
  readonly confirmSite: string | undefined;
}

const KNOWN_KEYS = ['backup', 'dryRun', 'confirmSite'];
const EXAMPLE =
  'E.g. {"backup": "s3://my-backups/delete-all-posts/blog.example.com/2026-01-31T10-00-00-000Z.json", "dryRun": false, "confirmSite": "blog.example.com"}';

/** Checks the invocation event; the backup must lie in the configured bucket. */
export function parseRestoreRequest(event: unknown, backupBucket: string): RestoreRequest {
  const { backup, dryRun, confirmSite } = eventFields(event, KNOWN_KEYS, EXAMPLE);
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
  return {
    backup: location,
    dryRun: dryRunField(dryRun, EXAMPLE),
    confirmSite: confirmSiteField(confirmSite, EXAMPLE),
  };
}
