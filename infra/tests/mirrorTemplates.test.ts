// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation !Sub strings, compared verbatim.
import { describe, expect, it } from 'vitest';
import { loadTemplate, type Template } from '../src/parseTemplate.js';
import { resolveConditions } from '../src/resolveConditions.js';

// biome-ignore lint/suspicious/noExplicitAny: template JSON.
type Json = any;

const REGIONS = { PrimaryRegion: 'eu-west-1', SecondaryRegion: 'eu-central-1' };

function resourceOf(template: Template, id: string): Json {
  const found = template.Resources[id];
  if (!found) throw new Error(`${id} is missing`);
  return found;
}

function distribution(values: Record<string, string>): Json {
  return resourceOf(resolveConditions(loadTemplate('edge'), { ...REGIONS, ...values }), 'Distribution').Properties
    .DistributionConfig;
}

const idOf = (value: Json): string => (typeof value === 'string' ? value : (value['Fn::Sub'] ?? JSON.stringify(value)));

describe('static mirror: the origin group and its members (the contract the failover tools rely on)', () => {
  it.each([
    ['primary', '', 'alb-${PrimaryRegion}', 'mirror-${SecondaryRegion}'],
    ['secondary', '', 'alb-${SecondaryRegion}', 'mirror-${SecondaryRegion}'],
    ['primary', 'eu-west-1', 'alb-${PrimaryRegion}', 'mirror-${MirrorRegion}'],
  ])('active %s, MirrorRegion "%s": exactly [%s, %s]', (ActiveRegion, MirrorRegion, alb, mirror) => {
    const config = distribution({ ActiveRegion, MirrorRegion });
    const members = config.OriginGroups.Items[0].Members;
    expect(members.Quantity).toBe(2);
    expect(members.Items.map((m: Json) => idOf(m.OriginId))).toEqual([alb, mirror]);
    const origins = new Map(config.Origins.map((o: Json) => [idOf(o.Id), o]));
    expect(origins.has(alb) && origins.has(mirror)).toBe(true);
  });

  it('the mirror origin is S3 read through origin access control (SigV4, always), under the prefix', () => {
    const edge = loadTemplate('edge');
    const config = distribution({ ActiveRegion: 'primary' });
    const mirror = config.Origins.find((o: Json) => idOf(o.Id).startsWith('mirror-'));
    expect(mirror.OriginAccessControlId).toEqual({ 'Fn::GetAtt': ['MirrorOriginAccessControl', 'Id'] });
    expect(mirror.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(mirror.CustomOriginConfig).toBeUndefined();
    expect(mirror.OriginPath).toEqual({ 'Fn::Sub': '/${MirrorPrefix}' });
    expect(mirror.OriginCustomHeaders).toBeUndefined();
    expect(idOf(mirror.DomainName)).toBe(
      '${ProjectName}-mirror-${AWS::AccountId}-${SecondaryRegion}.s3.${SecondaryRegion}.amazonaws.com',
    );
    expect(resourceOf(edge, 'MirrorOriginAccessControl').Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
  });

  it('write and private paths never reach the group or the mirror', () => {
    const config = distribution({ ActiveRegion: 'primary' });
    for (const behavior of config.CacheBehaviors) {
      if (!['/assets/*', '/content/images/*', '/.ghost-ha-canary.html'].includes(behavior.PathPattern)) {
        expect(idOf(behavior.TargetOriginId), behavior.PathPattern).toMatch(/^alb-/);
      }
    }
  });
});

describe('static mirror: both regions keep one (S3 replication from the written bucket)', () => {
  const data = (values: Record<string, string>) =>
    resolveConditions(loadTemplate('data'), { Role: 'secondary', ...values });

  it("with MirrorReplicaRegion the bucket replicates its prefix, deletions included, into the other region's bucket", () => {
    const template = data({ MirrorReplicaRegion: 'eu-west-1' });
    const bucket = resourceOf(template, 'MirrorBucket').Properties;
    // The replica is the other data stack's bucket: the same name with the other region.
    const replica = bucket.BucketName['Fn::Sub'].replace('${AWS::Region}', '${MirrorReplicaRegion}');
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.ReplicationConfiguration).toEqual({
      Role: { 'Fn::GetAtt': ['MirrorReplicationRole', 'Arn'] },
      Rules: [
        {
          Id: 'mirror-to-other-region',
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: { 'Fn::Sub': '${MirrorPrefix}/' } },
          DeleteMarkerReplication: { Status: 'Enabled' },
          Destination: { Bucket: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${replica}` } },
        },
      ],
    });
    const statements: Json[] = resourceOf(template, 'MirrorReplicationRole').Properties.Policies[0].PolicyDocument
      .Statement;
    const writes = statements.find((st) => st.Action.includes('s3:ReplicateDelete'));
    expect(writes.Resource).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${replica}/\${MirrorPrefix}/*` });
    // Old versions do not pile up: versioning is there for replication only.
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 1 }, ExpiredObjectDeleteMarker: true }),
    );
  });

  it('without it, no replication and no role (the replica region: versioned, so it can receive)', () => {
    const template = data({});
    expect(resourceOf(template, 'MirrorBucket').Properties.ReplicationConfiguration).toBeUndefined();
    expect(resourceOf(template, 'MirrorBucket').Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(template.Resources.MirrorReplicationRole).toBeUndefined();
  });
});

describe('static mirror: the bucket admits CloudFront alone', () => {
  const statementsWith = (MirrorDistributionId: string): Json[] =>
    resourceOf(
      resolveConditions(loadTemplate('data'), { Role: 'secondary', MirrorDistributionId }),
      'MirrorBucketPolicy',
    ).Properties.PolicyDocument.Statement;

  it('allows only s3:GetObject under the prefix and s3:ListBucket (so a miss is 404), only to the one distribution, and denies plain HTTP', () => {
    const statements = statementsWith('E2QWRUHAPOMQZL');
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(2);
    expect(allows[1]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': ['MirrorBucket', 'Arn'] },
      Condition: allows[0].Condition,
    });
    expect(allows[0]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: { 'Fn::Sub': '${MirrorBucket.Arn}/${MirrorPrefix}/*' },
      Condition: {
        StringEquals: {
          'AWS:SourceArn': {
            'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${MirrorDistributionId}',
          },
        },
      },
    });
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('admits nobody before the distribution exists', () => {
    expect(statementsWith('').filter((s) => s.Effect === 'Allow')).toEqual([]);
  });

  it('is private: public access blocked, ACLs off', () => {
    const bucket = resourceOf(loadTemplate('data'), 'MirrorBucket').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(bucket.BucketName).toEqual({ 'Fn::Sub': '${ProjectName}-mirror-${AWS::AccountId}-${AWS::Region}' });
  });
});

describe('static mirror: the writer', () => {
  const app = (MirrorRegion: string) =>
    resolveConditions(loadTemplate('app'), {
      SiteUrl: 'https://blog.example.com',
      HealthSidecarImage: 'sidecar:1',
      CacheInvalidatorImage: 'invalidator:1',
      CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      OriginFacingPrefixListId: 'pl-1234',
      DistributionId: 'E2QWRUHAPOMQZL',
      MirrorRegion,
    });
  const invalidatorEnv = (template: Template) => {
    const container = resourceOf(template, 'InvalidatorTaskDefinition').Properties.ContainerDefinitions.find(
      (c: Json) => c.Name === 'cache-invalidator',
    );
    return Object.fromEntries(container.Environment.map((e: Json) => [e.Name, e.Value]));
  };

  it('gives the cache-invalidator the other region bucket and the gate to read Ghost through', () => {
    const template = app('eu-central-1');
    const env = invalidatorEnv(template);
    expect(env.MIRROR_BUCKET).toEqual({ 'Fn::Sub': '${ProjectName}-mirror-${AWS::AccountId}-${MirrorRegion}' });
    expect(env.MIRROR_BUCKET_REGION).toEqual({ Ref: 'MirrorRegion' });
    // The gate of the Ghost task, by its private name, on the port the sidecar's gate listens on.
    const gatePort = resourceOf(template, 'TaskDefinition')
      .Properties.ContainerDefinitions.find((c: Json) => c.Name === 'health-sidecar')
      .Environment.find((e: Json) => e.Name === 'GATE_PORT').Value;
    expect(env.MIRROR_ORIGIN_URL).toEqual({ 'Fn::Sub': `http://ghost.\${ProjectName}.internal:${gatePort}` });
    expect(invalidatorEnv(app('')).MIRROR_BUCKET).toBeUndefined();
  });

  it("reads Ghost's redirects file from Ghost's content, mounted read-only, where Ghost keeps it", () => {
    const template = app('eu-central-1');
    const ghostTask = resourceOf(template, 'TaskDefinition').Properties;
    const invalidatorTask = resourceOf(template, 'InvalidatorTaskDefinition').Properties;
    const invalidator = invalidatorTask.ContainerDefinitions.find((c: Json) => c.Name === 'cache-invalidator');
    const ghost = ghostTask.ContainerDefinitions.find((c: Json) => c.Name === 'ghost');
    const ghostContent = ghost.MountPoints.find((m: Json) => m.SourceVolume === 'content');
    const mount = invalidator.MountPoints.find((m: Json) => m.ContainerPath === ghostContent.ContainerPath);
    expect(mount).toEqual({ SourceVolume: 'ghost-content', ContainerPath: ghostContent.ContainerPath, ReadOnly: true });
    // The same access point as Ghost's content volume, in another task.
    const volume = (task: Json, name: string) => task.Volumes.find((v: Json) => v.Name === name).EFSVolumeConfiguration;
    expect(volume(invalidatorTask, 'ghost-content')).toEqual(volume(ghostTask, 'content'));
    expect(invalidatorEnv(template).MIRROR_GHOST_CONTENT_PATH).toBe(ghostContent.ContainerPath);
  });

  it('may write only under the prefix of that one bucket', () => {
    const policies = resourceOf(app('eu-central-1'), 'InvalidatorTaskRole').Properties.Policies;
    const mirror = policies.find((p: Json) => p.PolicyName === 'write-static-mirror');
    const objects = mirror.PolicyDocument.Statement.find((s: Json) => s.Action.includes?.('s3:PutObject'));
    expect(objects.Resource).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:s3:::${ProjectName}-mirror-${AWS::AccountId}-${MirrorRegion}/${MirrorPrefix}/*',
    });
    // Streamed files are multipart uploads; one that fails is aborted.
    expect(objects.Action).toEqual(['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload']);
    expect(resourceOf(app(''), 'InvalidatorTaskRole').Properties.Policies.map((p: Json) => p.PolicyName)).not.toContain(
      'write-static-mirror',
    );
  });
});
