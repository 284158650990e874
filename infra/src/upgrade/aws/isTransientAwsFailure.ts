/** Node's socket errors: the request did not get through this time. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);
/** The SDK's names for a request that was not answered in time or was throttled. */
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
]);

/**
 * Whether a failed AWS call says only that AWS did not answer this time (a timeout, throttling, a
 * 5xx, a dropped connection), not that the request was refused: a wait that reads state can try
 * again at its next round. The SDK has already retried it (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 */
export function isTransientAwsFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, $metadata, $retryable } = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  if ($retryable) return true;
  if (($metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (name !== undefined && TRANSIENT_NAMES.has(name)) return true;
  return code !== undefined && NETWORK_CODES.has(code);
}
