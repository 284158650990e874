import type { Deployment, RegionSite } from './Deployment.js';
import type { SwitchPlan } from './SwitchStep.js';
import { repairReplication } from './steps/repairReplication.js';
import { replicateContent } from './steps/replicateContent.js';
import { reprotectPreflight } from './steps/reprotectPreflight.js';
import { salvageContent } from './steps/salvageContent.js';

/**
 * Re-establishes the content's replica without moving Ghost: after a disaster switch, or whenever
 * the standby's replication is missing. The active region is read from the global database's
 * writer, not given. Aurora rebuilds its secondary by itself once the region answers.
 */
export function planReprotect(
  deployment: Deployment,
  active: RegionSite,
  standby: RegionSite,
  salvaged: boolean,
): SwitchPlan {
  return {
    title: `Reprotect: replicate ${active.region}'s content to ${standby.region}; Ghost stays in ${active.region}`,
    direction: active === deployment.primary ? 'failback' : 'failover',
    mode: 'planned',
    from: standby,
    to: active,
    steps: [
      reprotectPreflight(deployment, active, standby),
      salvageContent(deployment, standby, active, salvaged),
      repairReplication(active, standby),
      replicateContent(active, standby, 'restore-pilot-light', false),
    ],
  };
}

/** The site whose cluster is the global writer, and the other one. */
export function activeAndStandby(
  deployment: Deployment,
  writer: string | undefined,
): { active: RegionSite; standby: RegionSite } {
  if (writer === deployment.primary.clusterArn) return { active: deployment.primary, standby: deployment.secondary };
  if (writer === deployment.secondary.clusterArn) return { active: deployment.secondary, standby: deployment.primary };
  throw new Error(`The global database's writer ${writer ?? '(none)'} is neither region's cluster`);
}
