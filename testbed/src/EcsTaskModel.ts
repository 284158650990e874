import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ContainerHealthCheck, type HealthStatus } from './ContainerHealthCheck.js';
import { freePort } from './freePort.js';
import { type ImageResolver, type LocalLaunch, localImages } from './localImages.js';
import { ManagedProcess } from './ManagedProcess.js';
import type { ContainerDefinition, TaskDefinition } from './TaskDefinition.js';

const run = promisify(execFile);

export type TaskStatus = 'PENDING' | 'RUNNING' | 'STOPPING' | 'STOPPED';
export type ContainerStatus = 'PENDING' | 'RUNNING' | 'STOPPED';

export interface EcsTaskModelOptions {
  definition: TaskDefinition;
  /** Where EFS file systems live on this host: the same directory for every task (shared files). */
  efsRoot: string;
  /** Secrets Manager (moto) for the containers' `Secrets`. */
  secrets?: SecretsManagerClient;
  /** Image URI → local entry point; default `localImages`. */
  images?: ImageResolver;
  /** Environment every container gets besides its own, e.g. moto's endpoint and credentials (the task role). */
  environment?: Readonly<Record<string, string>>;
  /**
   * Other tasks' private names as this host reaches them: `name:port` → `127.0.0.1:<port>` (see
   * ServiceDiscoveryName), rewritten in the environment like the task's own addresses.
   */
  hosts?: Readonly<Record<string, string>>;
  /** A name for logs and the task ARN. */
  name?: string;
  /** Called on every change of the task's or a container's state. */
  onChange?: (task: EcsTaskModel) => void;
  /**
   * How long ECS takes to act on an essential container's exit (stop the rest of the task). Not
   * documented; of the order of seconds. Default `ECS_REACTION_MS`.
   */
  reactionMs?: number;
}

/** ECS's reaction to an essential container's exit, by default (the README's fencing budget assumes ≤ 5 s). */
export const ECS_REACTION_MS = 2_000;
/** The cluster every model task runs in (the template names its cluster after the project). */
export const MODEL_CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/local';

export interface ContainerState {
  readonly name: string;
  readonly definition: ContainerDefinition;
  status: ContainerStatus;
  health: HealthStatus;
  pid: number | undefined;
  exitCode: number | null | undefined;
  startedAt: number | undefined;
  stoppedAt: number | undefined;
  /** Times ECS restarted it in place (its restart policy). */
  restarts: number;
  /** The environment the container runs with, translated to this host. */
  environment: Record<string, string>;
  logFile: string;
}

interface Container extends ContainerState {
  process: ManagedProcess | undefined;
  healthCheck: ContainerHealthCheck | undefined;
  /** Resolves once the container has stopped, or was never started because the task stopped first. */
  stopped: Promise<void>;
  markStopped: () => void;
}

/** What ECS says when a task stops, as `stoppedReason`. */
export const ESSENTIAL_EXITED = 'Essential container in task exited';

/**
 * One ECS task as local processes, from a task definition read out of the template. The semantics
 * are ECS's (Fargate, awsvpc):
 * - containers start in `dependsOn` order: `START` (started), `COMPLETE` (exited), `SUCCESS`
 *   (exited 0), `HEALTHY` (its health check passed); a dependency that can no longer be met stops
 *   the task;
 * - health checks run the definition's command against the container (see ContainerHealthCheck);
 * - an essential container that exits stops the task; stopping sends SIGTERM to each container once
 *   the containers depending on it have stopped (start order reversed), and SIGKILL after its own
 *   `stopTimeout`;
 * - `Secrets` are read from Secrets Manager at start (a missing secret fails the task, as ECS's
 *   `ResourceInitializationError` does); `Environment` is passed as is.
 *
 * awsvpc gives every task its own network namespace, so all tasks use the same container ports.
 * Here each task maps its ports (declared `PortMappings`, and the values of `…PORT` variables) to
 * free host ports: see `ports`. The environment is translated: those `…PORT` values,
 * `127.0.0.1:<port>` and `localhost:<port>` of those ports, and paths under a container's mount
 * points (to host directories); the health check commands' addresses too. Nothing else changes.
 */
export class EcsTaskModel {
  readonly id: string;
  readonly arn: string;
  readonly definition: TaskDefinition;
  /** Container port → host port, for this task. */
  readonly ports: ReadonlyMap<number, number>;
  readonly dir: string;
  readonly createdAt = Date.now();
  status: TaskStatus = 'PENDING';
  stoppedReason: string | undefined;
  /** When every container had started (the task turned RUNNING). */
  runningAt: number | undefined;
  /** When ECS began to stop the task (desired status STOPPED, status STOPPING). */
  stoppingAt: number | undefined;
  /** When every container had stopped (the task turned STOPPED). */
  stoppedAt: number | undefined;
  /** Set when an essential container's health check turned UNHEALTHY (ECS's task health). */
  unhealthy = false;
  readonly #options: EcsTaskModelOptions;
  readonly #containers = new Map<string, Container>();
  readonly #volumes = new Map<string, string>();
  #stopping: Promise<void> | undefined;
  /** Container starts under way (laying out the image, up to its process started). */
  readonly #starting = new Set<Promise<void>>();
  /** An essential container exited: ECS stops the task after its reaction, for that reason. */
  #essentialExited = false;
  #metadata: Server | undefined;
  #metadataPort = 0;

  private constructor(options: EcsTaskModelOptions, dir: string, ports: Map<number, number>, id: string) {
    this.#options = options;
    this.definition = options.definition;
    this.dir = dir;
    this.ports = ports;
    this.id = id;
    this.arn = `arn:aws:ecs:us-east-1:123456789012:task/local/${id}`;
  }

  /**
   * Creates the task and starts it: containers without unmet dependencies at once, the others as
   * their dependencies are met. Resolves once the containers without dependencies have been
   * started (or the task has already stopped: see `stoppedReason`). The task is PENDING until
   * every container has started (Ghost waits for its sidecar to be HEALTHY), then RUNNING, as in ECS,
   * which registers a task with its load balancer only then.
   * `stoppedReason`).
   */
  static async start(options: EcsTaskModelOptions): Promise<EcsTaskModel> {
    const id = `${options.name ?? 'task'}-${randomBytes(4).toString('hex')}`;
    const dir = await mkdtemp(join(tmpdir(), `ghost-ha-task-${options.name ?? 'task'}-`));
    const ports = new Map<number, number>();
    for (const port of taskPorts(options.definition)) ports.set(port, await freePort());
    const task = new EcsTaskModel(options, dir, ports, id);
    await task.#run();
    return task;
  }

  /** The host port for a container port of this task. */
  hostPort(containerPort: number): number {
    const port = this.ports.get(containerPort);
    if (port === undefined) throw new Error(`The task maps no container port ${containerPort}`);
    return port;
  }

  /** `http://127.0.0.1:<host port>` for a container port of this task. */
  url(containerPort: number): string {
    return `http://127.0.0.1:${this.hostPort(containerPort)}`;
  }

  container(name: string): ContainerState {
    const container = this.#containers.get(name);
    if (!container) throw new Error(`The task has no container '${name}'`);
    return container;
  }

  get containers(): readonly ContainerState[] {
    return [...this.#containers.values()];
  }

  /** The container's process, for faults (SIGSTOP, SIGKILL, ...). */
  process(name: string): ManagedProcess | undefined {
    return this.#containers.get(name)?.process;
  }

  /** The last lines of a container's log. */
  tail(name: string, lines = 40): string {
    return this.#containers.get(name)?.process?.tail(lines) ?? '(not started)';
  }

  /** Runs a command in a container's environment (plus `env`), as `ecs execute-command` would. */
  async exec(
    name: string,
    command: string,
    args: readonly string[],
    env: Readonly<Record<string, string>> = {},
  ): Promise<{ stdout: string; stderr: string }> {
    const container = this.#containers.get(name);
    if (!container) throw new Error(`The task has no container '${name}'`);
    return run(command, [...args], { env: { ...this.#processEnv(container, {}), ...env }, timeout: 120_000 });
  }

  /**
   * Stops the task as ECS does (`StopTask`, a deployment, or an essential container that exited):
   * SIGTERM to each container after its dependents have stopped, SIGKILL after its stop timeout.
   */
  stop(reason = 'Task stopped by user'): Promise<void> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  /** Resolves once the task has stopped. */
  async stopped(): Promise<void> {
    await Promise.all([...this.#containers.values()].map((container) => container.stopped));
    await this.#stopping;
  }

  /** Stops the task if needed and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  async #run(): Promise<void> {
    for (const definition of this.definition.containers) {
      let markStopped: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => {
        markStopped = resolve;
      });
      this.#containers.set(definition.name, {
        name: definition.name,
        definition,
        status: 'PENDING',
        health: 'UNKNOWN',
        pid: undefined,
        exitCode: undefined,
        startedAt: undefined,
        stoppedAt: undefined,
        restarts: 0,
        environment: {},
        logFile: join(this.dir, `${definition.name}.log`),
        process: undefined,
        healthCheck: undefined,
        stopped,
        markStopped,
      });
    }
    try {
      await this.#prepareVolumes();
      await this.#startMetadataEndpoint();
      for (const container of this.#containers.values()) {
        container.environment = await this.#environmentOf(container.definition);
      }
    } catch (error) {
      await this.stop(`ResourceInitializationError: ${(error as Error).message}`);
      return;
    }
    this.#changed();
    for (const container of this.#containers.values()) void this.#startWhenReady(container);
  }

  async #prepareVolumes(): Promise<void> {
    for (const volume of this.definition.volumes) {
      const path = volume.efs
        ? join(this.#options.efsRoot, volume.efs.fileSystemId, volume.efs.accessPointId ?? 'root')
        : join(this.dir, 'volumes', volume.name);
      await mkdir(path, { recursive: true });
      this.#volumes.set(volume.name, path);
    }
  }

  /** Waits for the container's dependencies; starts it, or stops the task when one can no longer be met. */
  async #startWhenReady(container: Container): Promise<void> {
    for (;;) {
      if (this.#stopping) return;
      const verdict = this.#dependencies(container.definition);
      if (verdict === 'met') break;
      if (verdict !== 'waiting') {
        // After an essential container's exit, the task stops for that reason (ECS's reaction pending).
        if (!this.#essentialExited) void this.stop(`Container ${container.name} cannot start: ${verdict}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    try {
      await this.#startContainer(container);
    } catch (error) {
      container.status = 'STOPPED';
      container.stoppedAt = Date.now();
      container.markStopped();
      void this.stop(`CannotStartContainerError: ${container.name}: ${(error as Error).message}`);
    }
  }

  #dependencies(definition: ContainerDefinition): 'met' | 'waiting' | string {
    for (const { containerName, condition } of definition.dependsOn) {
      const dependency = this.#containers.get(containerName);
      if (!dependency) return `it depends on an unknown container '${containerName}'`;
      const exited = dependency.status === 'STOPPED';
      switch (condition) {
        case 'START':
          if (dependency.status === 'PENDING') return 'waiting';
          break;
        case 'COMPLETE':
          if (!exited) return 'waiting';
          break;
        case 'SUCCESS':
          if (!exited) return 'waiting';
          if (dependency.exitCode !== 0) return `${containerName} exited with ${dependency.exitCode}`;
          break;
        case 'HEALTHY':
          if (exited) return `${containerName} stopped before it was healthy`;
          if (dependency.health !== 'HEALTHY') return 'waiting';
          break;
        default:
          return `unknown dependency condition '${condition}'`;
      }
    }
    return 'met';
  }

  /**
   * Starts a container. A start under way is waited for by `#stop`: an image lays out files in the
   * container's root, and one finishing after `destroy` removed the task's directory would make it
   * again (and left it behind).
   */
  #startContainer(container: Container): Promise<void> {
    const starting = this.#launch(container);
    this.#starting.add(starting);
    const forget = () => void this.#starting.delete(starting);
    starting.then(forget, forget);
    return starting;
  }

  async #launch(container: Container): Promise<void> {
    const definition = container.definition;
    const image = (this.#options.images ?? localImages)(definition.image);
    if (!image) throw new Error(`no local image for '${definition.image}'`);
    const rootDir = join(this.dir, 'containers', definition.name);
    await mkdir(rootDir, { recursive: true });
    const launch: LocalLaunch = await image({
      rootDir,
      environment: container.environment,
      hostPort: (port) => this.hostPort(port),
      mountedAt: (path) => this.#mountedAt(definition, path),
    });
    if (this.#stopping) {
      container.status = 'STOPPED';
      container.markStopped();
      return;
    }
    const process = new ManagedProcess({
      name: `${this.id}/${definition.name}`,
      command: launch.command,
      args: launch.args,
      cwd: launch.cwd,
      env: this.#processEnv(container, launch.env),
      logFile: container.logFile,
    });
    process.start();
    container.process = process;
    container.pid = process.pid;
    container.status = 'RUNNING';
    container.startedAt = Date.now();
    if (this.status === 'PENDING' && [...this.#containers.values()].every((other) => other.startedAt !== undefined)) {
      this.status = 'RUNNING';
      this.runningAt = Date.now();
    }
    if (definition.healthCheck) {
      container.healthCheck = new ContainerHealthCheck({
        definition: {
          ...definition.healthCheck,
          command: definition.healthCheck.command.map((part) => this.#translate(part)),
        },
        env: this.#processEnv(container, launch.env),
        cwd: launch.cwd,
        onChange: (status) => {
          container.health = status;
          if (status === 'UNHEALTHY' && definition.essential) this.unhealthy = true;
          this.#changed();
        },
      });
    }
    this.#changed();
    void process.exited().then((code) => {
      container.healthCheck?.stop();
      container.status = 'STOPPED';
      container.exitCode = code;
      container.stoppedAt = Date.now();
      if (this.#restartable(container, code)) {
        // Restarted in place: the task, its other containers and its ARN stay.
        container.restarts++;
        this.#changed();
        void this.#startContainer(container).catch((error: unknown) => {
          container.markStopped();
          void this.stop(`CannotStartContainerError: ${container.name}: ${(error as Error).message}`);
        });
        return;
      }
      container.markStopped();
      this.#changed();
      if (definition.essential) {
        this.#essentialExited = true;
        // ECS notices the exit through its agent, then stops the rest of the task.
        const timer = setTimeout(() => void this.stop(ESSENTIAL_EXITED), this.#options.reactionMs ?? ECS_REACTION_MS);
        timer.unref();
      }
    });
  }

  /** ECS's restart policy: enabled, the task not stopping, an exit code not ignored, and run long enough. */
  #restartable(container: Container, code: number | null): boolean {
    const policy = container.definition.restartPolicy;
    if (!policy?.enabled || this.#stopping) return false;
    if (code !== null && policy.ignoredExitCodes.includes(code)) return false;
    return Date.now() - (container.startedAt ?? Date.now()) >= policy.restartAttemptPeriodSeconds * 1000;
  }

  #processEnv(container: Container, imageEnv: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
    const tmp = this.#mountedAt(container.definition, '/tmp');
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(tmp ? { TMPDIR: tmp } : {}),
      ...this.#options.environment,
      ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${this.#metadataPort}/v4/${this.id}/${container.name}`,
      ...imageEnv,
      ...container.environment,
    };
  }

  /** Environment and secrets of a container, translated to this host. */
  async #environmentOf(definition: ContainerDefinition): Promise<Record<string, string>> {
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(definition.environment)) {
      const port = /(^|_)PORT$/.test(name) ? this.ports.get(Number(value)) : undefined;
      environment[name] = port === undefined ? this.#translate(value, definition) : String(port);
    }
    for (const secret of definition.secrets) {
      environment[secret.name] = await this.#secretValue(secret.valueFrom);
    }
    return environment;
  }

  async #secretValue(valueFrom: string): Promise<string> {
    const client = this.#options.secrets;
    if (!client) throw new Error(`the task reads the secret ${valueFrom}, and the model has no Secrets Manager`);
    // arn:aws:secretsmanager:<region>:<account>:secret:<name>[:<json-key>:<version-stage>:<version-id>]
    const parts = valueFrom.split(':');
    const isArn = valueFrom.startsWith('arn:');
    if (isArn && parts[2] !== 'secretsmanager') throw new Error(`unsupported secret source ${valueFrom}`);
    const secretId = isArn ? (parts[6] ?? '') : valueFrom;
    const [jsonKey, versionStage, versionId] = isArn ? parts.slice(7) : [];
    let text: string | undefined;
    try {
      const answer = await client.send(
        new GetSecretValueCommand({
          SecretId: secretId,
          ...(versionStage ? { VersionStage: versionStage } : {}),
          ...(versionId ? { VersionId: versionId } : {}),
        }),
      );
      text = answer.SecretString;
    } catch (error) {
      throw new Error(`unable to retrieve secret ${secretId}: ${(error as Error).name}`, { cause: error });
    }
    if (text === undefined) throw new Error(`secret ${secretId} has no string value`);
    if (!jsonKey) return text;
    const value = (JSON.parse(text) as Record<string, unknown>)[jsonKey];
    if (typeof value !== 'string') throw new Error(`secret ${secretId} has no key '${jsonKey}'`);
    return value;
  }

  /**
   * Rewrites task-local addresses (`127.0.0.1:<port>`) to host ports, other tasks' private names
   * (`hosts`) to what stands for them, every interface (`0.0.0.0`, awsvpc: loopback and the task's
   * own network interface) to this host's loopback and, for a container, mount paths to host
   * directories.
   */
  #translate(value: string, definition?: ContainerDefinition): string {
    if (value === '0.0.0.0') return '127.0.0.1';
    let translated = value.replace(/\b(?:127\.0\.0\.1|localhost):(\d+)\b/g, (whole, port: string) => {
      const host = this.ports.get(Number(port));
      return host === undefined ? whole : `127.0.0.1:${host}`;
    });
    for (const [name, local] of Object.entries(this.#options.hosts ?? {})) {
      translated = translated.split(name).join(local);
    }
    if (definition) {
      // The longest mount path that contains the value; translated once (a host path may itself
      // start with another mount's container path, such as /tmp).
      const mount = [...definition.mountPoints]
        .sort((a, b) => b.containerPath.length - a.containerPath.length)
        .find((point) => value === point.containerPath || value.startsWith(`${point.containerPath}/`));
      const hostPath = mount && this.#volumes.get(mount.sourceVolume);
      if (mount && hostPath) translated = hostPath + value.slice(mount.containerPath.length);
    }
    return translated;
  }

  #mountedAt(definition: ContainerDefinition, containerPath: string): string | undefined {
    const mount = definition.mountPoints.find((point) => point.containerPath === containerPath);
    return mount ? this.#volumes.get(mount.sourceVolume) : undefined;
  }

  async #stop(reason: string): Promise<void> {
    if (this.status === 'STOPPED') return;
    this.stoppedReason = reason;
    this.status = 'STOPPING';
    this.stoppingAt = Date.now();
    this.#changed();
    // A start under way ends first: it then sees the task stopping and runs nothing, or its process
    // is stopped below like the others.
    await Promise.allSettled([...this.#starting]);
    const dependents = (name: string) =>
      [...this.#containers.values()].filter((other) =>
        other.definition.dependsOn.some((dependency) => dependency.containerName === name),
      );
    await Promise.all(
      [...this.#containers.values()].map(async (container) => {
        await Promise.all(dependents(container.name).map((dependent) => dependent.stopped));
        if (container.process?.isRunning) {
          await container.process.stop(container.definition.stopTimeoutSeconds * 1000);
        } else {
          // Not running: never started, exited, or between a restart's exit and start.
          container.status = 'STOPPED';
          container.markStopped();
        }
        await container.stopped;
      }),
    );
    await new Promise<void>((resolve) => (this.#metadata ? this.#metadata.close(() => resolve()) : resolve()));
    this.status = 'STOPPED';
    this.stoppedAt = Date.now();
    this.#changed();
  }

  /** The task metadata endpoint (v4) each container finds at ECS_CONTAINER_METADATA_URI_V4. */
  async #startMetadataEndpoint(): Promise<void> {
    const server = createServer((request, response) => {
      const [, version, taskId, name, sub] = (request.url ?? '').split('/');
      const container = name ? this.#containers.get(name) : undefined;
      if (version !== 'v4' || taskId !== this.id || !container) {
        response.writeHead(404).end();
        return;
      }
      const body = sub === 'task' ? this.#taskMetadata() : containerMetadata(container);
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#metadata = server;
    this.#metadataPort = (server.address() as AddressInfo).port;
  }

  #taskMetadata(): Record<string, unknown> {
    return {
      Cluster: MODEL_CLUSTER_ARN,
      TaskARN: this.arn,
      Family: this.definition.family,
      Revision: '1',
      DesiredStatus: this.#stopping ? 'STOPPED' : 'RUNNING',
      KnownStatus: this.status,
      LaunchType: 'FARGATE',
      PullStartedAt: new Date(this.createdAt).toISOString(),
      Containers: [...this.#containers.values()].map(containerMetadata),
    };
  }

  #changed(): void {
    this.#options.onChange?.(this);
  }
}

function containerMetadata(container: ContainerState): Record<string, unknown> {
  return {
    Name: container.name,
    DockerId: `${container.name}-${container.pid ?? 0}`,
    Image: container.definition.image,
    DesiredStatus: 'RUNNING',
    KnownStatus: container.status,
    Health: { status: container.health },
    ExitCode: container.exitCode ?? undefined,
  };
}

/**
 * Container ports the task listens on: the declared mappings, and the value of any variable named
 * `…PORT` (a container may listen on a port it does not map: awsvpc reaches it on 127.0.0.1 all the
 * same). Other loopback addresses in the environment (a site URL on this host) are left alone.
 */
function taskPorts(definition: TaskDefinition): Set<number> {
  const ports = new Set<number>();
  for (const container of definition.containers) {
    for (const port of container.portMappings) ports.add(port);
    for (const [name, value] of Object.entries(container.environment)) {
      if (/(^|_)PORT$/.test(name) && /^\d+$/.test(value) && Number(value) > 0) ports.add(Number(value));
    }
  }
  return ports;
}
