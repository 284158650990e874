import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';
import { resolveConditions } from '../src/resolveConditions.js';
import { regionalAlarmNames, siteNames } from '../src/switch/Deployment.js';

// biome-ignore lint/suspicious/noExplicitAny: template JSON.
type Json = any;

const PROJECT = 'ghost-ha';
const GHOST_REGION = { DistributionId: 'E2ABCDEF123456', 'AWS::Region': 'eu-west-1' };

function runningAlarm(parameters: Record<string, string>): [string, Json] | undefined {
  const template = resolveConditions(loadTemplate('observability'), parameters);
  return Object.entries(template.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::CloudWatch::Alarm' &&
      resource.Properties?.Namespace === 'ECS/ContainerInsights' &&
      resource.Properties?.MetricName === 'RunningTaskCount',
  ) as [string, Json] | undefined;
}

/** The app stack's output exported under `<app stack>-<suffix>`: what an import of that name gets. */
function appExport(suffix: string): Json {
  const outputs = Object.values(loadTemplate('app').Outputs ?? {}) as Json[];
  return outputs.find((output) => output.Export?.Name?.['Fn::Sub'] === `\${AWS::StackName}-${suffix}`);
}

describe("an alarm when the cache-invalidator's ECS service runs no task", () => {
  it('reads Container Insights RunningTaskCount of the invalidator service, which the cluster publishes', () => {
    const [, alarm] = runningAlarm(GHOST_REGION) ?? [];
    expect(alarm, 'an alarm on ECS/ContainerInsights RunningTaskCount').toBeDefined();
    const properties = alarm.Properties;
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html:
    // RunningTaskCount, dimensions ClusterName and ServiceName, published only for a cluster with Container Insights.
    const dimensions = Object.fromEntries(
      (properties.Dimensions as Json[]).map((d) => [d.Name, d.Value['Fn::ImportValue']['Fn::Sub']]),
    );
    expect(dimensions).toEqual({
      ClusterName: `\${AppStackName}-ClusterName`,
      ServiceName: `\${AppStackName}-InvalidatorServiceName`,
    });
    // Those exports are the cluster and the invalidator's service (not Ghost's).
    expect(appExport('ClusterName').Value).toEqual({ Ref: 'Cluster' });
    expect(appExport('InvalidatorServiceName').Value).toEqual({ 'Fn::GetAtt': ['InvalidatorService', 'Name'] });
    const app = loadTemplate('app');
    expect(app.Resources.InvalidatorService?.Properties?.ServiceName['Fn::Sub']).toBe(
      siteNames(`\${ProjectName}`, 'any').invalidatorService,
    );
    expect(app.Resources.Cluster?.Properties?.ClusterSettings).toContainEqual({
      Name: 'containerInsights',
      Value: expect.stringMatching(/^(enabled|enhanced)$/),
    });
  });

  it('fires when no task runs for five minutes, and when nothing is published at all', () => {
    const [, alarm] = runningAlarm(GHOST_REGION) ?? [];
    expect(alarm?.Properties).toMatchObject({
      Statistic: 'Minimum',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // A service that publishes nothing (no task, Container Insights off) is not healthy.
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
      OKActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('notifies only in the active region, and the switch tool turns it on and off with the other regional alarms', () => {
    const [id, active] = runningAlarm({ ...GHOST_REGION, Role: 'active' }) ?? [];
    const [, standby] = runningAlarm({ ...GHOST_REGION, Role: 'standby' }) ?? [];
    expect(active?.Properties.ActionsEnabled).toBe(true);
    // The standby's invalidator runs no task: its alarm is in ALARM, silently.
    expect(standby?.Properties.ActionsEnabled).toBe(false);
    const name = String(active?.Properties.AlarmName['Fn::Sub']).replace(`\${ProjectName}`, PROJECT);
    expect(regionalAlarmNames(PROJECT)).toContain(name);
    const output: Json = resolveConditions(loadTemplate('observability'), GHOST_REGION).Outputs?.RegionalAlarmNames;
    expect(output.Value['Fn::Join'][1]).toContainEqual({ Ref: id });
  });

  it('exists only where the invalidator does: an app stack with a distribution', () => {
    expect(runningAlarm(GHOST_REGION)).toBeDefined();
    expect(runningAlarm({ DistributionId: '', 'AWS::Region': 'eu-west-1' })).toBeUndefined();
    expect(runningAlarm({ ...GHOST_REGION, AppStackName: '', NetworkStackName: '' })).toBeUndefined();
    expect(loadTemplate('app').Resources.InvalidatorService?.Condition).toBe('HasDistribution');
  });
});
