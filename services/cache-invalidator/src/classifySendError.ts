/**
 * How the sender treats a failed CreateInvalidation:
 * - `throttled`: rate limited; retried with exponential backoff and jitter;
 * - `busy`: too many invalidations in progress; waits for room, then retries;
 * - `permanent`: needs an operator (no such distribution, access denied, bad credentials); the batch
 *   is kept and retried slowly, and readiness fails until it goes through;
 * - `transient`: 5xx, timeouts, resets; retried with backoff and jitter.
 */
export type SendErrorKind = 'throttled' | 'busy' | 'permanent' | 'transient';

const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const BUSY = new Set(['TooManyInvalidationsInProgress', 'BatchTooLarge']);
const PERMANENT = new Set([
  'NoSuchDistribution',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidArgument',
  'MissingBody',
  'InconsistentQuantities',
  'CredentialsProviderError',
]);

export function classifySendError(error: unknown): SendErrorKind {
  const record = (error ?? {}) as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = typeof record.name === 'string' ? record.name : '';
  const status = record.$metadata?.httpStatusCode;
  if (THROTTLED.has(name) || status === 429) return 'throttled';
  if (BUSY.has(name)) return 'busy';
  if (PERMANENT.has(name) || status === 403) return 'permanent';
  return 'transient';
}
