import type { DistributionConfig } from '@aws-sdk/client-cloudfront';

/**
 * The distribution config with `activeOriginId` first in every origin group that holds both
 * origins, and every behavior that targeted `standbyOriginId` alone now targeting `activeOriginId`
 * (write paths follow the active region). Returns the input unchanged when it already is so.
 */
export function activateOrigin(
  config: DistributionConfig,
  activeOriginId: string,
  standbyOriginId: string,
): DistributionConfig {
  const groups = (config.OriginGroups?.Items ?? []).map((group) => {
    const members = group.Members?.Items ?? [];
    const ids = members.map((m) => m.OriginId);
    if (!ids.includes(activeOriginId) || !ids.includes(standbyOriginId)) return group;
    const reordered = [...members].sort((a, b) => rank(a.OriginId) - rank(b.OriginId));
    return { ...group, Members: { Quantity: reordered.length, Items: reordered } };
  });
  function rank(id: string | undefined): number {
    return id === activeOriginId ? 0 : id === standbyOriginId ? 1 : 2;
  }
  const retarget = <T extends { TargetOriginId: string | undefined }>(behavior: T): T =>
    behavior.TargetOriginId === standbyOriginId ? { ...behavior, TargetOriginId: activeOriginId } : behavior;
  return {
    ...config,
    ...(config.OriginGroups ? { OriginGroups: { Quantity: groups.length, Items: groups } } : {}),
    ...(config.DefaultCacheBehavior ? { DefaultCacheBehavior: retarget(config.DefaultCacheBehavior) } : {}),
    ...(config.CacheBehaviors
      ? {
          CacheBehaviors: {
            Quantity: config.CacheBehaviors.Quantity,
            Items: (config.CacheBehaviors.Items ?? []).map(retarget),
          },
        }
      : {}),
  } as DistributionConfig;
}

/** Whether the config already routes as `activateOrigin` would make it. */
export function isOriginActive(config: DistributionConfig, activeOriginId: string, standbyOriginId: string): boolean {
  return JSON.stringify(activateOrigin(config, activeOriginId, standbyOriginId)) === JSON.stringify(config);
}
