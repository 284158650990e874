import { describe, expect, it } from 'vitest';
import { loadTemplate, TEMPLATE_NAMES, type Template } from '../src/parseTemplate.js';
import { resolveConditions } from '../src/resolveConditions.js';
import { isAllowed, type PolicyRequest, type PolicyStatement, substitute } from './support/iamPolicy.js';

// biome-ignore lint/suspicious/noExplicitAny: container definitions are template JSON.
type Json = any;

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const MIRROR_REGION = 'eu-central-1';
const PARAMETERS = {
  SiteUrl: 'https://blog.example.com',
  HealthSidecarImage: 'sidecar:1',
  CacheInvalidatorImage: 'invalidator:1',
  CertificateArn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/abc`,
  OriginFacingPrefixListId: 'pl-1234',
  // Every feature on: the invalidator, its webhook registration and the mirror.
  DistributionId: 'E2ABCDEF123456',
  RegisterWebhooks: 'true',
  MirrorRegion: MIRROR_REGION,
};
const NAMES = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  ProjectName: 'ghost-ha',
  NetworkStackName: 'ghost-ha-network',
  DataStackName: 'ghost-ha-data',
  DistributionId: PARAMETERS.DistributionId,
  MirrorRegion: MIRROR_REGION,
  MirrorPrefix: 'site',
  'BackupBucket.Arn': 'arn:aws:s3:::ghost-ha-functions-backupbucket-1',
  'Cluster.Arn': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/ghost-ha`,
  'DeleteAllPostsLogGroup.Arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/ghost-ha-delete-all-posts`,
  'RestorePostsLogGroup.Arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/ghost-ha-restore-posts`,
};

/** A secret's ARN as Secrets Manager makes it: the name and a random six-character suffix. */
const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ghost-ha/${name}-AbC123`;
const getSecret = (name: string) => ({ action: 'secretsmanager:GetSecretValue', resource: secretArn(name) });
/** The secrets the invalidator, the content functions and backups use; Ghost needs none of them. */
const NOT_GHOSTS = ['ghost-admin', 'ghost-integration', 'backup-signing'];

/** A role's statements; `lenient` for roles of other layers, whose own resources this test does not name. */
function statementsOf(template: Template, roleId: string, lenient = false): PolicyStatement[] {
  const role = template.Resources[roleId];
  if (!role) throw new Error(`${roleId} is missing`);
  return substitute(
    (role.Properties?.Policies ?? []).flatMap((policy: Json) => policy.PolicyDocument.Statement),
    NAMES,
    lenient,
  ) as PolicyStatement[];
}

/** The role whose credentials a task definition's containers get (the task role: shared by all of them). */
function taskRoleOf(template: Template, taskId: string): string {
  const arn = template.Resources[taskId]?.Properties?.TaskRoleArn;
  const [roleId, attribute] = arn?.['Fn::GetAtt'] ?? [];
  if (attribute !== 'Arn' || typeof roleId !== 'string') throw new Error(`${taskId} has no task role of this stack`);
  return roleId;
}

/** The task definition that runs the named container. */
function taskOf(template: Template, container: string): [string, Json] {
  const found = Object.entries(template.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::ECS::TaskDefinition' &&
      resource.Properties?.ContainerDefinitions.some((c: Json) => c.Name === container),
  );
  if (!found) throw new Error(`no task definition runs ${container}`);
  return found;
}

const DISTRIBUTION = `arn:aws:cloudfront::${ACCOUNT}:distribution/${PARAMETERS.DistributionId}`;
const MIRROR_OBJECT = `arn:aws:s3:::ghost-ha-mirror-${ACCOUNT}-${MIRROR_REGION}/site/index.html`;
const FILE_SYSTEM = `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/import:ghost-ha-data-FileSystemId`;
const accessPoint = (name: string) =>
  `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:access-point/import:ghost-ha-data-${name}AccessPointId`;
/** The condition keys of an ECS task's EFS mount: TLS, through a mount target, from this account. */
const MOUNT_CONTEXT = {
  'aws:SecureTransport': 'true',
  'elasticfilesystem:AccessedViaMountTarget': 'true',
  'aws:PrincipalAccount': ACCOUNT,
};
/** An EFS client request through an access point (the condition key EFS sets for IAM authorization). */
const efs = (action: string, point: 'Content' | 'Journal') => ({
  action: `elasticfilesystem:${action}`,
  resource: FILE_SYSTEM,
  context: { ...MOUNT_CONTEXT, 'elasticfilesystem:AccessPointArn': accessPoint(point) },
});
/**
 * The data stack's file system policy. Within the account, "an allow permission on an action in
 * either an IAM identity policy or a file system resource policy allows access for that action"
 * (https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html): a role's EFS access
 * is its own statements and these together.
 */
const FILE_SYSTEM_POLICY = substitute(
  resolveConditions(loadTemplate('data'), { Role: 'primary', SecondaryRegion: MIRROR_REGION }).Resources
    .ContentFileSystem?.Properties?.FileSystemPolicy.Statement,
  NAMES,
) as PolicyStatement[];

describe("least privilege per container: what Ghost's container can reach", () => {
  const app = resolveConditions(loadTemplate('app'), PARAMETERS);
  const [ghostTaskId, ghostTask] = taskOf(app, 'ghost');
  const [invalidatorTaskId, invalidatorTask] = taskOf(app, 'cache-invalidator');
  const containers: Json[] = ghostTask.Properties.ContainerDefinitions;
  // Containers of a task share its task role (its credentials endpoint is in every container's
  // environment): https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
  const ghostRole = statementsOf(app, taskRoleOf(app, ghostTaskId));
  const invalidatorRole = statementsOf(app, taskRoleOf(app, invalidatorTaskId));
  const ghost = containers.find((c) => c.Name === 'ghost');
  const invalidator: Json = invalidatorTask.Properties.ContainerDefinitions[0];

  it('runs the cache-invalidator alone in a task of its own, with a role of its own', () => {
    expect(invalidatorTaskId).not.toBe(ghostTaskId);
    expect(containers.map((c) => c.Name).sort()).toEqual(['ghost', 'health-sidecar']);
    expect(invalidatorTask.Properties.ContainerDefinitions.map((c: Json) => c.Name)).toEqual(['cache-invalidator']);
    expect(taskRoleOf(app, invalidatorTaskId)).not.toBe(taskRoleOf(app, ghostTaskId));
    expect(invalidatorTask.Properties.ExecutionRoleArn).not.toEqual(ghostTask.Properties.ExecutionRoleArn);
  });

  it("cannot read the invalidator's integration key, the content functions' or the backups' secrets", () => {
    for (const name of NOT_GHOSTS) expect(isAllowed(ghostRole, getSecret(name)), name).toBe(false);
    // Not even through a wildcard on the project's secrets, nor a secret named like the webhook's.
    expect(isAllowed(ghostRole, getSecret('anything'))).toBe(false);
    expect(isAllowed(ghostRole, getSecret('webhook-other'))).toBe(false);
    for (const name of [...NOT_GHOSTS, 'anything', 'webhook-other', 'database-app']) {
      expect(isAllowed(invalidatorRole, getSecret(name)), name).toBe(false);
    }
  });

  it('leaves the webhook secret to the invalidator, which Ghost holds anyway', () => {
    // Ghost keeps each webhook's secret in its own database to sign with, so no separation is
    // claimed for it; Ghost's role does not read it only because nothing in its task needs it.
    // The invalidator reads it by id and reloads it, so a rotation needs no deployment.
    expect(isAllowed(invalidatorRole, getSecret('webhook'))).toBe(true);
    expect(isAllowed(ghostRole, getSecret('webhook'))).toBe(false);
    const secretId = (invalidator.Environment as Json[]).find((e) => e.Name === 'WEBHOOK_SECRET_ID');
    expect(String(substitute(secretId?.Value, NAMES))).toBe('ghost-ha/webhook');
    // Its key decrypts only that secret, through Secrets Manager.
    const decrypt = invalidatorRole.filter((statement) => [statement.Action].flat().includes('kms:Decrypt'));
    expect(JSON.stringify(decrypt.map((statement) => statement.Condition))).toContain(
      `"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ghost-ha/webhook-??????"`,
    );
  });

  it("reads the app user's database secret with the task role: the sidecar follows a rotation, and Ghost is given that login anyway", () => {
    // Ghost's container gets this login injected at start; the sidecar reads it again after the
    // database refused the injected one (health-sidecar README, "Rotating the database password").
    expect(isAllowed(ghostRole, getSecret('database-app'))).toBe(true);
    const sidecar = containers.find((c) => c.Name === 'health-sidecar');
    const secretId = (sidecar.Environment as Json[]).find((e) => e.Name === 'DATABASE_PASSWORD_SECRET_ID');
    expect(String(substitute(secretId?.Value, NAMES))).toBe('ghost-ha/database-app');
    // Never the Aurora master user's secret, nor another named like the app user's.
    expect(isAllowed(ghostRole, getSecret('database'))).toBe(false);
    expect(isAllowed(ghostRole, getSecret('database-app-other'))).toBe(false);
    const decrypt = ghostRole.filter((statement) => [statement.Action].flat().includes('kms:Decrypt'));
    expect(JSON.stringify(decrypt.map((statement) => statement.Condition))).toContain(
      `"kms:EncryptionContext:SecretARN":"arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ghost-ha/database-app-??????"`,
    );
    for (const statement of decrypt)
      expect(statement.Condition, 'kms:Decrypt only through Secrets Manager').toBeDefined();
  });

  it('gets only the secrets Ghost itself needs, injected into its own container', () => {
    const sources = (ghost.Secrets as Json[]).map((s) => String(substitute(s.ValueFrom, NAMES)));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source).toMatch(/:secret:ghost-ha\/(database-app|mail):/);
    expect(JSON.stringify(ghost.Environment)).not.toMatch(/SECRET|TOKEN|API_KEY/i);
  });

  it("receives the invalidator's integration key through its own execution role only", () => {
    const injected = Object.fromEntries(
      (invalidator.Secrets as Json[]).map((s) => [s.Name, String(substitute(s.ValueFrom, NAMES))]),
    );
    expect(injected).toEqual({
      GHOST_ADMIN_API_KEY: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ghost-ha/ghost-integration:adminApiKey::`,
    });
    for (const other of containers) {
      expect(JSON.stringify(other.Secrets ?? []), other.Name).not.toMatch(/\/(webhook|ghost-integration)\b/);
    }
    // The agent fetches it with the execution role, whose credentials "aren't directly accessible
    // by the containers in the task":
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    const executionRoleOf = (task: Json) => {
      const [roleId] = task.Properties.ExecutionRoleArn['Fn::GetAtt'];
      return statementsOf(app, roleId);
    };
    expect(isAllowed(executionRoleOf(invalidatorTask), getSecret('ghost-integration'))).toBe(true);
    expect(isAllowed(executionRoleOf(ghostTask), getSecret('ghost-integration'))).toBe(false);
    expect(isAllowed(invalidatorRole, getSecret('ghost-integration'))).toBe(false);
    // A shared process namespace would show the other containers' environment (/proc/<pid>/environ).
    expect(ghostTask.Properties.PidMode).toBeUndefined();
  });

  it("leaves the Owner-level staff token's secret to the content functions' roles alone", () => {
    const readers = TEMPLATE_NAMES.flatMap((name) => {
      const template = resolveConditions(
        loadTemplate(name),
        name === 'app' ? PARAMETERS : name === 'data' ? { Role: 'primary', SecondaryRegion: MIRROR_REGION } : {},
      );
      return Object.entries(template.Resources)
        .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
        .filter(([id]) => isAllowed(statementsOf(template, id, true), getSecret('ghost-admin')))
        .map(([id]) => `${name}/${id}`);
    });
    expect(readers.sort()).toEqual(['functions/DeleteAllPostsRole', 'functions/RestorePostsRole']);
  });

  it("cannot invalidate the distribution or write the static mirror (the invalidator's own task can)", () => {
    expect(isAllowed(ghostRole, { action: 'cloudfront:CreateInvalidation', resource: DISTRIBUTION })).toBe(false);
    expect(isAllowed(ghostRole, { action: 's3:PutObject', resource: MIRROR_OBJECT })).toBe(false);
    // The grants exist, on the invalidator's role: the test above cannot pass by dropping them.
    expect(isAllowed(invalidatorRole, { action: 'cloudfront:CreateInvalidation', resource: DISTRIBUTION })).toBe(true);
    expect(isAllowed(invalidatorRole, { action: 's3:PutObject', resource: MIRROR_OBJECT })).toBe(true);
    expect(
      isAllowed(invalidatorRole, { action: 'cloudfront:CreateInvalidation', resource: `${DISTRIBUTION}OTHER` }),
    ).toBe(false);
    expect(
      isAllowed(invalidatorRole, { action: 's3:PutObject', resource: `${MIRROR_OBJECT.split('/site/')[0]}/x` }),
    ).toBe(false);
  });

  it('may call nothing the invalidator may, but reading the content both use', () => {
    const bucket = `arn:aws:s3:::ghost-ha-mirror-${ACCOUNT}-${MIRROR_REGION}`;
    const regionKey = 'import:ghost-ha-network-RegionKeyArn';
    const invalidatorMay: PolicyRequest[] = [
      { action: 'cloudfront:CreateInvalidation', resource: DISTRIBUTION },
      { action: 'cloudfront:GetInvalidation', resource: DISTRIBUTION },
      ...['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'].map((action) => ({
        action,
        resource: MIRROR_OBJECT,
      })),
      { action: 's3:ListBucket', resource: bucket, context: { 's3:prefix': 'site/' } },
      getSecret('webhook'),
      {
        action: 'kms:Decrypt',
        resource: regionKey,
        context: {
          'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`,
          'kms:EncryptionContext:SecretARN': secretArn('webhook'),
        },
      },
      efs('ClientWrite', 'Journal'),
      efs('ClientMount', 'Journal'),
    ];
    for (const request of invalidatorMay) {
      expect(isAllowed([...invalidatorRole, ...FILE_SYSTEM_POLICY], request), request.action).toBe(true);
      expect(isAllowed([...ghostRole, ...FILE_SYSTEM_POLICY], request), request.action).toBe(false);
    }
    // The one thing both do: read Ghost's content (Ghost writes it, the invalidator only reads).
    expect(isAllowed([...ghostRole, ...FILE_SYSTEM_POLICY], efs('ClientMount', 'Content'))).toBe(true);
  });

  it("mounts Ghost's content read-only in the invalidator's task, and each task only its own access points", () => {
    // Without ClientWrite, EFS serves an IAM-authorized mount read-only:
    // https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
    const invalidatorEfs = [...invalidatorRole, ...FILE_SYSTEM_POLICY];
    const ghostEfs = [...ghostRole, ...FILE_SYSTEM_POLICY];
    expect(isAllowed(invalidatorEfs, efs('ClientMount', 'Content'))).toBe(true);
    expect(isAllowed(invalidatorEfs, efs('ClientWrite', 'Content'))).toBe(false);
    expect(isAllowed(invalidatorEfs, efs('ClientWrite', 'Journal'))).toBe(true);
    expect(isAllowed(invalidatorEfs, efs('ClientRootAccess', 'Journal'))).toBe(false);
    // No access point named (a mount of the file system's root): refused to both.
    const root = { action: 'elasticfilesystem:ClientMount', resource: FILE_SYSTEM, context: MOUNT_CONTEXT };
    expect(isAllowed(invalidatorEfs, root)).toBe(false);
    expect(isAllowed(ghostEfs, root)).toBe(false);
    expect(isAllowed(ghostEfs, efs('ClientWrite', 'Content'))).toBe(true);
    expect(isAllowed(ghostEfs, efs('ClientMount', 'Journal'))).toBe(false);
    // Any other role of the account: nothing (the policy's Deny without TLS stays).
    expect(isAllowed(FILE_SYSTEM_POLICY, efs('ClientMount', 'Content'))).toBe(false);
    expect(
      isAllowed(ghostEfs, {
        ...efs('ClientWrite', 'Content'),
        context: { ...efs('ClientWrite', 'Content').context, 'aws:SecureTransport': 'false' },
      }),
    ).toBe(false);
    const mount = (invalidator.MountPoints as Json[]).find((m) => m.ContainerPath === '/var/lib/ghost/content');
    expect(mount?.ReadOnly).toBe(true);
    const volume = (invalidatorTask.Properties.Volumes as Json[]).find((v) => v.Name === mount?.SourceVolume);
    expect(volume.EFSVolumeConfiguration.AuthorizationConfig.IAM).toBe('ENABLED');
    expect(String(substitute(volume.EFSVolumeConfiguration.AuthorizationConfig.AccessPointId, NAMES))).toBe(
      'import:ghost-ha-data-ContentAccessPointId',
    );
  });

  // The sidecar's read of its own cluster's task states (takeover on evidence) is read-only and
  // scoped to the cluster's tasks; the app database secret is the login Ghost is given at start.
  it("holds nothing beyond its content volume, the sidecar's DescribeTasks and the app database secret (no new ones)", () => {
    const actions = [...new Set(ghostRole.flatMap((statement) => [statement.Action ?? []].flat()))].sort();
    expect(actions).toEqual([
      'ecs:DescribeTasks',
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
      'kms:Decrypt',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it("gives the invalidator's role exactly its own grants", () => {
    const actions = invalidatorRole.flatMap((statement) => [statement.Action ?? []].flat()).sort();
    expect(actions).toEqual([
      'cloudfront:CreateInvalidation',
      'cloudfront:GetInvalidation',
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
      'kms:Decrypt',
      's3:AbortMultipartUpload',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
    ]);
  });
});
