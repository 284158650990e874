/** The connection that held the singleton lock is gone, or the database says someone else holds it. */
export class LockLostError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Singleton lock lost: ${reason}`, options);
    this.name = 'LockLostError';
  }
}

/** The database password could not be obtained (e.g. the Secrets Manager secret is unreadable). */
export class DatabasePasswordError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabasePasswordError';
  }
}

/** A database query did not answer within its time limit; its connection was destroyed to end it. */
export class QueryTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${what} did not answer within ${timeoutMs} ms`, options);
    this.name = 'QueryTimeoutError';
  }
}

/** This task may no longer run Ghost: another holder took over, or the lease could not be kept in time. */
export class FencedError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Fenced: ${reason}`, options);
    this.name = 'FencedError';
  }
}

/** The lock connection reached a read-only server: a lock taken there would exclude nobody. */
export class ReadOnlyServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReadOnlyServerError';
  }
}
