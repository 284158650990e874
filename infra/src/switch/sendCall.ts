import {
  GetDistributionCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import {
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  CreateReplicationConfigurationCommand,
  DeleteReplicationConfigurationCommand,
  DescribeReplicationConfigurationsCommand,
  UpdateFileSystemProtectionCommand,
} from '@aws-sdk/client-efs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds';
import type { AwsCall } from './AwsCall.js';
import type { AwsClients } from './AwsClients.js';

// biome-ignore lint/suspicious/noExplicitAny: each command's input type is checked by the SDK at run time.
type Input = any;

// The only operations the switch makes: the plan prints these calls, and apply sends exactly them.
const COMMANDS = {
  'rds:DescribeGlobalClusters': (c, r, i: Input) => c.rds(r).send(new DescribeGlobalClustersCommand(i)),
  'rds:SwitchoverGlobalCluster': (c, r, i: Input) => c.rds(r).send(new SwitchoverGlobalClusterCommand(i)),
  'rds:FailoverGlobalCluster': (c, r, i: Input) => c.rds(r).send(new FailoverGlobalClusterCommand(i)),
  'efs:DescribeReplicationConfigurations': (c, r, i: Input) =>
    c.efs(r).send(new DescribeReplicationConfigurationsCommand(i)),
  'efs:DeleteReplicationConfiguration': (c, r, i: Input) => c.efs(r).send(new DeleteReplicationConfigurationCommand(i)),
  'efs:CreateReplicationConfiguration': (c, r, i: Input) => c.efs(r).send(new CreateReplicationConfigurationCommand(i)),
  'efs:UpdateFileSystemProtection': (c, r, i: Input) => c.efs(r).send(new UpdateFileSystemProtectionCommand(i)),
  'ecs:UpdateService': (c, r, i: Input) => c.ecs(r).send(new UpdateServiceCommand(i)),
  'ecs:DescribeServices': (c, r, i: Input) => c.ecs(r).send(new DescribeServicesCommand(i)),
  'elbv2:DescribeTargetHealth': (c, r, i: Input) => c.elbv2(r).send(new DescribeTargetHealthCommand(i)),
  'cloudfront:GetDistributionConfig': (c, _r, i: Input) => c.cloudfront().send(new GetDistributionConfigCommand(i)),
  'cloudfront:UpdateDistribution': (c, _r, i: Input) => c.cloudfront().send(new UpdateDistributionCommand(i)),
  'cloudfront:GetDistribution': (c, _r, i: Input) => c.cloudfront().send(new GetDistributionCommand(i)),
  'cloudwatch:DisableAlarmActions': (c, r, i: Input) => c.cloudwatch(r).send(new DisableAlarmActionsCommand(i)),
  'cloudwatch:EnableAlarmActions': (c, r, i: Input) => c.cloudwatch(r).send(new EnableAlarmActionsCommand(i)),
  'cloudwatch:DescribeAlarms': (c, r, i: Input) => c.cloudwatch(r).send(new DescribeAlarmsCommand(i)),
} satisfies Record<string, (clients: AwsClients, region: string, input: Input) => Promise<unknown>>;

export type Operation = keyof typeof COMMANDS;

/** Sends one planned call through the matching SDK client. */
export async function sendCall(clients: AwsClients, call: AwsCall): Promise<Input> {
  const send = COMMANDS[`${call.service}:${call.operation}` as Operation];
  if (!send) throw new Error(`No SDK command for ${call.service}:${call.operation}`);
  return send(clients, call.region, call.input);
}
