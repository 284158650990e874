/**
 * How the sender treats a failed CreateInvalidation:
 * - `throttled`: rate limited; retried with exponential backoff and jitter;
 * - `busy`: too many invalidations in progress; waits for room, then retries;
 * - `permanent`: needs an operator (no such distribution, access denied, bad credentials): no batch
 *   can go out; the batch is kept and retried slowly, and readiness fails until it goes through;
 * - `refused`: CloudFront refuses this batch's content (`InvalidArgument`: a path it will not take),
 *   which retrying cannot mend but other batches are not affected by: the batch is split to find the
 *   refused paths, the rest is sent and the refused ones are quarantined;
 * - `transient`: 5xx, timeouts, resets; retried with backoff and jitter.
 */
export type SendErrorKind = 'throttled' | 'busy' | 'permanent' | 'refused' | 'transient';

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
  'CredentialsProviderError',
]);
/**
 * 400s about the request's own content (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html#API_CreateInvalidation_Errors):
 * the same batch is refused again, a batch with other paths is not.
 */
const REFUSED = new Set(['InvalidArgument', 'MissingBody', 'InconsistentQuantities']);

export function classifySendError(error: unknown): SendErrorKind {
  const record = (error ?? {}) as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = typeof record.name === 'string' ? record.name : '';
  const status = record.$metadata?.httpStatusCode;
  if (THROTTLED.has(name) || status === 429) return 'throttled';
  if (BUSY.has(name)) return 'busy';
  if (REFUSED.has(name)) return 'refused';
  if (PERMANENT.has(name) || status === 403) return 'permanent';
  return 'transient';
}
