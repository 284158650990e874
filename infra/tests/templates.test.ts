// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation !Sub strings, compared verbatim.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  loadTemplate,
  TEMPLATE_DIR,
  TEMPLATE_NAMES,
  type Template,
  type TemplateResource,
} from '../src/parseTemplate.js';
import { resolveConditions } from '../src/resolveConditions.js';
import { regionalAlarmNames, siteNames } from '../src/switch/Deployment.js';

// biome-ignore lint/suspicious/noExplicitAny: container definitions and statements are template JSON.
type Json = any;

const ALL_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'];
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';

function resource(template: Template, logicalId: string): TemplateResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`${logicalId} is missing`);
  return found;
}

function resourcesOfType(template: Template, type: string): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function container(task: TemplateResource, name: string): Json {
  const found = task.Properties?.ContainerDefinitions.find((c: Json) => c.Name === name);
  if (!found) throw new Error(`container ${name} is missing`);
  return found;
}

/** The ALB origins (the static mirror is the other kind). */
function albOrigins(distributionConfig: Json): Json[] {
  return distributionConfig.Origins.filter((o: Json) => JSON.stringify(o.Id).includes('alb-'));
}

function env(definition: Json): Record<string, unknown> {
  return Object.fromEntries((definition.Environment ?? []).map((e: Json) => [e.Name, e.Value]));
}

const APP_PARAMETERS = {
  SiteUrl: 'https://blog.example.com',
  HealthSidecarImage: 'sidecar:1',
  CacheInvalidatorImage: 'invalidator:1',
  CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
  OriginFacingPrefixListId: 'pl-1234',
  OriginVerifyToken: 'a'.repeat(48),
};

/** Writes IAM can only grant on "*" (no resource type); each is also bound to the project's regions. */
const WRITES_WITHOUT_RESOURCE_TYPES = new Set(['ecs:RegisterTaskDefinition']);

describe('templates', () => {
  it('has exactly one template per lifecycle layer', () => {
    const files = readdirSync(TEMPLATE_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(files).toEqual(TEMPLATE_NAMES.map((n) => `${n}.yaml`).sort());
  });

  it.each(TEMPLATE_NAMES)('%s documents every parameter and output', (name) => {
    const template = loadTemplate(name);
    expect(template.Description?.length).toBeGreaterThan(40);
    for (const [key, parameter] of Object.entries(template.Parameters ?? {})) {
      expect(parameter.Description, `parameter ${key}`).toBeTruthy();
    }
    for (const [key, output] of Object.entries(template.Outputs ?? {})) {
      expect(output.Description, `output ${key}`).toBeTruthy();
    }
  });

  it.each(TEMPLATE_NAMES)('%s keeps logs for a bounded time, encrypted with the region key', (name) => {
    for (const [id, group] of resourcesOfType(loadTemplate(name), 'AWS::Logs::LogGroup')) {
      expect(group.Properties?.RetentionInDays, id).toBeDefined();
      expect(group.Properties?.KmsKeyId, id).toBeDefined();
    }
  });

  it.each(TEMPLATE_NAMES)('%s justifies every checkov skip inline', (name) => {
    for (const [id, r] of Object.entries(loadTemplate(name).Resources)) {
      const skips = ((r.Metadata?.checkov as Json)?.skip ?? []) as Json[];
      for (const skip of skips) {
        expect(skip.id, id).toMatch(/^CKV2?_AWS_\d+$/);
        expect(String(skip.comment ?? '').length, `${id} ${skip.id}`).toBeGreaterThan(40);
      }
    }
  });

  describe('IAM', () => {
    const statements = (name: (typeof TEMPLATE_NAMES)[number]) =>
      resourcesOfType(
        resolveConditions(
          loadTemplate(name),
          name === 'app'
            ? { ...APP_PARAMETERS, DistributionId: 'E2ABCDEF123456' }
            : name === 'data'
              ? { Role: 'primary', SecondaryRegion: 'eu-central-1' }
              : {},
        ),
        'AWS::IAM::Role',
      ).flatMap(([id, role]) =>
        (role.Properties?.Policies ?? []).flatMap((p: Json) =>
          p.PolicyDocument.Statement.map((s: Json) => ({ role: id, policy: p.PolicyName, ...s })),
        ),
      );

    it.each(TEMPLATE_NAMES)('%s grants no wildcard action or resource in its roles', (name) => {
      for (const s of statements(name)) {
        const actions = [s.Action].flat();
        const resources = [s.Resource].flat();
        expect(s.Effect, `${s.role}/${s.policy}`).toBe('Allow');
        for (const action of actions) expect(action, `${s.role}/${s.policy}`).not.toMatch(/\*/);
        // "*" only where AWS offers no resource-level permission, bound to regions: read-only actions,
        // and RegisterTaskDefinition (no resource type in the Service Authorization Reference for
        // Amazon ECS; the roles a task definition names are checked by iam:PassRole instead).
        const readOnlyInRegions =
          actions.every(
            (a: string) => /^[a-z0-9-]+:(Describe|Get|List)/.test(a) || WRITES_WITHOUT_RESOURCE_TYPES.has(a),
          ) && s.Condition?.StringEquals?.['aws:RequestedRegion'] !== undefined;
        for (const r of resources) if (!readOnlyInRegions) expect(r, `${s.role}/${s.policy}`).not.toBe('*');
      }
    });

    it("lets the invalidator's task call CreateInvalidation/GetInvalidation on its one distribution only", () => {
      const cloudfront = statements('app').filter((s) =>
        [s.Action].flat().some((a: string) => a.startsWith('cloudfront:')),
      );
      expect(cloudfront).toHaveLength(1);
      expect(cloudfront[0].role).toBe('InvalidatorTaskRole');
      expect([cloudfront[0].Action].flat().sort()).toEqual([
        'cloudfront:CreateInvalidation',
        'cloudfront:GetInvalidation',
      ]);
      expect(cloudfront[0].Resource).toEqual({
        'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${DistributionId}',
      });
    });

    it('without a distribution, no role has a CloudFront permission', () => {
      const app = resolveConditions(loadTemplate('app'), APP_PARAMETERS);
      expect(JSON.stringify(app.Resources)).not.toContain('cloudfront:');
    });

    it('scopes the Lambdas: delete writes backups, restore reads them, both read the Ghost secret and the signing key', () => {
      const byRole = (role: string) => statements('functions').filter((s) => s.role === role);
      const actions = (role: string) =>
        byRole(role)
          .flatMap((s) => [s.Action].flat())
          .sort();
      expect(actions('DeleteAllPostsRole')).toEqual([
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
        'secretsmanager:GetSecretValue',
      ]);
      expect(actions('RestorePostsRole')).toEqual([
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:DeleteObject',
        's3:GetObject',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
        'secretsmanager:GetSecretValue',
      ]);
      // The restore writes (and removes) only its lease objects.
      const lease = byRole('RestorePostsRole').find((s) => [s.Action].flat().includes('s3:PutObject'));
      expect(lease.Resource).toEqual({ 'Fn::Sub': '${BackupBucket.Arn}/*.restore-lease' });
      for (const role of ['DeleteAllPostsRole', 'RestorePostsRole']) {
        const secrets = byRole(role)
          .filter((s) => s.Action === 'secretsmanager:GetSecretValue')
          .map((s) => s.Resource['Fn::Sub']);
        expect(secrets).toEqual([
          expect.stringMatching(/:secret:\$\{ProjectName\}\/ghost-admin-\?{6}$/),
          expect.stringMatching(/:secret:\$\{ProjectName\}\/backup-signing-\?{6}$/),
        ]);
        const s3 = byRole(role).find((s) => String(s.Action).startsWith('s3:'));
        expect(s3.Resource).toEqual({ 'Fn::Sub': '${BackupBucket.Arn}/*' });
      }
    });

    it('gives the Lambdas the environment their code reads', () => {
      const functions = loadTemplate('functions');
      for (const id of ['DeleteAllPostsFunction', 'RestorePostsFunction']) {
        const variables = resource(functions, id).Properties?.Environment.Variables;
        expect(variables).toMatchObject({
          GHOST_SECRET_ID: { 'Fn::Sub': '${ProjectName}/ghost-admin' },
          BACKUP_BUCKET: { Ref: 'BackupBucket' },
          BACKUP_SIGNING_SECRET_ID: { 'Fn::Sub': '${ProjectName}/backup-signing' },
        });
        // Deployable on the default concurrency quota: restores are serialised by an S3 lease instead.
        expect(resource(functions, id).Properties?.ReservedConcurrentExecutions).toBeUndefined();
      }
    });
  });

  describe('app: the one Ghost task', () => {
    const app = resolveConditions(loadTemplate('app'), { ...APP_PARAMETERS, DistributionId: 'E2ABCDEF123456' });
    const task = resource(app, 'TaskDefinition');
    const service = resource(app, 'Service');
    const invalidatorTask = resource(app, 'InvalidatorTaskDefinition');

    it('never runs two copies: desired count 0 or 1, stop before start, circuit breaker', () => {
      expect(loadTemplate('app').Parameters?.DesiredCount?.AllowedValues).toEqual([0, 1]);
      expect(service.Properties?.DesiredCount).toEqual({ Ref: 'DesiredCount' });
      expect(service.Properties?.DeploymentConfiguration).toEqual({
        MinimumHealthyPercent: 0,
        MaximumPercent: 100,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      });
      expect(service.Properties?.LaunchType).toBe('FARGATE');
    });

    it('routes ALB traffic to the sidecar gate and health checks to its health port', () => {
      const targetGroup = resource(app, 'TargetGroup').Properties;
      expect(targetGroup?.Port).toBe(8080);
      expect(targetGroup?.HealthCheckPort).toBe('9000');
      expect(targetGroup?.HealthCheckPath).toBe('/health/ready');
      expect(service.Properties?.LoadBalancers).toEqual([
        { ContainerName: 'health-sidecar', ContainerPort: 8080, TargetGroupArn: { Ref: 'TargetGroup' } },
      ]);
      const sidecar = container(task, 'health-sidecar');
      expect(env(sidecar)).toMatchObject({
        GATE_PORT: '8080',
        HEALTH_PORT: '9000',
        GHOST_URL: 'http://127.0.0.1:2368',
      });
      expect(sidecar.PortMappings.map((p: Json) => p.ContainerPort).sort()).toEqual([8080, 9000]);
    });

    it('has Ghost and the sidecar reach Aurora over verified TLS, unless DatabaseTls is off', () => {
      for (const name of ['ghost', 'health-sidecar']) {
        expect(env(container(task, name)).database__connection__ssl, name).toBe('Amazon RDS');
      }
      expect(loadTemplate('app').Parameters?.DatabaseTls?.Default).toBe('Amazon RDS');
      const plain = resource(
        resolveConditions(loadTemplate('app'), { ...APP_PARAMETERS, DatabaseTls: 'off' }),
        'TaskDefinition',
      );
      for (const name of ['ghost', 'health-sidecar']) {
        expect(env(container(plain, name)).database__connection__ssl, name).toBeUndefined();
      }
    });

    it('lets Ghost deliver webhooks to internal addresses only while the task has the cache-invalidator', () => {
      // Ghost's setting is all or nothing (no allow-list): off whenever nothing in the task needs it.
      const withoutInvalidator = resource(resolveConditions(loadTemplate('app'), APP_PARAMETERS), 'TaskDefinition');
      expect(withoutInvalidator.Properties?.ContainerDefinitions.map((c: Json) => c.Name)).not.toContain(
        'cache-invalidator',
      );
      expect(env(container(withoutInvalidator, 'ghost')).security__allowWebhookInternalIPs).toBe('false');
      expect(env(container(task, 'ghost')).security__allowWebhookInternalIPs).toBe('true');
    });

    it('starts Ghost only after the sidecar is healthy on /health/startup, and the sidecar is essential', () => {
      const ghost = container(task, 'ghost');
      const sidecar = container(task, 'health-sidecar');
      expect(ghost.DependsOn).toEqual([{ ContainerName: 'health-sidecar', Condition: 'HEALTHY' }]);
      expect(sidecar.Essential).toBe(true);
      expect(sidecar.HealthCheck.Command.join(' ')).toContain('http://127.0.0.1:9000/health/startup');
    });

    it('configures Ghost for the database, its url, its content volume and local webhooks', () => {
      const ghost = container(task, 'ghost');
      expect(env(ghost)).toMatchObject({
        url: { Ref: 'SiteUrl' },
        database__client: 'mysql',
        security__allowWebhookInternalIPs: 'true',
      });
      expect(ghost.Secrets.map((s: Json) => s.Name).sort()).toEqual([
        'database__connection__password',
        'database__connection__user',
        'mail__options__auth__pass',
        'mail__options__auth__user',
      ]);
      for (const name of ['ghost', 'health-sidecar']) {
        expect(container(task, name).MountPoints).toContainEqual({
          SourceVolume: 'content',
          ContainerPath: '/var/lib/ghost/content',
          ReadOnly: false,
        });
      }
      const content = task.Properties?.Volumes.find((v: Json) => v.Name === 'content');
      expect(content.EFSVolumeConfiguration.TransitEncryption).toBe('ENABLED');
    });

    it('gives the sidecar the database settings Ghost uses', () => {
      const ghost = container(task, 'ghost');
      const sidecar = container(task, 'health-sidecar');
      for (const key of [
        'database__connection__host',
        'database__connection__port',
        'database__connection__database',
      ]) {
        expect(env(sidecar)[key], key).toEqual(env(ghost)[key]);
      }
      expect(sidecar.Secrets).toEqual(ghost.Secrets.filter((s: Json) => s.Name.startsWith('database__')));
      expect(env(sidecar).CONTENT_PATH).toBe('/var/lib/ghost/content');
    });

    it('runs the cache-invalidator with its contract, checked on /health/live', () => {
      const invalidator = container(invalidatorTask, 'cache-invalidator');
      expect(env(invalidator)).toMatchObject({
        PORT: '3000',
        CLOUDFRONT_DISTRIBUTION_IDS: { Ref: 'DistributionId' },
        JOURNAL_DIR: '/var/lib/cache-invalidator',
      });
      // The webhook secret is read by id (task role) and reloaded, so a rotation needs no new deployment.
      expect(env(invalidator).WEBHOOK_SECRET_ID).toEqual({ 'Fn::Sub': '${ProjectName}/webhook' });
      expect(JSON.stringify(invalidator.Secrets ?? [])).not.toContain('WEBHOOK_SECRET');
      expect(invalidator.HealthCheck.Command.join(' ')).toContain('http://127.0.0.1:3000/health/live');
      expect(invalidator.MountPoints.map((m: Json) => m.ContainerPath)).toContain('/var/lib/cache-invalidator');
    });

    it("gives the cache-invalidator an integration's Admin API key only when it registers webhooks", () => {
      const registering = resolveConditions(loadTemplate('app'), {
        ...APP_PARAMETERS,
        DistributionId: 'E2ABCDEF123456',
        RegisterWebhooks: 'true',
      });
      const invalidator = container(resource(registering, 'InvalidatorTaskDefinition'), 'cache-invalidator');
      expect(env(invalidator)).toMatchObject({
        REGISTER_WEBHOOKS_ON_START: { Ref: 'RegisterWebhooks' },
        PUBLIC_URL: { 'Fn::Sub': 'http://cache-invalidator.${ProjectName}.internal:3000' },
      });
      expect(invalidator.Secrets).toContainEqual({
        Name: 'GHOST_ADMIN_API_KEY',
        ValueFrom: {
          'Fn::Sub':
            'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${ProjectName}/ghost-integration:adminApiKey::',
        },
      });
      expect(JSON.stringify(resource(registering, 'InvalidatorExecutionRole'))).toContain('/ghost-integration-??????');
      expect(JSON.stringify(resource(registering, 'ExecutionRole'))).not.toContain('/ghost-integration');
      const idle = container(invalidatorTask, 'cache-invalidator').Secrets.map((s: Json) => s.Name);
      expect(idle).toEqual([]);
      for (const template of [app, registering]) {
        expect(JSON.stringify(template.Resources)).not.toContain('ghost-admin');
      }
    });

    it('tells both services the site url', () => {
      expect(env(container(task, 'health-sidecar')).SITE_URL).toEqual({ Ref: 'SiteUrl' });
      expect(env(container(invalidatorTask, 'cache-invalidator')).SITE_URL).toEqual({ Ref: 'SiteUrl' });
    });

    it('leaves the cache-invalidator service out until the distribution exists', () => {
      const first = resolveConditions(loadTemplate('app'), APP_PARAMETERS);
      const names = resource(first, 'TaskDefinition').Properties?.ContainerDefinitions.map((c: Json) => c.Name);
      expect(names).toEqual(['ghost', 'health-sidecar']);
      for (const id of [
        'InvalidatorTaskDefinition',
        'InvalidatorService',
        'DiscoveryNamespace',
        'InvalidatorTaskRole',
      ]) {
        expect(first.Resources[id], id).toBeUndefined();
      }
      expect(resource(first, 'Service').Properties?.ServiceRegistries).toBeUndefined();
    });

    it('runs the cache-invalidator as a service beside Ghost: same desired count, one writer, stop before start', () => {
      const invalidatorService = resource(app, 'InvalidatorService').Properties;
      expect(invalidatorService?.DesiredCount).toEqual({ Ref: 'DesiredCount' });
      expect(invalidatorService?.DeploymentConfiguration).toEqual(service.Properties?.DeploymentConfiguration);
      expect(invalidatorService?.TaskDefinition).toEqual({ Ref: 'InvalidatorTaskDefinition' });
      expect(invalidatorService?.LoadBalancers).toBeUndefined();
      expect(container(invalidatorTask, 'cache-invalidator').Essential).toBe(true);
      expect([invalidatorTask.Properties?.Cpu, invalidatorTask.Properties?.Memory]).toEqual(['256', '512']);
      // The name the switch tool scales it by (Deployment.ts, siteNames).
      expect(invalidatorService?.ServiceName).toEqual({ 'Fn::Sub': '${ProjectName}-cache-invalidator' });
      expect(siteNames('ghost-ha', 'eu-west-1').invalidatorService).toBe('ghost-ha-cache-invalidator');
      expect(service.Properties?.ServiceName).toEqual({ 'Fn::Sub': '${ProjectName}-ghost' });
    });

    it('names each task in Cloud Map: Ghost delivers webhooks to the invalidator, the invalidator reads the gate', () => {
      const namespace = resource(app, 'DiscoveryNamespace').Properties?.Name['Fn::Sub'];
      const nameOf = (id: string) => `${resource(app, id).Properties?.Name}.${namespace}`;
      expect(service.Properties?.ServiceRegistries).toEqual([
        { RegistryArn: { 'Fn::GetAtt': ['GhostDiscoveryService', 'Arn'] } },
      ]);
      expect(resource(app, 'InvalidatorService').Properties?.ServiceRegistries).toEqual([
        { RegistryArn: { 'Fn::GetAtt': ['InvalidatorDiscoveryService', 'Arn'] } },
      ]);
      const invalidator = env(container(invalidatorTask, 'cache-invalidator'));
      expect(invalidator.PUBLIC_URL).toEqual({ 'Fn::Sub': `http://${nameOf('InvalidatorDiscoveryService')}:3000` });
      expect(invalidator.MIRROR_ORIGIN_URL).toEqual({ 'Fn::Sub': `http://${nameOf('GhostDiscoveryService')}:8080` });
      // It listens on the task's interface (awsvpc: loopback and its one network interface).
      expect(invalidator.LISTEN_HOST).toBe('0.0.0.0');
    });

    it("admits only the Ghost task's group to the invalidator's port, and the invalidator only to the gate", () => {
      const taskGroup = { 'Fn::ImportValue': { 'Fn::Sub': '${NetworkStackName}-TaskSecurityGroupId' } };
      const group = resource(app, 'InvalidatorSecurityGroup').Properties;
      expect(group?.SecurityGroupIngress).toEqual([
        expect.objectContaining({ IpProtocol: 'tcp', FromPort: 3000, ToPort: 3000, SourceSecurityGroupId: taskGroup }),
      ]);
      expect(resource(app, 'InvalidatorService').Properties?.NetworkConfiguration.AwsvpcConfiguration).toMatchObject({
        AssignPublicIp: 'DISABLED',
        SecurityGroups: [{ Ref: 'InvalidatorSecurityGroup' }],
      });
      const intoTask = resourcesOfType(app, 'AWS::EC2::SecurityGroupIngress').filter(
        ([, rule]) => JSON.stringify(rule.Properties?.SourceSecurityGroupId) === '{"Ref":"InvalidatorSecurityGroup"}',
      );
      expect(intoTask.map(([, rule]) => [rule.Properties?.GroupId, rule.Properties?.FromPort]).sort()).toEqual(
        [
          [{ 'Fn::ImportValue': { 'Fn::Sub': '${NetworkStackName}-FileSystemSecurityGroupId' } }, 2049],
          [taskGroup, 8080],
        ].sort(),
      );
      expect(resource(app, 'TaskToInvalidatorEgress').Properties).toMatchObject({
        GroupId: taskGroup,
        FromPort: 3000,
        ToPort: 3000,
        DestinationSecurityGroupId: { Ref: 'InvalidatorSecurityGroup' },
      });
    });

    it('logs every container to CloudWatch', () => {
      for (const c of [task, invalidatorTask].flatMap((t) => t.Properties?.ContainerDefinitions ?? [])) {
        expect(c.LogConfiguration.LogDriver, c.Name).toBe('awslogs');
      }
    });

    it('serves HTTPS with the given certificate and redirects HTTP', () => {
      const https = resource(app, 'HttpsListener').Properties;
      expect(https?.Protocol).toBe('HTTPS');
      expect(https?.Certificates).toEqual([{ CertificateArn: { Ref: 'CertificateArn' } }]);
      const http = resource(app, 'HttpRedirectListener').Properties;
      expect(http?.DefaultActions[0].RedirectConfig).toMatchObject({ Protocol: 'HTTPS', StatusCode: 'HTTP_301' });
    });

    it('requires the origin token: forwards only requests carrying it and answers 403 to the rest', () => {
      // No default and no empty value: a stack without a token cannot be created or updated.
      const parameter = loadTemplate('app').Parameters?.OriginVerifyToken;
      expect(parameter?.NoEcho).toBe(true);
      expect(parameter?.Default).toBeUndefined();
      const pattern = new RegExp(String(parameter?.AllowedPattern));
      expect(pattern.test('')).toBe(false);
      expect(pattern.test('short1')).toBe(false);
      expect(pattern.test('a'.repeat(48))).toBe(true);
      const listener = resource(app, 'HttpsListener').Properties;
      expect(listener?.DefaultActions).toEqual([
        expect.objectContaining({
          Type: 'fixed-response',
          FixedResponseConfig: expect.objectContaining({ StatusCode: '403' }),
        }),
      ]);
      const rule = resource(app, 'FromCloudFrontRule').Properties;
      expect(rule?.Conditions).toEqual([
        {
          Field: 'http-header',
          HttpHeaderConfig: { HttpHeaderName: 'X-Origin-Verify', Values: [{ Ref: 'OriginVerifyToken' }] },
        },
      ]);
      expect(rule?.Actions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup' } }]);
      expect(resource(app, 'Service').DependsOn).toContain('FromCloudFrontRule');
      // While the token rotates, the previous value is accepted too, and only then.
      const rotating = resolveConditions(loadTemplate('app'), {
        ...APP_PARAMETERS,
        OriginVerifyPreviousToken: 'b'.repeat(48),
      });
      expect(resource(rotating, 'FromCloudFrontRule').Properties?.Conditions[0].HttpHeaderConfig.Values).toEqual([
        { Ref: 'OriginVerifyToken' },
        { Ref: 'OriginVerifyPreviousToken' },
      ]);
    });

    it('has the ALB append to X-Forwarded-For and the gate count CloudFront and the ALB as its proxies', () => {
      const attributes = resource(app, 'LoadBalancer').Properties?.LoadBalancerAttributes as Json[];
      expect(attributes).toContainEqual({ Key: 'routing.http.xff_header_processing.mode', Value: 'append' });
      const sidecar = env(container(task, 'health-sidecar'));
      expect(sidecar.GATE_TRUSTED_PROXIES).toBe('2');
      expect(sidecar.SITE_URL).toEqual({ Ref: 'SiteUrl' });
    });

    it('admits only CloudFront to the ALB and only the ALB to the task', () => {
      const ingress = resource(app, 'LoadBalancerSecurityGroup').Properties?.SecurityGroupIngress;
      for (const rule of ingress) expect(rule.SourcePrefixListId).toEqual({ Ref: 'OriginFacingPrefixListId' });
      for (const id of ['TaskGateIngress', 'TaskHealthIngress']) {
        expect(resource(app, id).Properties?.SourceSecurityGroupId).toEqual({ Ref: 'LoadBalancerSecurityGroup' });
      }
    });
  });

  describe('edge: CloudFront over both regions', () => {
    const edgeFor = (ActiveRegion: string) =>
      resource(
        resolveConditions(loadTemplate('edge'), {
          ActiveRegion,
          PrimaryRegion: 'eu-west-1',
          SecondaryRegion: 'eu-central-1',
        }),
        'Distribution',
      ).Properties?.DistributionConfig;
    const config = edgeFor('primary');

    it('fails over from the active ALB to the static mirror on 500/502/503/504', () => {
      const [group] = config.OriginGroups.Items;
      expect(config.OriginGroups.Quantity).toBe(1);
      expect(group.FailoverCriteria.StatusCodes).toEqual({ Quantity: 4, Items: [500, 502, 503, 504] });
      const members = (c: Json) => c.OriginGroups.Items[0].Members.Items.map((m: Json) => m.OriginId);
      expect(members(config)).toEqual([
        { 'Fn::Sub': 'alb-${PrimaryRegion}' },
        { 'Fn::Sub': 'mirror-${SecondaryRegion}' },
      ]);
      expect(members(edgeFor('secondary'))).toEqual([
        { 'Fn::Sub': 'alb-${SecondaryRegion}' },
        { 'Fn::Sub': 'mirror-${SecondaryRegion}' },
      ]);
    });

    it('sends only cacheable methods to the origin group', () => {
      const grouped = [config.DefaultCacheBehavior, ...config.CacheBehaviors].filter(
        (b: Json) => b.TargetOriginId === 'ghost-regions',
      );
      expect(grouped.length).toBeGreaterThanOrEqual(3);
      expect(config.DefaultCacheBehavior.TargetOriginId).toBe('ghost-regions');
      for (const behavior of grouped) {
        expect(['GET', 'HEAD', 'OPTIONS']).toEqual(expect.arrayContaining(behavior.AllowedMethods));
        expect(behavior.ViewerProtocolPolicy).toBe('redirect-to-https');
      }
    });

    it.each(['/ghost/*', '/members/*', '/p/*', '/r/*'])(
      'sends %s to the active region only, uncached, with every method',
      (path) => {
        for (const [active, origin] of [
          ['primary', 'alb-${PrimaryRegion}'],
          ['secondary', 'alb-${SecondaryRegion}'],
        ] as const) {
          const behavior = edgeFor(active).CacheBehaviors.find((b: Json) => b.PathPattern === path);
          expect(behavior, path).toBeDefined();
          expect(behavior.TargetOriginId).toEqual({ 'Fn::Sub': origin });
          expect([...behavior.AllowedMethods].sort()).toEqual([...ALL_METHODS].sort());
          expect(behavior.CachePolicyId).toBe(CACHING_DISABLED);
        }
      },
    );

    it('caches pages despite max-age=0 (s-maxage from the edge function, MinTTL 0), keyed only by the cookies Ghost renders differently for', () => {
      const edge = loadTemplate('edge');
      const policy = resource(edge, 'PageCachePolicy').Properties?.CachePolicyConfig;
      expect(policy.MinTTL).toBe(0);
      expect(Number(edge.Parameters?.CacheTtlSeconds?.Default)).toBeGreaterThan(0);
      expect(config.DefaultCacheBehavior.LambdaFunctionAssociations).toEqual([
        { EventType: 'origin-response', LambdaFunctionARN: { Ref: 'PageResponseFunctionVersion1' } },
      ]);
      const code = resource(edge, 'PageResponseFunction').Properties?.Code.ZipFile['Fn::Sub'];
      expect(code).toContain('const PAGE_SECONDS = ${CacheTtlSeconds};');
      expect(code).toContain('const MIRROR_SECONDS = ${MirrorCacheSeconds};');
      expect(policy.ParametersInCacheKeyAndForwardedToOrigin.CookiesConfig).toEqual({
        CookieBehavior: 'whitelist',
        Cookies: ['ghost-members-ssr', 'ghost-members-ssr.sig', 'ghost-private'],
      });
      expect(config.DefaultCacheBehavior.CachePolicyId).toEqual({ Ref: 'PageCachePolicy' });
    });

    it('forwards no viewer Host to the group (S3 needs its own), reaching each ALB over HTTPS by a name of its own', () => {
      const edge = loadTemplate('edge');
      const policy = resource(edge, 'OriginRequestPolicy').Properties?.OriginRequestPolicyConfig;
      expect(policy.HeadersConfig).toEqual({ HeaderBehavior: 'none' });
      const groupBehaviors = [config.DefaultCacheBehavior, ...config.CacheBehaviors].filter(
        (b: { TargetOriginId: unknown }) => b.TargetOriginId === 'ghost-regions',
      );
      expect(groupBehaviors.length).toBeGreaterThan(0);
      for (const behavior of groupBehaviors) {
        expect(behavior.OriginRequestPolicyId).toEqual({ Ref: 'OriginRequestPolicy' });
        // A project cache policy keys on no header; the managed CachingDisabled has none either.
        if (typeof behavior.CachePolicyId === 'string') {
          expect(behavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
          continue;
        }
        const keyHeaders = resource(edge, behavior.CachePolicyId.Ref).Properties?.CachePolicyConfig
          .ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig;
        expect(keyHeaders).toEqual({ HeaderBehavior: 'none' });
      }
      for (const origin of albOrigins(config)) {
        expect(origin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
      }
      const pattern = new RegExp(String(edge.Parameters?.PrimaryOriginDomain?.AllowedPattern));
      expect(pattern.test('origin-eu-west-1.blog.example.com')).toBe(true);
      expect(pattern.test('ghost-ha-123.eu-west-1.elb.amazonaws.com')).toBe(false);
      expect(edge.Parameters?.SecondaryOriginDomain?.AllowedPattern).toBe(
        edge.Parameters?.PrimaryOriginDomain?.AllowedPattern,
      );
    });

    it('sends the origin token to both ALBs when it is set', () => {
      const withToken = resource(
        resolveConditions(loadTemplate('edge'), { OriginVerifyToken: 'a'.repeat(48) }),
        'Distribution',
      ).Properties?.DistributionConfig;
      for (const origin of albOrigins(withToken)) {
        expect(origin.OriginCustomHeaders).toEqual([
          { HeaderName: 'X-Origin-Verify', HeaderValue: { Ref: 'OriginVerifyToken' } },
        ]);
      }
      for (const origin of config.Origins) expect(origin.OriginCustomHeaders).toBeUndefined();
    });

    it('does not cache error responses past a failover', () => {
      for (const code of [500, 502, 503, 504]) {
        expect(config.CustomErrorResponses).toContainEqual({ ErrorCode: code, ErrorCachingMinTTL: 0 });
      }
    });
  });

  describe('data', () => {
    const primary = resolveConditions(loadTemplate('data'), {
      Role: 'primary',
      SecondaryRegion: 'eu-central-1',
      ReplicaFileSystemId: 'fs-0123456789abcdef0',
    });
    const secondary = resolveConditions(loadTemplate('data'), { Role: 'secondary' });

    it('makes the primary cluster the source of an Aurora MySQL 8 global database the secondary joins', () => {
      expect(resource(primary, 'GlobalCluster').Properties?.SourceDBClusterIdentifier).toEqual({ Ref: 'Cluster' });
      const cluster = resource(primary, 'Cluster').Properties;
      expect(cluster?.Engine).toBe('aurora-mysql');
      expect(String(loadTemplate('data').Parameters?.EngineVersion?.Default)).toMatch(/^8\.0\.mysql_aurora\.3\./);
      expect(cluster?.BackupRetentionPeriod).toEqual({ Ref: 'BackupRetentionDays' });
      expect(cluster?.StorageEncrypted).toBe(true);
      expect(secondary.Resources.GlobalCluster).toBeUndefined();
      expect(resource(secondary, 'Cluster').Properties?.GlobalClusterIdentifier).toEqual({
        Ref: 'GlobalClusterIdentifier',
      });
      expect(resource(secondary, 'Cluster').Properties?.MasterUsername).toBeUndefined();
    });

    it('replicates the content file system into the secondary one, which accepts being overwritten', () => {
      const source = resource(primary, 'ContentFileSystem').Properties;
      expect(source?.Encrypted).toBe(true);
      expect(source?.ReplicationConfiguration.Destinations).toEqual([
        { Region: { Ref: 'SecondaryRegion' }, FileSystemId: { Ref: 'ReplicaFileSystemId' } },
      ]);
      expect(resource(secondary, 'ContentFileSystem').Properties?.FileSystemProtection).toEqual({
        ReplicationOverwriteProtection: 'DISABLED',
      });
    });

    it('backs the content file system up with AWS Backup in both regions', () => {
      for (const t of [primary, secondary]) {
        const selection = resource(t, 'BackupSelection').Properties?.BackupSelection;
        expect(JSON.stringify(selection.Resources)).toContain('${ContentFileSystem}');
      }
    });

    it('keeps the secrets in the primary, encrypted and replicated to the secondary', () => {
      const secrets = resourcesOfType(primary, 'AWS::SecretsManager::Secret');
      expect(secrets.map(([id]) => id).sort()).toEqual([
        'AppDatabaseSecret',
        'BackupSigningSecret',
        'DatabaseSecret',
        'GhostAdminSecret',
        'GhostIntegrationSecret',
        'MailSecret',
        'OriginVerifySecret',
        'WebhookSecret',
      ]);
      for (const [id, secret] of secrets) {
        expect(secret.Properties?.KmsKeyId, id).toBeDefined();
        expect(secret.Properties?.ReplicaRegions, id).toEqual([
          { Region: { Ref: 'SecondaryRegion' }, KmsKeyId: { 'Fn::Sub': 'alias/${ProjectName}' } },
        ]);
      }
      expect(resourcesOfType(secondary, 'AWS::SecretsManager::Secret')).toEqual([]);
    });
  });

  describe('network', () => {
    const network = loadTemplate('network');

    it('spreads public and private subnets over two zones', () => {
      const zoneOf = (id: string) => resource(network, id).Properties?.AvailabilityZone['Fn::Select'][0];
      expect([zoneOf('PublicSubnetA'), zoneOf('PublicSubnetB')]).toEqual([0, 1]);
      expect([zoneOf('PrivateSubnetA'), zoneOf('PrivateSubnetB')]).toEqual([0, 1]);
    });

    it('has the VPC endpoints the task needs', () => {
      const services = resourcesOfType(network, 'AWS::EC2::VPCEndpoint').map(
        ([, e]) => e.Properties?.ServiceName['Fn::Sub'],
      );
      for (const name of ['s3', 'ecr.api', 'ecr.dkr', 'logs', 'secretsmanager']) {
        expect(services).toContain(`com.amazonaws.\${AWS::Region}.${name}`);
      }
    });
  });

  describe('observability', () => {
    const observability = resolveConditions(loadTemplate('observability'), {
      DistributionId: 'E2ABCDEF123456',
      'AWS::Region': 'us-east-1',
    });
    const alarms = resourcesOfType(observability, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

    it('alarms on health verdict, 5xx rates, invalidation failures and backlog, CPU and memory', () => {
      const metricNames = alarms.map(
        (a) => a?.MetricName ?? a?.Metrics.map((m: Json) => m.MetricStat?.Metric.MetricName).join(','),
      );
      expect(metricNames).toEqual(
        expect.arrayContaining([
          'HealthyHostCount',
          expect.stringContaining('HTTPCode_Target_5XX_Count'),
          '5xxErrorRate',
          expect.stringContaining('cache_invalidator_invalidations_total'),
          'cache_invalidator_oldest_pending_age_seconds',
          'CPUUtilization',
          'MemoryUtilization',
          'ghost_ha_health_status',
        ]),
      );
      for (const alarm of alarms) expect(alarm?.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    });

    it('names in RegionalAlarmNames exactly the alarms the failover tool switches', () => {
      const raw = loadTemplate('observability');
      // With a distribution, as the switch tool sees a deployed region (the invalidator's alarm exists then).
      const output: Json = observability.Outputs?.RegionalAlarmNames?.Value ?? {};
      const regional = output['Fn::Join'][1].map((r: Json) => r.Ref);
      const names = regional.map((id: string) =>
        resource(raw, id).Properties?.AlarmName['Fn::Sub'].replace('${ProjectName}', 'ghost-ha'),
      );
      expect(names).toEqual(regionalAlarmNames('ghost-ha'));
      // Exactly the alarms whose actions follow the region's role.
      const roleBound = Object.entries(raw.Resources)
        .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.ActionsEnabled !== undefined)
        .map(([id]) => id);
      expect([...regional].sort()).toEqual(roleBound.sort());
    });

    it('creates the CloudFront alarm only in us-east-1, where its metrics are', () => {
      const elsewhere = resolveConditions(loadTemplate('observability'), {
        DistributionId: 'E2ABCDEF123456',
        'AWS::Region': 'eu-west-1',
      });
      expect(elsewhere.Resources.CloudFront5xxAlarm).toBeUndefined();
      expect(observability.Resources.CloudFront5xxAlarm).toBeDefined();
    });
  });
});

describe('deploy invariants', () => {
  const app = resolveConditions(loadTemplate('app'), { ...APP_PARAMETERS, DistributionId: 'E2ABCDEF123456' });
  const task = resource(app, 'TaskDefinition');
  const dataPrimary = resolveConditions(loadTemplate('data'), {
    Role: 'primary',
    SecondaryRegion: 'eu-central-1',
    ReplicaFileSystemId: 'fs-0123456789abcdef0',
  });
  const dataSecondary = resolveConditions(loadTemplate('data'), { Role: 'secondary' });
  const secretArn = (name: string) =>
    `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:\${ProjectName}/${name}`;
  const secrets = (definition: Json): Record<string, string> =>
    Object.fromEntries((definition.Secrets ?? []).map((s: Json) => [s.Name, s.ValueFrom['Fn::Sub']]));

  it('admits CloudFront to the ALB over HTTPS only, with one prefix-list rule (each counts as the list size)', () => {
    const ingress = resource(app, 'LoadBalancerSecurityGroup').Properties?.SecurityGroupIngress;
    expect(ingress).toEqual([
      {
        Description: expect.any(String),
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourcePrefixListId: { Ref: 'OriginFacingPrefixListId' },
      },
    ]);
    const prefixListRules = Object.values(app.Resources)
      .filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress')
      .filter((r) => r.Properties?.SourcePrefixListId);
    expect(prefixListRules).toEqual([]);
  });

  it('pins the task to X86_64, the platform package.sh builds and pulls for', () => {
    expect(task.Properties?.RuntimePlatform).toEqual({ OperatingSystemFamily: 'LINUX', CpuArchitecture: 'X86_64' });
  });

  it('gives Ghost its own database user, not the master user, replicated to the secondary region', () => {
    const ghost = secrets(container(task, 'ghost'));
    expect(ghost.database__connection__user).toBe(`${secretArn('database-app')}:username::`);
    expect(ghost.database__connection__password).toBe(`${secretArn('database-app')}:password::`);
    const secret = resource(dataPrimary, 'AppDatabaseSecret').Properties;
    expect(secret?.Name).toEqual({ 'Fn::Sub': '${ProjectName}/database-app' });
    expect(secret?.GenerateSecretString.SecretStringTemplate).toBe('{"username":"ghost_app"}');
    expect(secret?.ReplicaRegions).toEqual([{ Region: { Ref: 'SecondaryRegion' }, KmsKeyId: expect.anything() }]);
    // Created by scripts/create-app-db-user.sh through the Data API of the primary cluster.
    expect(resource(dataPrimary, 'Cluster').Properties?.EnableHttpEndpoint).toBe(true);
    const readable = resource(app, 'ExecutionRole').Properties?.Policies[0].PolicyDocument.Statement[0].Resource;
    expect(readable).toContainEqual({ 'Fn::Sub': `${secretArn('database-app')}-??????` });
  });

  it("gives Ghost its mail settings from a replicated secret, with SES SMTP in the task's region (both regions)", () => {
    for (const region of ['eu-west-1', 'eu-central-1']) {
      const ghost = container(task, 'ghost');
      const environment = env(ghost);
      expect(environment.mail__transport).toBe('SMTP');
      expect(environment.mail__options__host).toEqual({ 'Fn::Sub': 'email-smtp.${AWS::Region}.amazonaws.com' });
      expect(environment.mail__options__port).toBe('587');
      expect(environment.mail__from).toBeTruthy();
      // The same template in both regions: the region's own SMTP password is picked by key.
      const ghostSecrets = secrets(ghost);
      expect(ghostSecrets.mail__options__auth__user).toBe(`${secretArn('mail')}:username::`);
      expect(ghostSecrets.mail__options__auth__pass).toBe(`${secretArn('mail')}:password-\${AWS::Region}::`);
      expect(region).toMatch(/^eu-/);
    }
    const mail = resource(dataPrimary, 'MailSecret').Properties;
    expect(mail?.ReplicaRegions).toEqual([{ Region: { Ref: 'SecondaryRegion' }, KmsKeyId: expect.anything() }]);
    expect(mail?.SecretString).toEqual({
      'Fn::Sub': '{"username":"","password-${AWS::Region}":"","password-${SecondaryRegion}":""}',
    });
  });

  it('attaches a web ACL by default: AWS managed rules and rate limits on sign-in paths; opt-out parameter', () => {
    const edge = (values: Record<string, string>) =>
      resolveConditions(loadTemplate('edge'), {
        PrimaryRegion: 'eu-west-1',
        SecondaryRegion: 'eu-central-1',
        ...values,
      });
    const byDefault = edge({});
    const acl = resource(byDefault, 'WebAcl').Properties;
    expect(acl?.Scope).toBe('CLOUDFRONT');
    const managed = acl?.Rules.flatMap((r: Json) =>
      r.Statement.ManagedRuleGroupStatement ? [r.Statement.ManagedRuleGroupStatement.Name] : [],
    );
    expect(managed).toEqual([
      'AWSManagedRulesAmazonIpReputationList',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'AWSManagedRulesCommonRuleSet',
    ]);
    const rate = acl?.Rules.find((r: Json) => r.Statement.RateBasedStatement)?.Statement.RateBasedStatement;
    expect(rate.Limit).toEqual({ Ref: 'SignInRateLimit' });
    expect(rate.ScopeDownStatement.OrStatement.Statements.map((s: Json) => s.ByteMatchStatement.SearchString)).toEqual([
      '/ghost/api/admin/session',
      '/members/api/send-magic-link',
    ]);
    expect(resource(byDefault, 'Distribution').Properties?.DistributionConfig.WebACLId).toEqual({
      'Fn::GetAtt': ['WebAcl', 'Arn'],
    });
    const optedOut = edge({ EnableWaf: 'false' });
    expect(optedOut.Resources.WebAcl).toBeUndefined();
    expect(resource(optedOut, 'Distribution').Properties?.DistributionConfig.WebACLId).toBeUndefined();
    const own = edge({ WebAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/mine/1' });
    expect(own.Resources.WebAcl).toBeUndefined();
    expect(resource(own, 'Distribution').Properties?.DistributionConfig.WebACLId).toEqual({ Ref: 'WebAclArn' });
  });

  it('backs up Aurora and the content with AWS Backup and copies every recovery point to the other region', () => {
    const rule = resource(dataPrimary, 'BackupPlan').Properties?.BackupPlan.BackupPlanRule[0];
    expect(rule.CopyActions).toEqual([
      {
        DestinationBackupVaultArn: {
          'Fn::Sub':
            'arn:${AWS::Partition}:backup:${SecondaryRegion}:${AWS::AccountId}:backup-vault:${ProjectName}-content',
        },
        Lifecycle: { DeleteAfterDays: { Ref: 'FileSystemBackupRetentionDays' } },
      },
    ]);
    const selected = resource(dataPrimary, 'BackupSelection').Properties?.BackupSelection.Resources;
    expect(selected).toContainEqual({ 'Fn::GetAtt': ['Cluster', 'DBClusterArn'] });
    expect(resource(dataSecondary, 'BackupVault').Properties?.BackupVaultName).toEqual({
      'Fn::Sub': '${ProjectName}-content',
    });
  });

  it('alarms on Aurora global lag, EFS TimeSinceLastSync and failed backup or copy jobs, to the alarm topic', () => {
    const topic = { 'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${ProjectName}-alarms' };
    const lag = resource(dataPrimary, 'ReplicationLagAlarm').Properties;
    expect([lag?.Namespace, lag?.MetricName]).toEqual(['AWS/RDS', 'AuroraGlobalDBReplicationLag']);
    expect(lag?.AlarmActions).toEqual([topic]);
    expect(resource(dataSecondary, 'ReplicationLagAlarm').Properties?.MetricName).toBe('AuroraGlobalDBReplicationLag');
    const sync = resource(dataPrimary, 'ContentSyncAlarm').Properties;
    expect([sync?.Namespace, sync?.MetricName]).toEqual(['AWS/EFS', 'TimeSinceLastSync']);
    expect(sync?.Dimensions.map((d: Json) => d.Name)).toEqual(['FileSystemId', 'DestinationFileSystemId']);
    expect(sync?.AlarmActions).toEqual([topic]);
    const backup = resource(dataPrimary, 'BackupFailureAlarm').Properties;
    expect(backup?.Metrics.flatMap((m: Json) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []))).toEqual([
      'NumberOfBackupJobsFailed',
      'NumberOfCopyJobsFailed',
    ]);
    expect(backup?.AlarmActions).toEqual([topic]);
  });

  it('mirrors the images in ECR with replication into the secondary region', () => {
    const registry = resolveConditions(loadTemplate('registry'), { SecondaryRegion: 'eu-central-1' });
    expect(resourcesOfType(registry, 'AWS::ECR::Repository').map(([, r]) => r.Properties?.RepositoryName)).toEqual([
      { 'Fn::Sub': '${ProjectName}/ghost' },
      { 'Fn::Sub': '${ProjectName}/health-sidecar' },
      { 'Fn::Sub': '${ProjectName}/cache-invalidator' },
    ]);
    const [rule] = resource(registry, 'Replication').Properties?.ReplicationConfiguration.Rules ?? [];
    expect(rule.Destinations).toEqual([{ Region: { Ref: 'SecondaryRegion' }, RegistryId: { Ref: 'AWS::AccountId' } }]);
  });
});
