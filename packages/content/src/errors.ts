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
