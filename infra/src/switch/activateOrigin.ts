import type { CacheBehavior, DefaultCacheBehavior, DistributionConfig, OriginGroup } from '@aws-sdk/client-cloudfront';

/** Origin ids of the regions' ALBs (edge stack: `alb-<region>`); a static mirror's id starts with `mirror-`. */
const ALB_PREFIX = 'alb-';

/**
 * The distribution config routed to `activeOriginId`:
 * - an origin group that holds both ALBs lists the active one first;
 * - an origin group that holds one ALB (beside a static `mirror-` origin) holds the active ALB in
 *   its place; the mirror keeps its place;
 * - every behavior that targeted `standbyOriginId` alone targets `activeOriginId` (write paths
 *   follow the active region).
 * Returns an equal config when it already is so.
 */
export function activateOrigin(
  config: DistributionConfig,
  activeOriginId: string,
  standbyOriginId: string,
): DistributionConfig {
  const rank = (id: string | undefined) => (id === activeOriginId ? 0 : id === standbyOriginId ? 1 : 2);
  const route = (group: OriginGroup): OriginGroup => {
    const members = group.Members?.Items ?? [];
    const ids = members.map((m) => m.OriginId);
    const routed =
      ids.includes(activeOriginId) && ids.includes(standbyOriginId)
        ? [...members].sort((a, b) => rank(a.OriginId) - rank(b.OriginId))
        : members.map((m) => (m.OriginId?.startsWith(ALB_PREFIX) ? { ...m, OriginId: activeOriginId } : m));
    return { ...group, Members: { Quantity: routed.length, Items: routed } };
  };
  const retarget = <T extends CacheBehavior | DefaultCacheBehavior>(behavior: T): T =>
    behavior.TargetOriginId === standbyOriginId ? { ...behavior, TargetOriginId: activeOriginId } : behavior;
  const routed: DistributionConfig = { ...config };
  if (config.OriginGroups) {
    const groups = (config.OriginGroups.Items ?? []).map(route);
    routed.OriginGroups = { Quantity: groups.length, Items: groups };
  }
  if (config.DefaultCacheBehavior) routed.DefaultCacheBehavior = retarget(config.DefaultCacheBehavior);
  if (config.CacheBehaviors) {
    routed.CacheBehaviors = {
      Quantity: config.CacheBehaviors.Quantity,
      Items: (config.CacheBehaviors.Items ?? []).map(retarget),
    };
  }
  return routed;
}

/** Whether the config already routes as `activateOrigin` would make it. */
export function isOriginActive(config: DistributionConfig, activeOriginId: string, standbyOriginId: string): boolean {
  return JSON.stringify(activateOrigin(config, activeOriginId, standbyOriginId)) === JSON.stringify(config);
}
