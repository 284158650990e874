/** The invocation's event is malformed; nothing was read or changed. */
export class InvalidEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`Invalid event: ${message}`, options);
    this.name = 'InvalidEventError';
  }
}

/** A real run without a confirmation naming this site, or naming another one; nothing was deleted. */
export class ConfirmationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfirmationError';
  }
}

/** Ghost could not be reached, or refused the key, before anything was deleted. */
export class GhostUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GhostUnavailableError';
  }
}

/** Writing or reading a backup in S3 failed. */
export class BackupError extends Error {
  readonly location: string;

  constructor(message: string, location: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupError';
    this.location = location;
  }
}

/** Ghost refused the NQL filter; the message names the filter and quotes Ghost's reason. */
export class FilterError extends Error {
  readonly filter: string;

  constructor(filter: string, ghostMessage: string, options?: { cause?: unknown }) {
    super(`Ghost refused the filter ${JSON.stringify(filter)}: ${ghostMessage}`, options);
    this.name = 'FilterError';
    this.filter = filter;
  }
}

/**
 * The invocation has less time left than the margin it must keep, so it could do nothing useful
 * (and would write a backup only to stop at once). Raise the function's timeout or lower the margin.
 */
export class TimeMarginError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TimeMarginError';
  }
}

/** Another restore of the same backup holds the lease; this invocation changed nothing. */
export class RestoreInProgressError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RestoreInProgressError';
  }
}

/**
 * Restore refuses the backup: under another site's prefix, naming another site, unsigned, with a
 * signature that does not verify, or larger than BACKUP_MAX_BYTES. Nothing was restored.
 */
export class BackupRefusedError extends Error {
  readonly location: string;

  constructor(message: string, location: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupRefusedError';
    this.location = location;
  }
}
