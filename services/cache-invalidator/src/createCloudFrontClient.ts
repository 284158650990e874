import { CloudFrontClient } from '@aws-sdk/client-cloudfront';

/**
 * CloudFront's API lives in us-east-1 whatever the task's region. The SDK picks up
 * AWS_ENDPOINT_URL (a local stand-in) by itself; it is passed explicitly too so that the endpoint
 * in use is the one this process was started with. The SDK's own retries are off: the sender
 * retries with its own backoff and never gives a batch up.
 */
export function createCloudFrontClient(env: Readonly<Record<string, string | undefined>>): CloudFrontClient {
  const endpoint = env.AWS_ENDPOINT_URL_CLOUDFRONT ?? env.AWS_ENDPOINT_URL;
  return new CloudFrontClient({
    region: 'us-east-1',
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
    ...(endpoint ? { endpoint } : {}),
  });
}
