import { awsCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import type { SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/** Lets the regional alarms notify where Ghost now runs, and silences them where it stopped. */
export function switchAlarms(deployment: Deployment, from: RegionSite, to: RegionSite, disaster: boolean): SwitchStep {
  const AlarmNames = [...deployment.regionalAlarmNames];
  const disable = awsCall('cloudwatch:DisableAlarmActions', from.region, { AlarmNames });
  const enable = awsCall('cloudwatch:EnableAlarmActions', to.region, { AlarmNames });
  const describe = awsCall('cloudwatch:DescribeAlarms', to.region, { AlarmNames }, true);
  return {
    id: 'switch-alarms',
    title: `Let ${to.region}'s health and ECS alarms notify, silence ${from.region}'s`,
    why: 'Those alarms only mean something where Ghost runs; the standby region has no task by design.',
    calls: [disable, enable, describe],
    verify: `Every alarm in ${to.region} has ActionsEnabled true.`,
    ifFailed:
      'Ghost runs in the new region; only notifications are affected. Run again, or deploy the observability stacks with swapped Role values.',
    expected: { seconds: 10, basis: 'CloudWatch API calls' },
    async run(context) {
      let note = '';
      try {
        await sendCall(context.clients, disable);
      } catch (error) {
        if (!disaster) throw error;
        note = ` (${from.region} did not answer; the last step silences it when it is back)`;
      }
      await sendCall(context.clients, enable);
      const { MetricAlarms = [] } = await sendCall(context.clients, describe);
      const enabled = MetricAlarms.filter((a) => a.ActionsEnabled);
      if (enabled.length !== AlarmNames.length) {
        const missing = AlarmNames.filter((name) => !enabled.some((a) => a.AlarmName === name));
        throw new Error(`Alarms without actions in ${to.region}: ${missing.join(', ')}`);
      }
      return `${enabled.length} alarms notify in ${to.region}${note}`;
    },
  };
}
