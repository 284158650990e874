import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadTemplate, type Template } from '@ghost-ha/infra/parseTemplate';
import { createDistribution, motoCloudFront } from './cloudFrontInMoto.js';
import { EcsApiEndpoint } from './EcsApiEndpoint.js';
import { EcsServiceModel } from './EcsServiceModel.js';
import type { EcsTaskModel } from './EcsTaskModel.js';
import { FrontDoor } from './FrontDoor.js';
import { loadDiscoveryNames } from './loadDiscoveryNames.js';
import { MariaDbServer } from './MariaDbServer.js';
import { MOTO_REGION, MotoServer } from './MotoServer.js';
import { loadServiceDefinition, type ServiceDefinition } from './ServiceDefinition.js';
import { ServiceDiscoveryName } from './ServiceDiscoveryName.js';
import { loadTaskDefinition, type TaskDefinition } from './TaskDefinition.js';
import { ghostVersion } from './tools.js';

export interface LocalStackOptions {
  /** Tasks the service keeps running (the template allows 1; two make a permanent standby). */
  desiredCount: number;
  /** Another template (e.g. a changed copy of app.yaml); default app.yaml. */
  template?: Template;
  /** Parameters on top of the local ones (SiteUrl, images, DistributionId, ...). */
  parameters?: Readonly<Record<string, string>>;
  /** How late the ECS API reports a task's status (default `ECS_API_STATUS_DELAY_MS`). */
  ecsStatusDelayMs?: number;
  /**
   * Tasks of the cache-invalidator's own service (the template gives it Ghost's desired count,
   * at most 1); default 1 when `desiredCount` is at least 1, else 0.
   */
  invalidatorCount?: number;
}

/** The cache-invalidator's service and task definition in the app template. */
const INVALIDATOR_SERVICE = 'InvalidatorService';

const PROJECT = 'ghost-ha';
const DATA_STACK = 'ghost-ha-data';
// The template names the database port literally (3306); a loopback address of its own lets
// MariaDB take that port without clashing with anything else on the machine.
const DATABASE_PORT = 3306;

/**
 * What the app stack needs around its task, locally: moto (Secrets Manager with the secrets the task
 * definition names, CloudFront with the distribution), MariaDB as the Aurora cluster endpoint, a
 * shared directory as EFS, the front door as the load balancer at the site URL, and the ECS service
 * model running the template's task definition.
 */
export class LocalStack {
  readonly moto: MotoServer;
  readonly mariadb: MariaDbServer;
  readonly frontDoor: FrontDoor;
  readonly definition: TaskDefinition;
  readonly serviceDefinition: ServiceDefinition;
  readonly service: EcsServiceModel;
  /** The cache-invalidator's task definition and service (its own task, as in the template). */
  readonly invalidatorDefinition: TaskDefinition;
  readonly invalidator: EcsServiceModel;
  /** The Cloud Map names of the services, as this host reaches them. */
  readonly names: readonly ServiceDiscoveryName[];
  /** The ECS API (DescribeTasks) over the service's tasks, which the containers reach through AWS_ENDPOINT_URL_ECS. */
  readonly ecsApi: EcsApiEndpoint;
  readonly distributionId: string;
  readonly databaseName: string;
  /** Secrets Manager on moto, where the task's secrets live. */
  readonly secrets: SecretsManagerClient;
  readonly #efsRoot: string;

  private constructor(parts: {
    moto: MotoServer;
    mariadb: MariaDbServer;
    frontDoor: FrontDoor;
    definition: TaskDefinition;
    serviceDefinition: ServiceDefinition;
    service: EcsServiceModel;
    invalidatorDefinition: TaskDefinition;
    invalidator: EcsServiceModel;
    names: readonly ServiceDiscoveryName[];
    ecsApi: EcsApiEndpoint;
    distributionId: string;
    databaseName: string;
    secrets: SecretsManagerClient;
    efsRoot: string;
  }) {
    this.moto = parts.moto;
    this.mariadb = parts.mariadb;
    this.frontDoor = parts.frontDoor;
    this.definition = parts.definition;
    this.serviceDefinition = parts.serviceDefinition;
    this.service = parts.service;
    this.invalidatorDefinition = parts.invalidatorDefinition;
    this.invalidator = parts.invalidator;
    this.names = parts.names;
    this.ecsApi = parts.ecsApi;
    this.distributionId = parts.distributionId;
    this.databaseName = parts.databaseName;
    this.secrets = parts.secrets;
    this.#efsRoot = parts.efsRoot;
  }

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const cleanup: (() => Promise<void>)[] = [];
    try {
      const [moto, mariadb] = await Promise.all([
        MotoServer.start().then((server) => {
          cleanup.push(() => server.destroy());
          return server;
        }),
        MariaDbServer.start({ host: randomLoopbackAddress(), port: DATABASE_PORT }).then((server) => {
          cleanup.push(() => server.destroy());
          return server;
        }),
      ]);
      const efsRoot = await mkdtemp(join(tmpdir(), 'ghost-ha-efs-'));
      cleanup.push(() => rm(efsRoot, { recursive: true, force: true }));
      const template = options.template ?? loadTemplate('app');
      const serviceDefinition = loadServiceDefinition({ template });
      const target = serviceDefinition.loadBalancer;
      if (!target) throw new Error('The template has no Service with a load balancer target');
      let service: EcsServiceModel | undefined;
      const ecsApi = await EcsApiEndpoint.start({
        tasks: () => service?.tasks ?? [],
        ...(options.ecsStatusDelayMs === undefined ? {} : { statusDelayMs: options.ecsStatusDelayMs }),
      });
      cleanup.push(() => ecsApi.close());
      const frontDoor = await FrontDoor.start({
        port: 0,
        targets: () =>
          (service?.live ?? [])
            .filter((task) => isRunning(task, target.containerName) && isRunning(task, 'ghost'))
            .map((task) => task.url(target.containerPort)),
      });
      cleanup.push(() => frontDoor.close());

      const secrets = new SecretsManagerClient({
        endpoint: moto.endpoint,
        region: MOTO_REGION,
        credentials: {
          accessKeyId: moto.awsEnv().AWS_ACCESS_KEY_ID ?? '',
          secretAccessKey: moto.awsEnv().AWS_SECRET_ACCESS_KEY ?? '',
        },
      });
      const database = await mariadb.database('ghost');
      await createSecret(
        secrets,
        `${PROJECT}/database`,
        JSON.stringify({ username: database.user, password: database.password }),
      );
      // Ghost's own database user (the app user the data stack's step creates): the same test user here.
      await createSecret(
        secrets,
        `${PROJECT}/database-app`,
        JSON.stringify({ username: database.user, password: database.password }),
      );
      // SES SMTP credentials: nothing sends mail locally, but the task cannot start without the secret.
      await createSecret(
        secrets,
        `${PROJECT}/mail`,
        JSON.stringify({ username: 'local-smtp-user', [`password-${MOTO_REGION}`]: 'local-smtp-password' }),
      );
      await createSecret(secrets, `${PROJECT}/webhook`, randomBytes(24).toString('hex'));
      const distributionId = await createDistribution(motoCloudFront(moto), 'local site distribution', {
        domainName: '127.0.0.1',
        httpPort: frontDoor.port,
      });
      const parameters = {
        ProjectName: PROJECT,
        DataStackName: DATA_STACK,
        SiteUrl: frontDoor.url,
        GhostImage: `ghost:${ghostVersion()}`,
        HealthSidecarImage: `local/${PROJECT}/health-sidecar:source`,
        CacheInvalidatorImage: `local/${PROJECT}/cache-invalidator:source`,
        DistributionId: distributionId,
        // The local MariaDB serves no TLS (Aurora does, and the app user requires it there).
        DatabaseTls: 'off',
        ...options.parameters,
      };
      const source = {
        template,
        region: MOTO_REGION,
        parameters,
        imports: {
          [`${DATA_STACK}-ClusterEndpoint`]: mariadb.host,
          [`${DATA_STACK}-FileSystemId`]: 'fs-local',
          [`${DATA_STACK}-ContentAccessPointId`]: 'fsap-content',
          [`${DATA_STACK}-JournalAccessPointId`]: 'fsap-journal',
        },
      };
      const definition = loadTaskDefinition(source);
      const discovery = loadDiscoveryNames({ template, parameters });
      const invalidatorTaskId = discovery.find((name) => name.service === INVALIDATOR_SERVICE)?.taskDefinition;
      if (!invalidatorTaskId) throw new Error(`The template has no ${INVALIDATOR_SERVICE} with a discovery name`);
      const invalidatorDefinition = loadTaskDefinition({ ...source, resource: invalidatorTaskId });
      let invalidator: EcsServiceModel | undefined;
      // Each name on the ports the task definitions call it with (e.g. ghost.<project>.internal:8080).
      const values = [definition, invalidatorDefinition]
        .flatMap((task) => task.containers)
        .flatMap((container) => Object.values(container.environment));
      const names: ServiceDiscoveryName[] = [];
      cleanup.push(() => Promise.all(names.map((name) => name.close())).then(() => undefined));
      for (const { hostname, service: serviceId } of discovery) {
        const pattern = new RegExp(`\\b${hostname.replaceAll('.', '\\.')}:(\\d+)\\b`, 'g');
        const ports = new Set(values.flatMap((value) => [...value.matchAll(pattern)].map((match) => Number(match[1]))));
        for (const port of ports) {
          names.push(
            await ServiceDiscoveryName.start({
              hostname,
              port,
              tasks: () => (serviceId === INVALIDATOR_SERVICE ? invalidator : service)?.tasks ?? [],
            }),
          );
        }
      }
      const hosts = Object.fromEntries(names.map((name) => name.mapping));
      // The invalidator first, as the switch tool starts it: Ghost's first webhooks find it.
      invalidator = await EcsServiceModel.start({
        definition: invalidatorDefinition,
        desiredCount: options.invalidatorCount ?? Math.min(options.desiredCount, 1),
        service: loadServiceDefinition({ template, parameters, resource: INVALIDATOR_SERVICE }),
        efsRoot,
        secrets,
        // Its own task role's stand-in: moto's endpoint and test credentials.
        environment: moto.awsEnv(),
        hosts,
        name: 'invalidator',
      });
      const startedInvalidator = invalidator;
      cleanup.push(() => startedInvalidator.destroy());
      service = await EcsServiceModel.start({
        definition,
        desiredCount: options.desiredCount,
        service: serviceDefinition,
        efsRoot,
        secrets,
        // The task role's stand-in: moto's endpoint and test credentials; ECS's API is the model's.
        environment: { ...moto.awsEnv(), AWS_ENDPOINT_URL_ECS: ecsApi.url },
        hosts,
        name: 'task',
      });
      const started = service;
      cleanup.push(() => started.destroy());
      return new LocalStack({
        moto,
        mariadb,
        frontDoor,
        definition,
        serviceDefinition,
        service,
        invalidatorDefinition,
        invalidator,
        names,
        ecsApi,
        distributionId,
        databaseName: database.database,
        secrets,
        efsRoot,
      });
    } catch (error) {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
      throw error;
    }
  }

  /** Creates a secret in moto, e.g. `ghost-ha/ghost-admin` once Ghost has an Admin API key. */
  async createSecret(name: string, value: string): Promise<void> {
    await createSecret(this.secrets, name, value);
  }

  get siteUrl(): string {
    return this.frontDoor.url;
  }

  async destroy(): Promise<void> {
    await this.invalidator.destroy();
    await this.service.destroy();
    await Promise.all(this.names.map((name) => name.close()));
    await this.ecsApi.close();
    await this.frontDoor.close();
    await this.mariadb.destroy();
    await this.moto.destroy();
    await rm(this.#efsRoot, { recursive: true, force: true });
  }
}

function isRunning(task: EcsTaskModel, container: string): boolean {
  return task.containers.some((candidate) => candidate.name === container && candidate.status === 'RUNNING');
}

async function createSecret(client: SecretsManagerClient, name: string, value: string): Promise<void> {
  await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
}

function randomLoopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}
