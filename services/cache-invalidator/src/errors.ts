/** A webhook or manual request that is refused; `status` is the HTTP answer (never 410: Ghost deletes a webhook on 410). */
export class RequestRejectedError extends Error {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RequestRejectedError';
    this.status = status === 410 ? 400 : status;
    this.reason = reason;
  }
}

/** The journal could not make accepted work durable; the request is answered 503 and nothing is promised. */
export class JournalWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JournalWriteError';
  }
}

/** A webhook payload whose shape is not what Ghost sends for its event. */
export class PayloadShapeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PayloadShapeError';
  }
}

/** Registering webhooks in Ghost failed for a reason other than "already registered". */
export class WebhookRegistrationError extends Error {
  readonly event: string;

  constructor(event: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebhookRegistrationError';
    this.event = event;
  }
}

/** Ghost (through the gate) did not give a usable answer for a page: retried later, nothing changes in the mirror. */
export class MirrorFetchError extends Error {
  readonly path: string;
  /**
   * Ghost, or the gate in front of it, answered 503 or 429: the site is unavailable or busy, which
   * says nothing against this path, so such a failure never parks it.
   */
  readonly siteUnavailable: boolean;

  constructor(path: string, message: string, options?: { cause?: unknown; siteUnavailable?: boolean }) {
    super(message, options);
    this.name = 'MirrorFetchError';
    this.path = path;
    this.siteUnavailable = options?.siteUnavailable ?? false;
  }
}

/** The mirror bucket refused or failed a write, delete or listing: retried later. */
export class MirrorStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MirrorStoreError';
  }
}

/** A body longer than the mirror takes (MIRROR_MAX_PAGE_BYTES / MIRROR_MAX_FILE_BYTES): refused, not retried. */
export class MirrorBodyTooLargeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MirrorBodyTooLargeError';
  }
}
