/** One region's part of the deployment, with every identifier the switch calls need. */
export interface RegionSite {
  readonly region: string;
  readonly clusterArn: string;
  readonly fileSystemId: string;
  readonly ecsCluster: string;
  readonly ecsService: string;
  /** The cache-invalidator's service: scaled with Ghost's, started before it and stopped after it. */
  readonly invalidatorService: string;
  /** The CloudFront origin id of this region's ALB (edge stack: alb-<region>). */
  readonly originId: string;
}

export interface Deployment {
  readonly project: string;
  readonly globalClusterId: string;
  readonly distributionId: string;
  readonly primary: RegionSite;
  readonly secondary: RegionSite;
  /** Alarms that notify only in the active region (observability stack). */
  readonly regionalAlarmNames: readonly string[];
}

/** Names the stacks give by convention (app: cluster <project>, services <project>-ghost and <project>-cache-invalidator, ...). */
export function siteNames(project: string, region: string) {
  return {
    ecsCluster: project,
    ecsService: `${project}-ghost`,
    invalidatorService: `${project}-cache-invalidator`,
    originId: `alb-${region}`,
  } as const;
}

export function regionalAlarmNames(project: string): string[] {
  return [
    `${project}-health-verdict`,
    `${project}-health-verdict-fail`,
    `${project}-ecs-cpu`,
    `${project}-ecs-memory`,
    `${project}-invalidator-not-running`,
  ];
}
