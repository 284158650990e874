import { BackupClient, CreateBackupVaultCommand } from '@aws-sdk/client-backup';
import {
  CloudFrontClient,
  CreateDistributionCommand,
  type DistributionConfig,
  GetDistributionConfigCommand,
} from '@aws-sdk/client-cloudfront';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  type DeploymentConfiguration,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateFileSystemCommand,
  CreateReplicationConfigurationCommand,
  DescribeReplicationConfigurationsCommand,
  EFSClient,
  UpdateFileSystemProtectionCommand,
} from '@aws-sdk/client-efs';
import {
  type Action,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateRoleCommand, IAMClient, UploadServerCertificateCommand } from '@aws-sdk/client-iam';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateGlobalClusterCommand,
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { PINNED_VERSIONS } from '@ghost-ha/testbed';
import { loadTemplate } from '../../src/parseTemplate.js';
import { resolveConditions } from '../../src/resolveConditions.js';
import { regionalAlarmNames, siteNames } from '../../src/switch/Deployment.js';
import type { Pacing } from '../../src/switch/poll.js';
import { MIRROR_REQUIRED_KEYS } from '../../src/switch/steps/checkMirror.js';

export const PRIMARY = 'eu-west-1';
export const SECONDARY = 'eu-central-1';
export const PROJECT = 'ghost-ha';
/** moto's default account, the one in every ARN it issues. */
export const ACCOUNT = '123456789012';
const ENGINE = { Engine: 'aurora-mysql', EngineVersion: '8.0.mysql_aurora.3.08.2' };
export const CLUSTERS = { [PRIMARY]: 'ghost-primary', [SECONDARY]: 'ghost-secondary' } as const;

// Waits that poll moto finish quickly; the scale keeps a stuck wait from hanging the test.
export const FAST: Pacing = {
  intervalMs: 5,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  timeoutScale: 0.005,
};

export interface DeploymentOptions {
  /** EFS replication primary -> secondary, as the data stacks leave it (needs the extended moto). */
  readonly replication?: boolean;
  /**
   * The origin group holds [active ALB, static mirror] instead of both ALBs, and each region's data
   * stack bucket holds a built mirror (the home page, the 404 page, a post).
   */
  readonly mirror?: boolean;
  /** The secondary cluster has no DB instance (headless); the data stack gives each cluster one. */
  readonly headlessSecondary?: boolean;
  /** The secondary cluster's engine version, when it differs from the primary's. */
  readonly secondaryEngineVersion?: string;
  /** AuroraGlobalDBReplicationLag datapoints (ms) of the secondary cluster, in the last minutes. */
  readonly lagMs?: readonly number[];
  /**
   * This region's registry lacks the cache-invalidator's digest its task definition names (pushed
   * to the other region only; replication into it has not arrived).
   */
  readonly imageMissingIn?: string;
  /** This region's Ghost task names the sidecar in the other region's registry (a fallback deploy.sh refuses). */
  readonly imageFromOtherRegionIn?: string;
}

const otherRegion = (region: string) => (region === PRIMARY ? SECONDARY : PRIMARY);

/** The project's images, each in its ECR repository <project>/<name> (scripts/package.sh). */
const ECR_IMAGES = ['health-sidecar', 'cache-invalidator'] as const;

/**
 * Each region's registry with the project's images, pushed with PutImage as packaging leaves them
 * (by digest, the same in every region); returns each region's image URIs by name.
 */
async function pushImages(imageMissingIn: string | undefined): Promise<Map<string, Record<string, string>>> {
  const digests = new Map<string, string>();
  for (const region of [PRIMARY, SECONDARY]) {
    const ecr = new ECRClient({ region });
    for (const name of ECR_IMAGES) {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: `${PROJECT}/${name}` }));
      if (region === imageMissingIn && name === 'cache-invalidator') continue;
      const layer = `sha256:${Buffer.from(name).toString('hex').padEnd(64, '0')}`;
      const { image } = await ecr.send(
        new PutImageCommand({
          repositoryName: `${PROJECT}/${name}`,
          imageTag: '1',
          imageManifest: JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
            layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1, digest: layer }],
          }),
        }),
      );
      digests.set(name, image?.imageId?.imageDigest ?? '');
    }
    ecr.destroy();
  }
  return new Map(
    [PRIMARY, SECONDARY].map((region) => [
      region,
      Object.fromEntries(
        ECR_IMAGES.map((name) => [
          name,
          `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${PROJECT}/${name}@${digests.get(name) ?? ''}`,
        ]),
      ),
    ]),
  );
}

export interface DeploymentInMoto {
  readonly distributionId: string;
  readonly targetGroups: ReadonlyMap<string, string>;
  readonly fileSystems: ReadonlyMap<string, string>;
}

/** The data stack's EnableHttpEndpoint (the RDS Data API) for a role, read from the template. */
function dataApiEnabled(role: 'primary' | 'secondary'): boolean {
  const data = resolveConditions(loadTemplate('data'), { Role: role, SecondaryRegion: SECONDARY });
  return data.Resources.Cluster?.Properties?.EnableHttpEndpoint === true;
}

/** A two-region deployment in moto, as the stacks would leave it: Ghost runs in the primary. */
export async function createDeployment(options: DeploymentOptions = {}): Promise<DeploymentInMoto> {
  const rds = (region: string) => new RDSClient({ region });
  await rds(PRIMARY).send(new CreateGlobalClusterCommand({ GlobalClusterIdentifier: `${PROJECT}-global`, ...ENGINE }));
  await rds(PRIMARY).send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: CLUSTERS[PRIMARY],
      GlobalClusterIdentifier: `${PROJECT}-global`,
      MasterUsername: 'ghost',
      MasterUserPassword: 'not-a-real-password',
      EnableHttpEndpoint: dataApiEnabled('primary'),
      ...ENGINE,
    }),
  );
  await rds(SECONDARY).send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: CLUSTERS[SECONDARY],
      GlobalClusterIdentifier: `${PROJECT}-global`,
      EnableHttpEndpoint: dataApiEnabled('secondary'),
      ...ENGINE,
      ...(options.secondaryEngineVersion ? { EngineVersion: options.secondaryEngineVersion } : {}),
    }),
  );
  // The data stack's WriterInstance, in both regions (a headless cluster cannot be promoted).
  for (const region of options.headlessSecondary ? [PRIMARY] : [PRIMARY, SECONDARY]) {
    await rds(region).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: `${CLUSTERS[region as keyof typeof CLUSTERS]}-writer`,
        DBClusterIdentifier: CLUSTERS[region as keyof typeof CLUSTERS],
        DBInstanceClass: 'db.r6g.large',
        Engine: ENGINE.Engine,
      }),
    );
  }
  const targetGroups = new Map<string, string>();
  const fileSystems = new Map<string, string>();
  const images = await pushImages(options.imageMissingIn);
  for (const [region, running, actions] of [
    [PRIMARY, true, true],
    [SECONDARY, false, false],
  ] as const) {
    const { FileSystemId = '' } = await new EFSClient({ region }).send(
      new CreateFileSystemCommand({ CreationToken: region, Tags: [{ Key: 'Name', Value: `${PROJECT}-content` }] }),
    );
    fileSystems.set(region, FileSystemId);
    // Ghost's database user's secret (data stack, replicated to the secondary).
    await new SecretsManagerClient({ region }).send(
      new CreateSecretCommand({ Name: `${PROJECT}/database-app`, SecretString: '{"username":"ghost_app"}' }),
    );
    // The data stack's vault and AWS Backup role (salvage backups run with them).
    await new BackupClient({ region }).send(new CreateBackupVaultCommand({ BackupVaultName: `${PROJECT}-content` }));
    await new IAMClient({ region }).send(
      new CreateRoleCommand({
        RoleName: `${PROJECT}-backup-${region}`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    // The ALB's target group, with the task's address registered (moto reports registered targets healthy).
    const { Vpc } = await new EC2Client({ region }).send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const elbv2 = new ElasticLoadBalancingV2Client({ region });
    const { TargetGroups = [] } = await elbv2.send(
      new CreateTargetGroupCommand({
        Name: `${PROJECT}-gate`,
        Protocol: 'HTTP',
        Port: 8080,
        TargetType: 'ip',
        VpcId: Vpc?.VpcId,
      }),
    );
    const targetGroupArn = TargetGroups[0]?.TargetGroupArn ?? '';
    targetGroups.set(region, targetGroupArn);
    await elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: '10.20.0.10', Port: 8080 }] }),
    );
    await createLoadBalancer(region, Vpc?.VpcId ?? '', targetGroupArn);
    const ecs = new ECSClient({ region });
    const names = siteNames(PROJECT, region);
    await ecs.send(new CreateClusterCommand({ clusterName: names.ecsCluster }));
    // Ghost and the sidecar (its lease) reach the region's cluster by its endpoint (app.yaml's ClusterEndpoint import).
    const { DBClusters = [] } = await rds(region).send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: CLUSTERS[region as keyof typeof CLUSTERS] }),
    );
    const database = [{ name: 'database__connection__host', value: DBClusters[0]?.Endpoint ?? '' }];
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${PROJECT}-ghost`,
        // The app stack's roles, as CloudFormation names them (<stack>-<logical id>-<suffix>).
        taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/${PROJECT}-app-TaskRole-1A2B3C4D5E6F`,
        executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/${PROJECT}-app-ExecutionRole-1A2B3C4D5E6F`,
        // Ghost's official image from Docker Hub (not in ECR), its sidecar from the region's registry.
        containerDefinitions: [
          { name: 'ghost', image: `ghost:${PINNED_VERSIONS.ghostCompatibility}`, memory: 1024, environment: database },
          {
            name: 'health-sidecar',
            image: images.get(options.imageFromOtherRegionIn === region ? otherRegion(region) : region)?.[
              'health-sidecar'
            ],
            memory: 128,
            environment: database,
          },
        ],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: names.ecsCluster,
        serviceName: names.ecsService,
        taskDefinition: `${PROJECT}-ghost`,
        desiredCount: 0,
        loadBalancers: [{ targetGroupArn, containerName: 'health-sidecar', containerPort: 8080 }],
        deploymentConfiguration: ghostDeploymentConfiguration(),
      }),
    );
    // The cache-invalidator's own task and service (app stack: InvalidatorService, no load balancer).
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${PROJECT}-cache-invalidator`,
        containerDefinitions: [
          { name: 'cache-invalidator', image: images.get(region)?.['cache-invalidator'], memory: 512 },
        ],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: names.ecsCluster,
        serviceName: names.invalidatorService,
        taskDefinition: `${PROJECT}-cache-invalidator`,
        desiredCount: 0,
      }),
    );
    // Scaled up after creation, as moto then reports the task running and the deployment complete.
    if (running) {
      for (const service of [names.invalidatorService, names.ecsService]) {
        await ecs.send(new UpdateServiceCommand({ cluster: names.ecsCluster, service, desiredCount: 1 }));
      }
    }
    const cloudwatch = new CloudWatchClient({ region, protocol: AwsQueryProtocol });
    for (const AlarmName of regionalAlarmNames(PROJECT)) {
      await cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName,
          Namespace: 'AWS/ECS',
          MetricName: 'CPUUtilization',
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 80,
          ComparisonOperator: 'GreaterThanThreshold',
          ActionsEnabled: actions,
          AlarmActions: [`arn:aws:sns:${region}:123456789012:${PROJECT}-alarms`],
        }),
      );
    }
  }
  if (options.replication) {
    await new EFSClient({ region: SECONDARY }).send(
      new UpdateFileSystemProtectionCommand({
        FileSystemId: fileSystems.get(SECONDARY),
        ReplicationOverwriteProtection: 'DISABLED',
      }),
    );
    await new EFSClient({ region: PRIMARY }).send(
      new CreateReplicationConfigurationCommand({
        SourceFileSystemId: fileSystems.get(PRIMARY),
        Destinations: [{ Region: SECONDARY, FileSystemId: fileSystems.get(SECONDARY) }],
      }),
    );
    // As a deployed site: the first copy has finished before any switch.
    await waitForFirstCopy(SECONDARY, fileSystems.get(SECONDARY) ?? '');
  }
  if (options.lagMs?.length) {
    const now = Date.now();
    await new CloudWatchClient({ region: SECONDARY, protocol: AwsQueryProtocol }).send(
      new PutMetricDataCommand({
        Namespace: 'AWS/RDS',
        MetricData: options.lagMs.map((Value, i) => ({
          MetricName: 'AuroraGlobalDBReplicationLag',
          Dimensions: [{ Name: 'DBClusterIdentifier', Value: CLUSTERS[SECONDARY] }],
          Timestamp: new Date(now - (i + 1) * 60_000),
          Value,
          Unit: 'Milliseconds',
        })),
      }),
    );
  }
  if (options.mirror) {
    for (const region of [PRIMARY, SECONDARY]) {
      await s3(region).send(
        new CreateBucketCommand({
          Bucket: mirrorBucket(region),
          CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' },
        }),
      );
      await putMirrorObjects(region, [...MIRROR_REQUIRED_KEYS, 'site/a-post/index.html']);
    }
  }
  const origin = (region: string) => ({
    Id: `alb-${region}`,
    DomainName: `ghost-ha-123.${region}.elb.amazonaws.com`,
    CustomOriginConfig: { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'https-only' as const },
  });
  const mirror = {
    Id: `mirror-${PRIMARY}`,
    DomainName: `ghost-ha-mirror.s3.${PRIMARY}.amazonaws.com`,
    S3OriginConfig: { OriginAccessIdentity: '' },
  };
  const behavior = { ViewerProtocolPolicy: 'redirect-to-https' as const, MinTTL: 0 };
  const members = options.mirror ? [`alb-${PRIMARY}`, mirror.Id] : [`alb-${PRIMARY}`, `alb-${SECONDARY}`];
  const origins = options.mirror ? [origin(PRIMARY), origin(SECONDARY), mirror] : [origin(PRIMARY), origin(SECONDARY)];
  const { Distribution } = await new CloudFrontClient({ region: 'us-east-1' }).send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: 'ghost-ha-test',
        Comment: 'ghost-ha',
        Enabled: true,
        Origins: { Quantity: origins.length, Items: origins },
        OriginGroups: {
          Quantity: 1,
          Items: [
            {
              Id: 'ghost-regions',
              FailoverCriteria: { StatusCodes: { Quantity: 4, Items: [500, 502, 503, 504] } },
              Members: { Quantity: 2, Items: members.map((OriginId) => ({ OriginId })) },
            },
          ],
        },
        DefaultCacheBehavior: { TargetOriginId: `alb-${PRIMARY}`, ...behavior },
        CacheBehaviors: {
          Quantity: 1,
          Items: [{ PathPattern: '/ghost/*', TargetOriginId: `alb-${PRIMARY}`, ...behavior }],
        },
      },
    }),
  );
  if (!Distribution?.Id) throw new Error('moto created no distribution');
  return { distributionId: Distribution.Id, targetGroups, fileSystems };
}

/** Waits until the replication into `fileSystemId` (a destination in `region`) has finished its first copy. */
export async function waitForFirstCopy(region: string, fileSystemId: string): Promise<void> {
  const efs = new EFSClient({ region });
  for (let attempt = 0; ; attempt++) {
    const { Replications = [] } = await efs.send(
      new DescribeReplicationConfigurationsCommand({ FileSystemId: fileSystemId }),
    );
    const destination = Replications[0]?.Destinations?.[0];
    if (destination?.Status === 'ENABLED' && destination.LastReplicatedTimestamp) return;
    if (attempt > 100) throw new Error(`the first EFS replication into ${fileSystemId} did not finish in moto`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The app stack's load balancer in front of the target group: its HTTPS listener (default 403)
 * and its rules as app.yaml has them (the canary's fixed 503, the forward of CloudFront's requests
 * on the X-Origin-Verify header), with a token standing for the secret's.
 */
async function createLoadBalancer(region: string, vpcId: string, targetGroupArn: string): Promise<void> {
  const app = loadTemplate('app');
  const ec2 = new EC2Client({ region });
  const subnets: string[] = [];
  for (const [index, zone] of ['a', 'b'].entries()) {
    const { Subnet } = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.20.${index + 1}.0/24`,
        AvailabilityZone: `${region}${zone}`,
      }),
    );
    subnets.push(Subnet?.SubnetId ?? '');
  }
  ec2.destroy();
  const elbv2 = new ElasticLoadBalancingV2Client({ region });
  const { LoadBalancers = [] } = await elbv2.send(
    new CreateLoadBalancerCommand({ Name: `${PROJECT}-alb`, Subnets: subnets, Type: 'application' }),
  );
  const listener = app.Resources.HttpsListener?.Properties ?? {};
  // The site's certificate (ACM in the stacks); moto's load balancer also takes an IAM server certificate.
  const { ServerCertificateMetadata } = await new IAMClient({ region }).send(
    new UploadServerCertificateCommand({
      ServerCertificateName: `${PROJECT}-site-${region}`,
      CertificateBody: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      PrivateKey: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----',
    }),
  );
  const { Listeners = [] } = await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: LoadBalancers[0]?.LoadBalancerArn,
      Port: Number(listener.Port),
      Protocol: String(listener.Protocol) as 'HTTPS',
      Certificates: [{ CertificateArn: ServerCertificateMetadata?.Arn }],
      DefaultActions: listener.DefaultActions as Action[],
    }),
  );
  const listenerArn = Listeners[0]?.ListenerArn;
  for (const name of ['FromCloudFrontRule', 'MirrorCanaryRule']) {
    const rule = app.Resources[name]?.Properties ?? {};
    const conditions = (rule.Conditions as RuleCondition[]).map((c) =>
      c.HttpHeaderConfig ? { ...c, HttpHeaderConfig: { ...c.HttpHeaderConfig, Values: [ORIGIN_TOKEN] } } : c,
    );
    const actions = (rule.Actions as Action[]).map((a) =>
      a.Type === 'forward' ? { ...a, TargetGroupArn: targetGroupArn } : a,
    );
    await elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listenerArn,
        Priority: Number(rule.Priority),
        Conditions: conditions,
        Actions: actions,
      }),
    );
  }
  elbv2.destroy();
}

/** Ghost's service's DeploymentConfiguration in app.yaml (minimum 0 %, maximum 100 %, the circuit breaker), as the API spells it. */
function ghostDeploymentConfiguration(): DeploymentConfiguration {
  const configuration = (loadTemplate('app').Resources.Service?.Properties?.DeploymentConfiguration ?? {}) as {
    MinimumHealthyPercent?: number;
    MaximumPercent?: number;
    DeploymentCircuitBreaker?: { Enable: boolean; Rollback: boolean };
  };
  return {
    ...(configuration.MinimumHealthyPercent !== undefined
      ? { minimumHealthyPercent: configuration.MinimumHealthyPercent }
      : {}),
    ...(configuration.MaximumPercent !== undefined ? { maximumPercent: configuration.MaximumPercent } : {}),
    ...(configuration.DeploymentCircuitBreaker
      ? {
          deploymentCircuitBreaker: {
            enable: configuration.DeploymentCircuitBreaker.Enable,
            rollback: configuration.DeploymentCircuitBreaker.Rollback,
          },
        }
      : {}),
  };
}

/** The X-Origin-Verify value the moto load balancer's forward rule takes. */
export const ORIGIN_TOKEN = 'origin-token-in-moto';

/** The data stack's mirror bucket in `region` (moto's account). */
export function mirrorBucket(region: string): string {
  return `${PROJECT}-mirror-${ACCOUNT}-${region}`;
}

const s3 = (region: string) => new S3Client({ region, forcePathStyle: true });

/** Writes mirror objects as the cache-invalidator would (LastModified: now). */
export async function putMirrorObjects(region: string, keys: readonly string[]): Promise<void> {
  for (const Key of keys) {
    await s3(region).send(
      new PutObjectCommand({ Bucket: mirrorBucket(region), Key, Body: '<html></html>', ContentType: 'text/html' }),
    );
  }
}

/** Removes mirror objects, e.g. a mirror that never got its 404 page. */
export async function deleteMirrorObjects(region: string, keys: readonly string[]): Promise<void> {
  for (const Key of keys) await s3(region).send(new DeleteObjectCommand({ Bucket: mirrorBucket(region), Key }));
}

/** Ghost's service's counts, or the cache-invalidator's. */
export async function serviceCounts(region: string, which: 'ghost' | 'invalidator' = 'ghost') {
  const names = siteNames(PROJECT, region);
  const { services = [] } = await new ECSClient({ region }).send(
    new DescribeServicesCommand({
      cluster: names.ecsCluster,
      services: [which === 'ghost' ? names.ecsService : names.invalidatorService],
    }),
  );
  return { desired: services[0]?.desiredCount, running: services[0]?.runningCount };
}

export async function distributionConfig(id: string): Promise<DistributionConfig> {
  const { DistributionConfig } = await new CloudFrontClient({ region: 'us-east-1' }).send(
    new GetDistributionConfigCommand({ Id: id }),
  );
  if (!DistributionConfig) throw new Error('no distribution config');
  return DistributionConfig;
}

export async function alarmActions(region: string): Promise<boolean[]> {
  const { MetricAlarms = [] } = await new CloudWatchClient({ region, protocol: AwsQueryProtocol }).send(
    new DescribeAlarmsCommand({ AlarmNames: regionalAlarmNames(PROJECT) }),
  );
  return MetricAlarms.map((a) => a.ActionsEnabled ?? false);
}

/** The global database's Status (available, switching-over, failing-over). */
export async function globalStatus(): Promise<string | undefined> {
  const { GlobalClusters = [] } = await new RDSClient({ region: SECONDARY }).send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: `${PROJECT}-global` }),
  );
  return GlobalClusters[0]?.Status;
}

/** Each member's SynchronizationStatus, by cluster identifier. */
export async function synchronization(): Promise<Record<string, string | undefined>> {
  const { GlobalClusters = [] } = await new RDSClient({ region: SECONDARY }).send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: `${PROJECT}-global` }),
  );
  return Object.fromEntries(
    (GlobalClusters[0]?.GlobalClusterMembers ?? []).map((m) => [
      m.DBClusterArn?.split(':').at(-1),
      m.SynchronizationStatus,
    ]),
  );
}

/** The global database's writer cluster identifier and its members' identifiers. */
export async function globalWriter(): Promise<{ writer: string | undefined; members: string[] }> {
  const { GlobalClusters = [] } = await new RDSClient({ region: SECONDARY }).send(
    new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: `${PROJECT}-global` }),
  );
  const members = GlobalClusters[0]?.GlobalClusterMembers ?? [];
  const id = (arn: string | undefined) => arn?.split(':').at(-1);
  return {
    writer: id(members.find((m) => m.IsWriter)?.DBClusterArn),
    members: members.map((m) => id(m.DBClusterArn) ?? '').sort(),
  };
}

/** The replication a region's file system takes part in, as that region lists it: `source -> destination`. */
export async function replicationIn(region: string, fileSystemId: string): Promise<string> {
  try {
    const { Replications = [] } = await new EFSClient({ region }).send(
      new DescribeReplicationConfigurationsCommand({ FileSystemId: fileSystemId }),
    );
    const r = Replications[0];
    return `${r?.SourceFileSystemRegion} -> ${r?.Destinations?.[0]?.Region}`;
  } catch (error) {
    if ((error as Error).name === 'ReplicationNotFound') return 'none';
    throw error;
  }
}
