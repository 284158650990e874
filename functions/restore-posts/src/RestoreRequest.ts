import { type BackupLocation, InvalidEventError, parseLocation } from '@ghost-ha/delete-all-posts';

/** What one invocation was asked to restore, after checking the event. */
export interface RestoreRequest {
  readonly backup: BackupLocation;
  /** True unless the event says `"dryRun": false`. */
  readonly dryRun: boolean;
  readonly confirmSite: string | undefined;
}

const KNOWN_KEYS = ['backup', 'dryRun', 'confirmSite'] as const;
const EXAMPLE =
  'E.g. {"backup": "s3://my-backups/delete-all-posts/blog.example.com/2026-01-31T10-00-00-000Z.json", "dryRun": false, "confirmSite": "blog.example.com"}';

/** Checks the invocation event; the backup must lie in the configured bucket. */
export function parseRestoreRequest(event: unknown, backupBucket: string): RestoreRequest {
  const body = event ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidEventError(`the event must be a JSON object. ${EXAMPLE}`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !(KNOWN_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new InvalidEventError(
      `unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')}; allowed: ${KNOWN_KEYS.join(', ')}. ${EXAMPLE}`,
    );
  }
  const { backup, dryRun = true, confirmSite } = fields;
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
  if (typeof dryRun !== 'boolean') throw new InvalidEventError(`'dryRun' must be true or false. ${EXAMPLE}`);
  if (confirmSite !== undefined && (typeof confirmSite !== 'string' || confirmSite.trim() === '')) {
    throw new InvalidEventError(`'confirmSite' must be the site's host, e.g. "blog.example.com". ${EXAMPLE}`);
  }
  return { backup: location, dryRun, confirmSite: typeof confirmSite === 'string' ? confirmSite.trim() : undefined };
}
