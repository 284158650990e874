import { loadTemplate, type Template } from '@ghost-ha/infra/parseTemplate';
import { type ParameterValues, resolveConditions } from '@ghost-ha/infra/resolveConditions';
import { templateEvaluator } from './templateEvaluator.js';

/** A private DNS name the template gives an ECS service (Cloud Map service discovery). */
export interface DiscoveryName {
  /** `<service name>.<namespace name>`, e.g. `ghost.ghost-ha.internal`. */
  hostname: string;
  /** Logical id of the ECS service registered under it. */
  service: string;
  /** Logical id of that service's task definition. */
  taskDefinition: string;
}

/**
 * Reads the ECS services' `ServiceRegistries` out of the app template (conditions resolved for the
 * parameters): each names a Cloud Map service, whose name and namespace make the host name.
 */
export function loadDiscoveryNames(
  options: { template?: Template; parameters: ParameterValues } = { parameters: {} },
): DiscoveryName[] {
  const template = options.template ?? loadTemplate('app');
  const resolved = resolveConditions(template, options.parameters);
  const evaluate = templateEvaluator({ template, resolved, parameters: options.parameters, reader: 'The test bed' });
  const attributeOf = (value: unknown, attribute: string): string => {
    const [id, name] = ((value ?? {}) as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'] ?? [];
    if (!id || name !== attribute)
      throw new Error(`expected Fn::GetAtt [<resource>, ${attribute}], got ${JSON.stringify(value)}`);
    return id;
  };
  return Object.entries(resolved.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::ECS::Service')
    .flatMap(([service, resource]) =>
      ((resource.Properties?.ServiceRegistries ?? []) as { RegistryArn: unknown }[]).map((registry) => {
        const discovery = resolved.Resources[attributeOf(registry.RegistryArn, 'Arn')]?.Properties ?? {};
        const namespace = resolved.Resources[attributeOf(discovery.NamespaceId, 'Id')]?.Properties ?? {};
        const taskDefinition = (resource.Properties?.TaskDefinition as { Ref?: string } | undefined)?.Ref;
        if (!taskDefinition) throw new Error(`${service} names no task definition of the template`);
        return {
          hostname: `${String(evaluate(discovery.Name))}.${String(evaluate(namespace.Name))}`,
          service,
          taskDefinition,
        };
      }),
    );
}
