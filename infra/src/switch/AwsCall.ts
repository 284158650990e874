/** One AWS API call, as the plan prints it and the apply mode makes it. */
export interface AwsCall {
  readonly service: 'rds' | 'efs' | 'ecs' | 'elbv2' | 'cloudfront' | 'cloudwatch';
  readonly operation: string;
  readonly region: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** Read-only calls verify; the others change something. */
  readonly readOnly?: boolean;
}

/** `rds:SwitchoverGlobalCluster @eu-central-1 {"GlobalClusterIdentifier":"..."}` */
export function formatCall(call: AwsCall): string {
  return `${call.service}:${call.operation} @${call.region} ${JSON.stringify(call.input)}`;
}
