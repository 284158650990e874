import { awsCall, type RuntimeCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import type { StepContext } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

export function describeTargetHealthPlanned(site: RegionSite): RuntimeCall<'elbv2:DescribeTargetHealth'> {
  return {
    operation: 'elbv2:DescribeTargetHealth',
    region: site.region,
    known: {},
    atRunTime: "TargetGroupArn: the service's target group",
    readOnly: true,
  };
}

/** How many of the target group's targets are healthy, and a summary such as `healthy 1, initial 1`. */
export async function readTargetHealth(context: StepContext, site: RegionSite, targetGroupArn: string) {
  const { TargetHealthDescriptions = [] } = await sendCall(
    context.clients,
    awsCall('elbv2:DescribeTargetHealth', site.region, { TargetGroupArn: targetGroupArn }, true),
  );
  const counts = new Map<string, number>();
  for (const target of TargetHealthDescriptions) {
    const state = target.TargetHealth?.State ?? 'unknown';
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return {
    healthy: counts.get('healthy') ?? 0,
    summary: [...counts].map(([state, n]) => `${state} ${n}`).join(', ') || 'none registered',
  };
}
