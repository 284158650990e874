import { loadTemplate, type Template } from '@ghost-ha/infra/parseTemplate';
import { type ParameterValues, resolveConditions } from '@ghost-ha/infra/resolveConditions';

export interface TargetHealthCheck {
  /** A container port of the task (the target's address is the task's own, awsvpc). */
  port: number;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Status codes that pass, e.g. `200` or `200-399`. */
  matcher: string;
}

/** What the ECS service in the template says about its tasks' lifecycle. */
export interface ServiceDefinition {
  /** ECS ignores failing container and load balancer health checks this long after a task starts. */
  healthCheckGracePeriodSeconds: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  /** The load balancer's target (container and port) and its target group's health check. */
  loadBalancer: { containerName: string; containerPort: number; healthCheck: TargetHealthCheck } | undefined;
}

// The target group's defaults for an HTTP target (Elastic Load Balancing).
const TARGET_DEFAULTS = { interval: 30, timeout: 5, healthy: 5, unhealthy: 2, path: '/', matcher: '200' };

/** Reads the service (and the target group it registers with) out of the app template. */
export function loadServiceDefinition(
  options: { template?: Template; parameters?: ParameterValues; resource?: string } = {},
): ServiceDefinition {
  const template = resolveConditions(options.template ?? loadTemplate('app'), options.parameters ?? {});
  const service = template.Resources[options.resource ?? 'Service'];
  if (service?.Type !== 'AWS::ECS::Service') throw new Error('The template has no AWS::ECS::Service');
  const properties = service.Properties ?? {};
  const deployment = properties.DeploymentConfiguration ?? {};
  const entry = properties.LoadBalancers?.[0];
  const targetGroupId = entry?.TargetGroupArn?.Ref;
  const targetGroup = targetGroupId ? template.Resources[String(targetGroupId)]?.Properties : undefined;
  const containerPort = Number(entry?.ContainerPort);
  return {
    healthCheckGracePeriodSeconds: Number(properties.HealthCheckGracePeriodSeconds ?? 0),
    minimumHealthyPercent: Number(deployment.MinimumHealthyPercent ?? 100),
    maximumPercent: Number(deployment.MaximumPercent ?? 200),
    loadBalancer:
      entry && targetGroup
        ? {
            containerName: String(entry.ContainerName),
            containerPort,
            healthCheck: {
              port:
                targetGroup.HealthCheckPort === undefined || targetGroup.HealthCheckPort === 'traffic-port'
                  ? containerPort
                  : Number(targetGroup.HealthCheckPort),
              path: String(targetGroup.HealthCheckPath ?? TARGET_DEFAULTS.path),
              intervalSeconds: Number(targetGroup.HealthCheckIntervalSeconds ?? TARGET_DEFAULTS.interval),
              timeoutSeconds: Number(targetGroup.HealthCheckTimeoutSeconds ?? TARGET_DEFAULTS.timeout),
              healthyThreshold: Number(targetGroup.HealthyThresholdCount ?? TARGET_DEFAULTS.healthy),
              unhealthyThreshold: Number(targetGroup.UnhealthyThresholdCount ?? TARGET_DEFAULTS.unhealthy),
              matcher: String(targetGroup.Matcher?.HttpCode ?? TARGET_DEFAULTS.matcher),
            },
          }
        : undefined,
  };
}

/** Whether a status code matches a target group matcher such as `200`, `200,302` or `200-399`. */
export function matchesStatus(matcher: string, status: number): boolean {
  return matcher.split(',').some((part) => {
    const [low, high] = part.split('-').map(Number);
    return high === undefined ? status === low : status >= (low ?? 0) && status <= high;
  });
}
