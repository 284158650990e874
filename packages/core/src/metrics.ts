import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry } from 'prom-client';

/**
 * A fresh registry for one app instance, with Node's default process metrics. Never the global
 * registry: two apps in one process (as in tests) must not share or clash over metrics.
 */
export function createRegistry(defaultLabels?: Record<string, string>): Registry {
  const registry = new Registry();
  if (defaultLabels) registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
