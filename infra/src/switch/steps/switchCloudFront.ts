import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import { type AwsCallOf, awsCall, type RuntimeCall } from '../AwsCall.js';
import { activateOrigin, isOriginActive } from '../activateOrigin.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { getDistributionConfigCall } from '../reads/getDistributionConfigCall.js';
import { MINUTE, type StepContext, type SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/** The update of the distribution to `config`, conditional on the ETag read with it. */
export function updateDistributionCall(
  deployment: Deployment,
  etag: string,
  config: DistributionConfig,
): AwsCallOf<'cloudfront:UpdateDistribution'> {
  return awsCall('cloudfront:UpdateDistribution', 'us-east-1', {
    Id: deployment.distributionId,
    IfMatch: etag,
    DistributionConfig: config,
  });
}

/** The update as a plan lists it: the ETag and the config are read just before. */
export function updateDistributionPlanned(
  deployment: Deployment,
  from: RegionSite,
  to: RegionSite,
): RuntimeCall<'cloudfront:UpdateDistribution'> {
  return {
    operation: 'cloudfront:UpdateDistribution',
    region: 'us-east-1',
    known: { Id: deployment.distributionId },
    atRunTime: `IfMatch: the ETag just read; DistributionConfig: the current one with ${to.originId} first in the origin group (in place of ${from.originId}; a mirror- member keeps its place) and behaviors on ${from.originId} moved to ${to.originId}`,
  };
}

/** Routes CloudFront to the target's ALB: first (or only) ALB in the origin group, target of write paths. */
export function switchCloudFront(
  deployment: Deployment,
  from: RegionSite,
  to: RegionSite,
  options: { readonly early?: boolean } = {},
): SwitchStep {
  const getDistribution = awsCall('cloudfront:GetDistribution', 'us-east-1', { Id: deployment.distributionId }, true);
  if (options.early) {
    return {
      id: 'route-writes-away',
      title: `Stop sending writes to ${from.region}: make ${to.originId} CloudFront's first origin and the target of write paths now`,
      why: `A partly down ${from.region} would keep taking writes that are lost with it. Until Ghost runs in ${to.region}, writes get errors and readers get the cache and, on a miss, the origin group's other member.`,
      calls: [
        getDistributionConfigCall(deployment),
        updateDistributionPlanned(deployment, from, to),
        getDistributionConfigCall(deployment),
      ],
      verify: `The distribution's config lists ${to.originId} first and no behavior targets ${from.originId}; the edges deploy it in the background (the later switch-cloudfront step waits for that).`,
      ifFailed: `CloudFront's API did not take the change: writes may still reach ${from.region} until the switch-cloudfront step later in this run (it tries again).`,
      expected: {
        seconds: 10,
        basis: 'CloudFront: GetDistributionConfig and UpdateDistribution; edge deployment is not waited for here',
      },
      bestEffort: true,
      async run(context) {
        return updateOrigins(context, deployment, from, to);
      },
    };
  }
  return {
    id: 'switch-cloudfront',
    title: `Make ${to.originId} CloudFront's first origin and the target of write paths`,
    why: 'Cache misses go to the active region without a failed attempt first; /ghost/*, /members/* and the other write paths reach the new Ghost.',
    calls: [
      getDistributionConfigCall(deployment),
      updateDistributionPlanned(deployment, from, to),
      getDistributionConfigCall(deployment),
      getDistribution,
    ],
    verify: `The origin group lists ${to.originId} first, no behavior targets ${from.originId} alone, and the distribution is Deployed.`,
    ifFailed:
      'Ghost already runs in the new region; cached pages and failover still reach it. Run again (a concurrent edit changes the ETag), or edit the origin group in the console.',
    expected: {
      seconds: 5 * 60,
      basis: 'CloudFront: a configuration change reaches every edge location within minutes',
    },
    async run(context) {
      await updateOrigins(context, deployment, from, to);
      return poll(
        'the distribution to be deployed',
        25 * MINUTE,
        context.pacing,
        async () => {
          const { Distribution } = await sendCall(context.clients, getDistribution);
          return { done: Distribution?.Status === 'Deployed', state: `status ${Distribution?.Status}` };
        },
        context.progress,
      );
    },
  };
}

/** Reads the config with its ETag, updates it when the target is not active yet, verifies it stuck. */
async function updateOrigins(
  context: StepContext,
  deployment: Deployment,
  from: RegionSite,
  to: RegionSite,
): Promise<string> {
  const current = await sendCall(context.clients, getDistributionConfigCall(deployment));
  const config = current.DistributionConfig;
  if (!config || !current.ETag) throw new Error(`Distribution ${deployment.distributionId} returned no config`);
  const already = isOriginActive(config, to.originId, from.originId);
  if (!already) {
    await sendCall(
      context.clients,
      updateDistributionCall(deployment, current.ETag, activateOrigin(config, to.originId, from.originId)),
    );
  }
  const after = await sendCall(context.clients, getDistributionConfigCall(deployment));
  if (!after.DistributionConfig || !isOriginActive(after.DistributionConfig, to.originId, from.originId)) {
    throw new Error('The distribution config did not keep the new origin order');
  }
  return already
    ? `${to.originId} was already active`
    : `${to.originId} active, writes no longer go to ${from.originId}`;
}
