import type { PlannedCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { describeGlobalCall, readGlobalCluster } from '../reads/readGlobalCluster.js';
import { describeServiceCall, readService } from '../reads/readService.js';
import type { SwitchStep } from '../SwitchStep.js';

/**
 * Before re-protecting: Ghost runs where the global database writes and the standby runs no Ghost
 * (the salvage step then keeps what exists only in the standby's file system).
 */
export function reprotectPreflight(deployment: Deployment, active: RegionSite, standby: RegionSite): SwitchStep {
  const calls: PlannedCall[] = [
    describeGlobalCall(deployment, active.region),
    describeServiceCall(active),
    describeServiceCall(standby),
  ];
  return {
    id: 'preflight',
    title: `Check that Ghost runs in ${active.region} and ${standby.region} can become its replica (read only)`,
    why: 'Re-protecting overwrites the standby file system and must not start a second writer.',
    calls,
    verify: `${active.clusterArn} is the global writer; ${active.region}'s service runs, ${standby.region}'s is at 0.`,
    ifFailed: 'Nothing was changed. Do what the message says, then run again.',
    expected: { seconds: 10, basis: 'read-only API calls' },
    async run(context) {
      const global = await readGlobalCluster(context, deployment, active.region);
      if (global.writer !== active.clusterArn) {
        throw new Error(`The global database's writer is ${global.writer ?? 'none'}, not ${active.clusterArn}`);
      }
      const here = await readService(context, active);
      if (here.desired < 1) throw new Error(`Ghost is not running in ${active.region} (desired ${here.desired})`);
      const there = await readService(context, standby);
      if (there.desired !== 0 || there.running !== 0) {
        throw new Error(
          `${standby.region}'s service wants ${there.desired} and runs ${there.running} Ghost: fence it first (run the disaster failover or failback towards ${active.region} again).`,
        );
      }
      const sync = global.synchronization.get(standby.clusterArn) ?? 'not reported';
      if (!global.members.includes(standby.clusterArn)) {
        context.progress(
          `${standby.clusterArn} is not a member of the global database: re-create it with its data stack`,
        );
      }
      return `writer ${active.region}; ${standby.region}'s cluster ${sync} (Aurora re-protects the database by itself)`;
    },
  };
}
