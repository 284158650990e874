import { loadTemplate, type Template } from '@ghost-ha/infra/parseTemplate';
import { type ParameterValues, resolveConditions } from '@ghost-ha/infra/resolveConditions';
import { templateEvaluator } from './templateEvaluator.js';

// biome-ignore lint/suspicious/noExplicitAny: template JSON after evaluation; each field is converted below.
type Json = any;

export type DependencyCondition = 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY';

export interface HealthCheckDefinition {
  /** `['CMD', exe, ...args]` or `['CMD-SHELL', 'shell command']`, as ECS takes it. */
  command: readonly string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface SecretReference {
  name: string;
  /** A Secrets Manager ARN, optionally with `:json-key:version-stage:version-id`, or a secret name. */
  valueFrom: string;
}

export interface MountPoint {
  sourceVolume: string;
  containerPath: string;
  readOnly: boolean;
}

export interface VolumeDefinition {
  name: string;
  /** An EFS file system (the same files for every task) or, when undefined, storage of the task's own. */
  efs: { fileSystemId: string; accessPointId: string | undefined } | undefined;
}

export interface ContainerDefinition {
  name: string;
  image: string;
  essential: boolean;
  dependsOn: readonly { containerName: string; condition: DependencyCondition }[];
  /** Container ports the definition declares (awsvpc: the task's own address). */
  portMappings: readonly number[];
  environment: Readonly<Record<string, string>>;
  secrets: readonly SecretReference[];
  mountPoints: readonly MountPoint[];
  healthCheck: HealthCheckDefinition | undefined;
  /** Seconds between SIGTERM and SIGKILL when the task stops; ECS's default is 30. */
  stopTimeoutSeconds: number;
  restartPolicy: RestartPolicy | undefined;
}

/**
 * ECS restarts the container in place when it exits, unless with one of `ignoredExitCodes`, or
 * before it ran `restartAttemptPeriodSeconds` (60-1800, default 300) since its last start.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-restart-policy.html
 */
export interface RestartPolicy {
  enabled: boolean;
  ignoredExitCodes: readonly number[];
  restartAttemptPeriodSeconds: number;
}

/** An ECS task definition as the template defines it, every intrinsic function resolved. */
export interface TaskDefinition {
  family: string;
  networkMode: string;
  /** `task`: the containers share one process namespace; undefined: each has its own. */
  pidMode: string | undefined;
  volumes: readonly VolumeDefinition[];
  containers: readonly ContainerDefinition[];
}

export interface TaskDefinitionSource {
  /** The parsed template; default `infra/cloudformation/app.yaml`. */
  template?: Template;
  /** Logical id of the task definition resource; default `TaskDefinition`. */
  resource?: string;
  /** Template parameters (the defaults fill the rest). */
  parameters: ParameterValues;
  /** Values of `Fn::ImportValue`, by export name (e.g. `ghost-ha-data-ClusterEndpoint`). */
  imports?: Readonly<Record<string, string>>;
  region?: string;
  accountId?: string;
  stackName?: string;
}

/** ECS's default stop timeout (seconds) when a container sets none. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

// Docker's defaults, which ECS uses for a health check field left out.
const HEALTH_CHECK_DEFAULTS = { Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 0 };

/**
 * Reads the task definition out of the app template: conditions resolved for the given parameters,
 * `Ref`, `Fn::Sub`, `Fn::ImportValue`, `Fn::Join`, `Fn::Select`, `Fn::Split` and `Fn::GetAtt`
 * evaluated. An unknown import or a parameter without value and default is an error, so a template
 * that cannot be deployed cannot be modelled either.
 */
export function loadTaskDefinition(source: TaskDefinitionSource): TaskDefinition {
  const template = source.template ?? loadTemplate('app');
  const resolved = resolveConditions(template, source.parameters);
  const logicalId = source.resource ?? 'TaskDefinition';
  const resource = resolved.Resources[logicalId];
  if (resource?.Type !== 'AWS::ECS::TaskDefinition') {
    throw new Error(`The template has no AWS::ECS::TaskDefinition named '${logicalId}'`);
  }
  const evaluate = templateEvaluator({
    template,
    resolved,
    parameters: source.parameters,
    imports: source.imports,
    region: source.region,
    accountId: source.accountId,
    stackName: source.stackName,
    reader: 'The task model',
  });
  const properties = evaluate(resource.Properties ?? {}) as Record<string, Json>;
  return {
    family: String(properties.Family ?? logicalId),
    networkMode: String(properties.NetworkMode ?? 'bridge'),
    pidMode: properties.PidMode === undefined ? undefined : String(properties.PidMode),
    volumes: (properties.Volumes ?? []).map(toVolume),
    containers: (properties.ContainerDefinitions ?? []).map(toContainer),
  };
}

function toVolume(volume: Json): VolumeDefinition {
  const efs = volume.EFSVolumeConfiguration;
  return {
    name: String(volume.Name),
    efs: efs
      ? { fileSystemId: String(efs.FilesystemId), accessPointId: efs.AuthorizationConfig?.AccessPointId }
      : undefined,
  };
}

function toContainer(container: Json): ContainerDefinition {
  const check = container.HealthCheck;
  return {
    name: String(container.Name),
    image: String(container.Image),
    essential: container.Essential !== false,
    dependsOn: (container.DependsOn ?? []).map((dependency: Json) => ({
      containerName: String(dependency.ContainerName),
      condition: String(dependency.Condition) as DependencyCondition,
    })),
    portMappings: (container.PortMappings ?? []).map((mapping: Json) => Number(mapping.ContainerPort)),
    environment: Object.fromEntries(
      (container.Environment ?? []).map((variable: Json) => [String(variable.Name), String(variable.Value)]),
    ),
    secrets: (container.Secrets ?? []).map((secret: Json) => ({
      name: String(secret.Name),
      valueFrom: String(secret.ValueFrom),
    })),
    mountPoints: (container.MountPoints ?? []).map((mount: Json) => ({
      sourceVolume: String(mount.SourceVolume),
      containerPath: String(mount.ContainerPath),
      readOnly: mount.ReadOnly === true,
    })),
    healthCheck: check
      ? {
          command: (check.Command as unknown[]).map(String),
          intervalSeconds: Number(check.Interval ?? HEALTH_CHECK_DEFAULTS.Interval),
          timeoutSeconds: Number(check.Timeout ?? HEALTH_CHECK_DEFAULTS.Timeout),
          retries: Number(check.Retries ?? HEALTH_CHECK_DEFAULTS.Retries),
          startPeriodSeconds: Number(check.StartPeriod ?? HEALTH_CHECK_DEFAULTS.StartPeriod),
        }
      : undefined,
    stopTimeoutSeconds: Number(container.StopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS),
    restartPolicy: container.RestartPolicy ? restartPolicyOf(container.Name, container.RestartPolicy) : undefined,
  };
}

function restartPolicyOf(name: unknown, policy: Record<string, unknown>): RestartPolicy {
  const period = Number(policy.RestartAttemptPeriod ?? 300);
  // ECS refuses a period outside 60-1800 s when the task definition is registered.
  if (!Number.isInteger(period) || period < 60 || period > 1800)
    throw new Error(`container ${String(name)}: RestartAttemptPeriod must be 60-1800 seconds (got ${period})`);
  const codes = Array.isArray(policy.IgnoredExitCodes) ? policy.IgnoredExitCodes.map(Number) : [];
  return { enabled: policy.Enabled === true, ignoredExitCodes: codes, restartAttemptPeriodSeconds: period };
}
