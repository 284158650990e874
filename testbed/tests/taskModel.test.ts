// @module-tag integration
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_EXIT_CODE } from '@ghost-ha/core';
import { loadTemplate } from '@ghost-ha/infra/parseTemplate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ContainerDefinition,
  EcsServiceModel,
  EcsTaskModel,
  ESSENTIAL_EXITED,
  type ImageResolver,
  LocalStack,
  loadDiscoveryNames,
  loadServiceDefinition,
  loadTaskDefinition,
  matchesStatus,
  ServiceDiscoveryName,
  type TaskDefinition,
  waitFor,
} from '../src/index.js';

const APP_PARAMETERS = {
  SiteUrl: 'https://blog.example.com',
  HealthSidecarImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghost-ha/health-sidecar:abc',
  CacheInvalidatorImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghost-ha/cache-invalidator:abc',
  DistributionId: 'E2QWRUHAPOMQZL',
};
const APP_IMPORTS = {
  'ghost-ha-data-ClusterEndpoint': 'db.example.internal',
  'ghost-ha-data-FileSystemId': 'fs-1',
  'ghost-ha-data-ContentAccessPointId': 'fsap-content',
  'ghost-ha-data-JournalAccessPointId': 'fsap-journal',
};

// A small program standing in for an image: logs its signals with a timestamp, becomes "ready"
// (a file the health check tests) after READY_AFTER_MS, exits after EXIT_AFTER_MS, and ignores
// SIGTERM when IGNORE_SIGTERM is set.
const PROGRAM = `
const fs = require('node:fs');
const log = (line) => process.stdout.write(line + ' ' + Date.now() + '\\n');
log('started');
process.on('SIGTERM', () => { log('SIGTERM'); if (!process.env.IGNORE_SIGTERM) process.exit(0); });
if (process.env.READY_AFTER_MS) setTimeout(() => fs.writeFileSync(process.env.READY_FILE, ''), Number(process.env.READY_AFTER_MS));
if (process.env.EXIT_AFTER_MS) setTimeout(() => process.exit(Number(process.env.EXIT_CODE ?? 0)), Number(process.env.EXIT_AFTER_MS));
setInterval(() => {}, 1000);
`;

const programImages: ImageResolver = (image) =>
  image === 'test/program'
    ? async (context) => ({ command: process.execPath, args: ['-e', PROGRAM], cwd: context.rootDir, env: {} })
    : undefined;

function container(name: string, overrides: Partial<ContainerDefinition> = {}): ContainerDefinition {
  return {
    name,
    image: 'test/program',
    essential: true,
    dependsOn: [],
    portMappings: [],
    environment: {},
    secrets: [],
    mountPoints: [],
    healthCheck: undefined,
    stopTimeoutSeconds: 2,
    restartPolicy: undefined,
    ...overrides,
  };
}

function definition(containers: ContainerDefinition[]): TaskDefinition {
  return {
    family: 'test',
    networkMode: 'awsvpc',
    pidMode: undefined,
    volumes: [{ name: 'scratch', efs: undefined }],
    containers,
  };
}

/** Timestamps of a container's logged events (`started`, `SIGTERM`). */
async function events(task: EcsTaskModel, name: string): Promise<Record<string, number>> {
  const text = await readFile(task.container(name).logFile, 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([event, at]) => [event, Number(at)]),
  );
}

const readyCheck = {
  command: ['CMD-SHELL', 'test -e "$READY_FILE"'],
  intervalSeconds: 1,
  timeoutSeconds: 1,
  retries: 2,
  startPeriodSeconds: 0,
};

/** A container definition as written in app.yaml, before the model reads it. */
// biome-ignore lint/suspicious/noExplicitAny: raw template JSON.
function raw(name: string, resource = 'TaskDefinition'): any {
  const definitions = loadTemplate('app').Resources[resource]?.Properties?.ContainerDefinitions;
  // biome-ignore lint/suspicious/noExplicitAny: raw template JSON.
  return definitions.find((c: any) => c.Name === name);
}

describe('task definition from the app template', () => {
  it('reads containers, dependencies, health checks, stop timeouts, environment and secrets', () => {
    const task = loadTaskDefinition({ parameters: APP_PARAMETERS, imports: APP_IMPORTS, region: 'eu-west-1' });
    expect(task.containers.map((c) => c.name)).toEqual(['ghost', 'health-sidecar']);
    const [ghost, sidecar] = task.containers;
    const invalidatorTask = loadTaskDefinition({
      resource: 'InvalidatorTaskDefinition',
      parameters: APP_PARAMETERS,
      imports: APP_IMPORTS,
      region: 'eu-west-1',
    });
    expect(invalidatorTask.containers.map((c) => c.name)).toEqual(['cache-invalidator']);
    const [invalidator] = invalidatorTask.containers;
    expect(ghost?.essential).toBe(true);
    expect(ghost?.dependsOn).toEqual([{ containerName: 'health-sidecar', condition: 'HEALTHY' }]);
    expect(ghost?.stopTimeoutSeconds).toBe(raw('ghost').StopTimeout);
    expect(ghost?.environment.url).toBe('https://blog.example.com');
    expect(ghost?.environment.database__connection__host).toBe('db.example.internal');
    expect(ghost?.secrets).toContainEqual({
      name: 'database__connection__password',
      valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ghost-ha/database-app:password::',
    });
    const check = raw('health-sidecar').HealthCheck;
    expect(sidecar?.healthCheck).toEqual({
      command: check.Command,
      intervalSeconds: check.Interval,
      timeoutSeconds: check.Timeout,
      retries: check.Retries,
      startPeriodSeconds: check.StartPeriod,
    });
    expect(sidecar?.stopTimeoutSeconds).toBe(raw('health-sidecar').StopTimeout);
    expect(sidecar?.portMappings).toEqual([8080, 9000]);
    expect(invalidator?.essential).toBe(raw('cache-invalidator', 'InvalidatorTaskDefinition').Essential);
    expect(invalidator?.stopTimeoutSeconds).toBe(30);
    expect(invalidator?.environment.CLOUDFRONT_DISTRIBUTION_IDS).toBe('E2QWRUHAPOMQZL');
    expect(invalidator?.environment.PUBLIC_URL).toBe('http://cache-invalidator.ghost-ha.internal:3000');
    expect(invalidator?.environment.MIRROR_ORIGIN_URL).toBe('http://ghost.ghost-ha.internal:8080');
    // Ghost's content through the same access point as Ghost's own volume.
    expect(invalidatorTask.volumes.find((v) => v.name === 'ghost-content')?.efs).toEqual({
      fileSystemId: 'fs-1',
      accessPointId: 'fsap-content',
    });
    expect(task.volumes.find((v) => v.name === 'content')?.efs).toEqual({
      fileSystemId: 'fs-1',
      accessPointId: 'fsap-content',
    });
  });

  it("reads the service's grace period and its target group's health check", () => {
    const service = loadServiceDefinition({ parameters: APP_PARAMETERS });
    expect(service.minimumHealthyPercent).toBe(0);
    expect(service.maximumPercent).toBe(100);
    expect(service.healthCheckGracePeriodSeconds).toBeGreaterThan(0);
    expect(service.loadBalancer).toMatchObject({
      containerName: 'health-sidecar',
      containerPort: 8080,
      healthCheck: { port: 9000, path: '/health/ready', intervalSeconds: 10, unhealthyThreshold: 10, matcher: '200' },
    });
    expect([matchesStatus('200', 200), matchesStatus('200-399', 302), matchesStatus('200,204', 503)]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('drops the cache-invalidator and the names without a distribution, and refuses an unknown import', () => {
    const { DistributionId: _, ...withoutDistribution } = APP_PARAMETERS;
    const task = loadTaskDefinition({ parameters: withoutDistribution, imports: APP_IMPORTS });
    expect(task.containers.map((c) => c.name)).toEqual(['ghost', 'health-sidecar']);
    expect(() =>
      loadTaskDefinition({
        resource: 'InvalidatorTaskDefinition',
        parameters: withoutDistribution,
        imports: APP_IMPORTS,
      }),
    ).toThrow(/no AWS::ECS::TaskDefinition named 'InvalidatorTaskDefinition'/);
    expect(loadDiscoveryNames({ parameters: withoutDistribution })).toEqual([]);
    expect(() => loadTaskDefinition({ parameters: APP_PARAMETERS, imports: {} })).toThrow(
      /No value for the import .ghost-ha-data-/,
    );
  });

  it("reads the services' Cloud Map names: Ghost's task and the invalidator's", () => {
    expect(loadDiscoveryNames({ parameters: APP_PARAMETERS })).toEqual([
      { hostname: 'ghost.ghost-ha.internal', service: 'Service', taskDefinition: 'TaskDefinition' },
      {
        hostname: 'cache-invalidator.ghost-ha.internal',
        service: 'InvalidatorService',
        taskDefinition: 'InvalidatorTaskDefinition',
      },
    ]);
  });
});

describe('Cloud Map names on this host', () => {
  it('forwards a connection to the running task of the service, and refuses one while none runs', async () => {
    const target = createServer((_, response) => response.end('from the task'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const port = (target.address() as AddressInfo).port;
    // The edge of the model: a task as the name sees it (status and ports).
    const task = { status: 'PENDING', ports: new Map([[8080, port]]), hostPort: () => port };
    const name = await ServiceDiscoveryName.start({
      hostname: 'ghost.ghost-ha.internal',
      port: 8080,
      tasks: () => [task as unknown as EcsTaskModel],
    });
    try {
      const url = `http://127.0.0.1:${name.localPort}/`;
      expect(name.mapping).toEqual(['ghost.ghost-ha.internal:8080', `127.0.0.1:${name.localPort}`]);
      await expect(fetch(url)).rejects.toThrow();
      task.status = 'RUNNING';
      expect(await (await fetch(url)).text()).toBe('from the task');
      task.status = 'STOPPED';
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      await name.close();
      await new Promise((resolve) => target.close(resolve));
    }
  });

  it("rewrites another task's private name in the environment, and every interface to this host's loopback", async () => {
    const efs = await mkdtemp(join(tmpdir(), 'ghost-ha-efs-test-'));
    const task = await EcsTaskModel.start({
      definition: definition([
        container('main', {
          environment: { TARGET: 'http://ghost.ghost-ha.internal:8080/x', LISTEN_HOST: '0.0.0.0' },
        }),
      ]),
      efsRoot: efs,
      images: programImages,
      hosts: { 'ghost.ghost-ha.internal:8080': '127.0.0.1:40123' },
    });
    try {
      expect(task.container('main').environment).toMatchObject({
        TARGET: 'http://127.0.0.1:40123/x',
        LISTEN_HOST: '127.0.0.1',
      });
    } finally {
      await task.destroy();
      await rm(efs, { recursive: true, force: true });
    }
  });
});

describe('ECS semantics of the task model', () => {
  let efsRoot: string;
  const tasks: EcsTaskModel[] = [];
  beforeAll(async () => {
    efsRoot = await mkdtemp(join(tmpdir(), 'ghost-ha-efs-test-'));
  });
  afterAll(async () => {
    await Promise.all(tasks.map((task) => task.destroy()));
    await rm(efsRoot, { recursive: true, force: true });
  });
  const start = async (taskDefinition: TaskDefinition) => {
    const task = await EcsTaskModel.start({ definition: taskDefinition, efsRoot, images: programImages });
    tasks.push(task);
    return task;
  };

  it('honours a restart policy: in place once a container ran its attempt period, not for an ignored exit code or an early exit', async () => {
    // ECS's minimum attempt period is 60 s: the containers exit just after it (one minute of test).
    const policy = { enabled: true, ignoredExitCodes: [0], restartAttemptPeriodSeconds: 60 };
    const task = await start(
      definition([
        container('main'),
        container('restarts', {
          essential: false,
          restartPolicy: policy,
          environment: { EXIT_AFTER_MS: '61000', EXIT_CODE: '1' },
        }),
        container('ignored', {
          essential: false,
          restartPolicy: policy,
          environment: { EXIT_AFTER_MS: '61000', EXIT_CODE: '0' },
        }),
        container('early', {
          essential: false,
          restartPolicy: policy,
          environment: { EXIT_AFTER_MS: '500', EXIT_CODE: '1' },
        }),
      ]),
    );
    const firstPid = task.container('restarts').pid;
    await waitFor(async () => (task.container('restarts').restarts === 1 ? true : undefined), {
      what: 'the restart',
      timeoutMs: 90_000,
      intervalMs: 200,
    });
    await waitFor(async () => (task.container('restarts').status === 'RUNNING' ? true : undefined), {
      what: 'the restarted container running',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(task.container('restarts').pid).not.toBe(firstPid);
    expect(task.status).toBe('RUNNING');
    await waitFor(async () => (task.container('ignored').status === 'STOPPED' ? true : undefined), {
      what: 'the ignored exit',
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(task.container('ignored').restarts).toBe(0);
    expect(task.container('early').status).toBe('STOPPED');
    expect(task.container('early').restarts).toBe(0);
    await task.stop();
    expect(task.container('restarts').status).toBe('STOPPED');
  }, 120_000);

  it('destroyed while an image is being laid out: the container never runs and the directory does not come back', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let layingOut = false;
    // An image that writes its layout into the container's root once the gate opens, as Ghost's does.
    const slowImages: ImageResolver = (image) =>
      image === 'test/program'
        ? async (context) => {
            layingOut = true;
            await gate;
            await mkdir(join(context.rootDir, 'layout'), { recursive: true });
            await writeFile(join(context.rootDir, 'layout', 'config.json'), '{}');
            return { command: process.execPath, args: ['-e', PROGRAM], cwd: context.rootDir, env: {} };
          }
        : undefined;
    const task = await EcsTaskModel.start({ definition: definition([container('main')]), efsRoot, images: slowImages });
    await waitFor(async () => (layingOut ? true : undefined), { what: 'the layout begun', timeoutMs: 10_000 });
    const opened = new Promise<void>((resolve) =>
      setTimeout(() => {
        release();
        resolve();
      }, 300),
    );
    await task.destroy();
    await opened;
    // Whatever the layout did has happened by now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(task.dir), `${task.dir} is left`).toBe(false);
    expect(task.process('main')).toBeUndefined();
    expect(task.status).toBe('STOPPED');
  });

  it('starts a HEALTHY dependency first, maps ports per task, and translates the environment', async () => {
    const ready = 'READY_FILE';
    const taskDefinition = definition([
      container('app', {
        dependsOn: [{ containerName: 'proxy', condition: 'HEALTHY' }],
        environment: { UPSTREAM: 'http://127.0.0.1:9000/health', PORT: '9000', DATA: '/scratch/data' },
        mountPoints: [{ sourceVolume: 'scratch', containerPath: '/scratch', readOnly: false }],
      }),
      container('proxy', {
        portMappings: [9000],
        healthCheck: readyCheck,
        environment: { READY_AFTER_MS: '1500', [ready]: '/scratch/ready' },
        mountPoints: [{ sourceVolume: 'scratch', containerPath: '/scratch', readOnly: false }],
      }),
    ]);
    const [first, second] = [await start(taskDefinition), await start(taskDefinition)];
    await waitFor(async () => (first.container('app').status === 'RUNNING' ? true : undefined), {
      what: 'app to start',
      timeoutMs: 15_000,
    });
    const proxyStarted = first.container('proxy').startedAt ?? 0;
    const appStarted = first.container('app').startedAt ?? 0;
    // Health checks run every second from the container's start; ready after 1.5 s → healthy at 2 s.
    expect(appStarted - proxyStarted).toBeGreaterThanOrEqual(1_900);
    expect(first.container('proxy').health).toBe('HEALTHY');
    expect(first.hostPort(9000)).not.toBe(second.hostPort(9000));
    const env = first.container('app').environment;
    expect(env.UPSTREAM).toBe(`http://127.0.0.1:${first.hostPort(9000)}/health`);
    expect(env.PORT).toBe(String(first.hostPort(9000)));
    expect(env.DATA).toBe(join(first.dir, 'volumes', 'scratch', 'data'));
  });

  it('stops the task when an essential container exits: dependents first, SIGKILL after the stop timeout', async () => {
    const task = await start(
      definition([
        container('worker', { environment: { EXIT_AFTER_MS: '1500', EXIT_CODE: '3' } }),
        container('app', {
          dependsOn: [{ containerName: 'base', condition: 'START' }],
          environment: { IGNORE_SIGTERM: '1' },
          stopTimeoutSeconds: 2,
        }),
        container('base', { stopTimeoutSeconds: 5 }),
      ]),
    );
    await task.stopped();
    expect(task.stoppedReason).toBe(ESSENTIAL_EXITED);
    expect(task.container('worker').exitCode).toBe(3);
    const app = await events(task, 'app');
    const base = await events(task, 'base');
    // app ignores SIGTERM: killed after its 2 s; only then does base (which app depends on) get SIGTERM.
    expect((task.container('app').stoppedAt ?? 0) - (app.SIGTERM ?? 0)).toBeGreaterThanOrEqual(1_900);
    expect(base.SIGTERM ?? 0).toBeGreaterThanOrEqual(task.container('app').stoppedAt ?? Number.POSITIVE_INFINITY);
  });

  it('counts failures in the start period once a probe has passed', async () => {
    const task = await start(
      definition([
        container('app', {
          healthCheck: { ...readyCheck, retries: 2, startPeriodSeconds: 60 },
          environment: { READY_AFTER_MS: '0', READY_FILE: '/scratch/ready' },
          mountPoints: [{ sourceVolume: 'scratch', containerPath: '/scratch', readOnly: false }],
        }),
      ]),
    );
    await waitFor(async () => (task.container('app').health === 'HEALTHY' ? true : undefined), {
      what: 'the first passing probe',
      timeoutMs: 10_000,
    });
    await rm(join(task.dir, 'volumes', 'scratch', 'ready'));
    await waitFor(async () => (task.container('app').health === 'UNHEALTHY' ? true : undefined), {
      what: 'UNHEALTHY within the start period',
      timeoutMs: 10_000,
    });
    expect(task.unhealthy).toBe(true);
  });

  it('marks a failing essential container UNHEALTHY after its retries, and the service replaces the task', async () => {
    const service = await EcsServiceModel.start({
      definition: definition([
        container('app', {
          healthCheck: { ...readyCheck, retries: 2, startPeriodSeconds: 1 },
          environment: { READY_FILE: '/nowhere/ready' },
        }),
      ]),
      desiredCount: 1,
      efsRoot,
      images: programImages,
      reconcileIntervalMs: 200,
    });
    try {
      const [first] = service.tasks;
      const replaced = await waitFor(async () => (service.tasks.length >= 2 ? true : undefined), {
        what: 'the replacement task',
        timeoutMs: 15_000,
      });
      expect(replaced).toBe(true);
      expect(first?.container('app').health).toBe('UNHEALTHY');
      expect(first?.stoppedReason).toBe('Task failed container health checks');
    } finally {
      await service.destroy();
    }
  });
});

describe('the template is the single source of the wiring', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.destroy();
  }, 60_000);

  it('a variable the sidecar needs and the task definition does not set stops the task, naming it', async () => {
    const template = loadTemplate('app');
    const sidecar = template.Resources.TaskDefinition?.Properties?.ContainerDefinitions.find(
      (c: { Name: string }) => c.Name === 'health-sidecar',
    );
    sidecar.Environment = sidecar.Environment.filter(
      (variable: { Name: string }) => variable.Name !== 'database__connection__database',
    );
    stack = await LocalStack.start({ desiredCount: 0, template });
    const task = await stack.service.startTask();
    await task.stopped();
    expect(task.stoppedReason).toBe(ESSENTIAL_EXITED);
    // A bad setting exits 78 (sysexits' EX_CONFIG), which tells it from a crash in ECS.
    expect(task.container('health-sidecar').exitCode).toBe(CONFIG_EXIT_CODE);
    expect(task.tail('health-sidecar')).toContain('database__connection__database');
    expect(task.container('ghost').pid).toBeUndefined();
  }, 120_000);
});
