import { type AwsCallOf, awsCall } from '../AwsCall.js';
import type { Deployment } from '../Deployment.js';

/** CloudFront is global: its calls go to us-east-1. */
export function getDistributionConfigCall(deployment: Deployment): AwsCallOf<'cloudfront:GetDistributionConfig'> {
  return awsCall('cloudfront:GetDistributionConfig', 'us-east-1', { Id: deployment.distributionId }, true);
}
