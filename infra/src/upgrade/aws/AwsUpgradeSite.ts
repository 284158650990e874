/** The deployment's identifiers the upgrade's AWS calls need; what only AWS knows is read at run time. */
export interface AwsUpgradeSite {
  readonly project: string;
  /** The region Ghost runs in (the global database's writer). */
  readonly region: string;
  /** The Aurora cluster Ghost writes to. */
  readonly clusterIdentifier: string;
  /** The content file system (EFS). */
  readonly fileSystemId: string;
  /** The bucket the go/no-go report goes to. */
  readonly reportBucket: string;
}

/** Names the stacks give by convention: ECS cluster <project>, service <project>-ghost, vault <project>-content. */
export function conventionalNames(project: string) {
  return { ecsCluster: project, ecsService: `${project}-ghost`, backupVault: `${project}-content` } as const;
}
