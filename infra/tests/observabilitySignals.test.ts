import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTENT_SIGNALS, RunMetrics } from '@ghost-ha/content';
import { createRegistry, type EmfMetricIdentity, EmfPublisher } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../services/cache-invalidator/src/createMetrics.js';
import { createMirrorMetrics } from '../../services/cache-invalidator/src/mirror/createMirrorMetrics.js';
import { INVALIDATOR_SIGNALS } from '../../services/cache-invalidator/src/signals.js';
import { SidecarMetrics } from '../../services/health-sidecar/src/SidecarMetrics.js';
import { SIDECAR_SIGNALS } from '../../services/health-sidecar/src/signals.js';
import { loadTemplate, type Template } from '../src/parseTemplate.js';

/**
 * The signals contract: every alarm, metric filter and dashboard widget in observability.yaml that
 * reads a metric of this project's namespaces names a metric, dimension set and dimension values
 * that the code publishes. An alarm on a metric nobody emits can never fire.
 */

const PROJECT = 'ghost-ha';
/** CloudFormation's `Fn::Sub` reference to the ProjectName parameter, as the template writes it. */
const PROJECT_NAME_REFERENCE = /\$\{ProjectName\}/g;
const REPO = join(import.meta.dirname, '..', '..');

interface MetricReference {
  where: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

/** What the services publish: their real metric classes, each series touched once, through the real EMF bridge. */
async function publishedMetrics(): Promise<EmfMetricIdentity[]> {
  const sidecarRegistry = createRegistry({ service: 'health-sidecar' });
  const sidecar = new SidecarMetrics(sidecarRegistry);
  sidecar.health.setVerdict('fail');
  sidecar.health.recordCheck('ghost:responseTime', 'fail', 0.1);
  sidecar.setLockHeld(true);
  sidecar.recordGateRequest(503, 0.01);
  const invalidatorRegistry = createRegistry({ service: 'cache-invalidator' });
  const invalidator = createMetrics(invalidatorRegistry, () => undefined, Date.now);
  invalidator.webhooks.inc({ event: 'post.published', result: 'accepted' });
  invalidator.pathsPlanned.inc();
  invalidator.invalidations.inc({ distribution: 'E1', result: 'sent' });
  invalidator.invalidatedPaths.inc({ distribution: 'E1' });
  invalidator.latency.observe({ distribution: 'E1' }, 1);
  const mirror = createMirrorMetrics(
    invalidatorRegistry,
    () => ({ depth: 1, oldestPendingAt: () => Date.now(), parkedPaths: () => [] }),
    Date.now,
  );
  mirror.paths.inc({ result: 'written' });
  const published: EmfMetricIdentity[] = [];
  for (const [registry, signals] of [
    [sidecarRegistry, SIDECAR_SIGNALS],
    [invalidatorRegistry, INVALIDATOR_SIGNALS],
  ] as const) {
    const publisher = new EmfPublisher({
      registry,
      namespace: `${PROJECT}/${signals.namespaceSuffix}`,
      prefixes: signals.prefixes,
      rollups: signals.rollups,
      dropLabels: signals.dropLabels,
      write: () => undefined,
    });
    published.push(...(await publisher.publish()));
  }
  // The content functions publish through their own RunMetrics: read back what it writes.
  const lines: string[] = [];
  const content = new RunMetrics({
    functionName: 'delete-all-posts',
    namespace: `${PROJECT}/${CONTENT_SIGNALS.namespaceSuffix}`,
    write: (line) => lines.push(line),
  });
  await content.record('completed', 1, { deleted: 1, backed_up: 1 });
  for (const line of lines) {
    const { _aws } = JSON.parse(line) as {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    for (const directive of _aws.CloudWatchMetrics) {
      for (const metric of directive.Metrics) {
        for (const dimensions of directive.Dimensions) {
          published.push({ namespace: directive.Namespace, name: metric.Name, dimensions: [...dimensions].sort() });
        }
      }
    }
  }
  return published;
}

/** String literals in a service's sources: the dimension values its code can produce. */
function literalsIn(...dirs: string[]): Set<string> {
  const literals = new Set<string>();
  for (const relative of dirs) {
    const dir = join(REPO, relative);
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      for (const match of readFileSync(join(dir, file), 'utf8').matchAll(/'([^'\n]+)'/g)) literals.add(match[1] ?? '');
    }
  }
  return literals;
}

function substituteProject(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value : (value as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'];
  return typeof text === 'string' ? text.replaceAll(PROJECT_NAME_REFERENCE, PROJECT) : undefined;
}

function dimensionsOf(list: unknown): Record<string, string> {
  const dimensions: Record<string, string> = {};
  for (const each of (list as { Name: string; Value: unknown }[] | undefined) ?? []) {
    dimensions[each.Name] = typeof each.Value === 'string' ? each.Value : '<resolved at deploy>';
  }
  return dimensions;
}

/** Every metric the template reads: alarms (plain and metric math), metric filters and dashboard rows. */
function referencedMetrics(template: Template): MetricReference[] {
  const references: MetricReference[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const namespace = substituteProject(props.Namespace);
      if (namespace !== undefined) {
        references.push({ where: id, namespace, name: props.MetricName, dimensions: dimensionsOf(props.Dimensions) });
      }
      for (const query of (props.Metrics as { Id: string; MetricStat?: { Metric: Record<string, unknown> } }[]) ?? []) {
        const metric = query.MetricStat?.Metric;
        if (!metric) continue;
        references.push({
          where: `${id}.${query.Id}`,
          namespace: substituteProject(metric.Namespace) ?? '',
          name: String(metric.MetricName),
          dimensions: dimensionsOf(metric.Dimensions),
        });
      }
    }
    if (resource.Type === 'AWS::Logs::MetricFilter') {
      for (const transformation of props.MetricTransformations as Record<string, unknown>[]) {
        references.push({
          where: id,
          namespace: substituteProject(transformation.MetricNamespace) ?? '',
          name: String(transformation.MetricName),
          dimensions: {},
        });
      }
    }
    if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      const [body] = props.DashboardBody['Fn::Sub'] as [string, unknown];
      const json = body.replaceAll(PROJECT_NAME_REFERENCE, PROJECT).replace(/\$\{[^}]+\}/g, 'resolved-at-deploy');
      const widgets = (JSON.parse(json) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] })
        .widgets;
      for (const widget of widgets) {
        let previous: string[] = [];
        for (const row of widget.properties.metrics ?? []) {
          const parts = row.filter((part): part is string => typeof part === 'string');
          // CloudWatch's shorthand: "." repeats the previous row's part at the same place; "..."
          // repeats every leading part of the previous row that this row does not spell out.
          const expanded =
            parts[0] === '...'
              ? [...previous.slice(0, previous.length - (parts.length - 1)), ...parts.slice(1)]
              : parts.map((part, i) => (part === '.' ? (previous[i] ?? '') : part));
          previous = expanded;
          const [namespace = '', name = '', ...rest] = expanded;
          const dimensions: Record<string, string> = {};
          for (let i = 0; i + 1 < rest.length; i += 2) dimensions[rest[i] ?? ''] = rest[i + 1] ?? '';
          references.push({ where: `dashboard "${widget.properties.title}"`, namespace, name, dimensions });
        }
      }
    }
  }
  return references.filter((ref) => ref.namespace.startsWith(`${PROJECT}/`));
}

describe('observability signals contract', () => {
  it('every alarm, filter and widget reads a metric the code publishes, under dimensions and values it produces', async () => {
    const published = await publishedMetrics();
    const literals: Record<string, Set<string>> = {
      [`${PROJECT}/${SIDECAR_SIGNALS.namespaceSuffix}`]: literalsIn('services/health-sidecar/src'),
      [`${PROJECT}/${INVALIDATOR_SIGNALS.namespaceSuffix}`]: literalsIn('services/cache-invalidator/src'),
      [`${PROJECT}/${CONTENT_SIGNALS.namespaceSuffix}`]: literalsIn(
        'packages/content/src',
        'functions/delete-all-posts/src',
        'functions/restore-posts/src',
      ),
    };
    const references = referencedMetrics(loadTemplate('observability'));
    expect(references.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const ref of references) {
      const keys = Object.keys(ref.dimensions).sort();
      const match = published.find(
        (p) => p.namespace === ref.namespace && p.name === ref.name && p.dimensions.join(',') === keys.join(','),
      );
      if (!match) {
        problems.push(`${ref.where}: ${ref.namespace} ${ref.name} [${keys.join(', ')}] is published by no code`);
        continue;
      }
      for (const [name, value] of Object.entries(ref.dimensions)) {
        // Status codes are numbers in the code; every other value must be a literal it can emit.
        const known = /^\d{3}$/.test(value) || (literals[ref.namespace]?.has(value) ?? false);
        if (!known) problems.push(`${ref.where}: ${ref.name} ${name}=${value} is a value no code produces`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the task definition tells each service the namespace the alarms read', () => {
    const app = loadTemplate('app');
    const taskDefinitions = Object.values(app.Resources).filter((r) => r.Type === 'AWS::ECS::TaskDefinition');
    type Container = { Name: string; Environment?: { Name: string; Value: unknown }[] };
    // An optional container is written `Fn::If: [condition, definition, AWS::NoValue]`.
    const containers = taskDefinitions
      .flatMap((taskDefinition) => (taskDefinition.Properties?.ContainerDefinitions ?? []) as unknown[])
      .map((entry) => ((entry as { 'Fn::If'?: unknown[] })['Fn::If']?.[1] ?? entry) as Container);
    const namespaceOf = (container: string) =>
      substituteProject(
        containers.find((c) => c.Name === container)?.Environment?.find((e) => e.Name === 'METRICS_NAMESPACE')?.Value,
      );
    expect(namespaceOf('health-sidecar')).toBe(`${PROJECT}/${SIDECAR_SIGNALS.namespaceSuffix}`);
    expect(namespaceOf('cache-invalidator')).toBe(`${PROJECT}/${INVALIDATOR_SIGNALS.namespaceSuffix}`);
    const functions = Object.values(loadTemplate('functions').Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBe(2);
    for (const fn of functions) {
      expect(substituteProject(fn.Properties?.Environment?.Variables?.METRICS_NAMESPACE)).toBe(
        `${PROJECT}/${CONTENT_SIGNALS.namespaceSuffix}`,
      );
    }
  });
});
