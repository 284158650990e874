/** The command line is wrong: the message says which option and gives an example. */
export class SwitchUsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwitchUsageError';
  }
}

/** The deployment could not be read (an identifier is missing, or AWS could not be asked). */
export class DiscoveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscoveryError';
  }
}

/** A step's call or its verification failed; `next` tells the operator what to do. */
export class StepFailedError extends Error {
  readonly stepId: string;
  readonly next: string;

  constructor(stepId: string, message: string, next: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StepFailedError';
    this.stepId = stepId;
    this.next = next;
  }
}

/** A condition polled for was not met in time. */
export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, lastState: string, options?: { cause?: unknown }) {
    super(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (last seen: ${lastState})`, options);
    this.name = 'WaitTimeoutError';
  }
}

/** The upgrade command line is wrong: the message says which option and gives an example. */
export class UpgradeUsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpgradeUsageError';
  }
}

/** The upgrade was refused before anything changed (no go for the same upgrade). */
export class UpgradeRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpgradeRefusedError';
  }
}

/** Another upgrade (or rollback) of the same site is running. */
export class UpgradeLockedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpgradeLockedError';
  }
}

/** The upgrade failed and so did its rollback: the site is down until the operator rolls back by hand (the message says how). */
export class UpgradeRollbackFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpgradeRollbackFailedError';
  }
}
