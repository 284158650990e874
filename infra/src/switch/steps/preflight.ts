import type { PlannedCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { getDistributionConfigCall } from '../reads/getDistributionConfigCall.js';
import { describeGlobalCall, readGlobalCluster } from '../reads/readGlobalCluster.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import { describeServiceCall, readService } from '../reads/readService.js';
import type { Direction, Mode } from '../SwitchRequest.js';
import type { SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/** Read-only checks that every part exists and the target can take over. */
export function preflight(
  deployment: Deployment,
  from: RegionSite,
  to: RegionSite,
  direction: Direction,
  mode: Mode,
): SwitchStep {
  const calls: PlannedCall[] = [
    describeGlobalCall(deployment, to.region),
    describeReplicationCall(to),
    describeServiceCall(to),
    getDistributionConfigCall(deployment),
  ];
  if (mode === 'planned') calls.push(describeServiceCall(from));
  const checksReplication = direction === 'failover' && mode === 'planned';
  return {
    id: 'preflight',
    title: 'Check the deployment (read only)',
    why: 'Stop before changing anything if a part is missing or the target is not ready to take over.',
    calls,
    verify: `${to.region}'s cluster is a member of ${deployment.globalClusterId};${checksReplication ? ` ${to.fileSystemId} is the destination of ${from.region}'s replication;` : ''} its ECS service exists; the distribution has origins ${from.originId} and ${to.originId}${mode === 'planned' ? `; ${from.region}'s service answers` : ''}.`,
    ifFailed:
      'Nothing was changed. Fix what the message names (deploy the missing stack, pass the right identifiers), then run again.',
    expected: { seconds: 10, basis: 'read-only API calls' },
    async run(context) {
      const global = await readGlobalCluster(context, deployment, to.region);
      if (!global.members.includes(to.clusterArn)) {
        throw new Error(
          `${to.clusterArn} is not a member of the global database (members: ${global.members.join(', ') || 'none'}). ` +
            'Re-create it from its data stack so it joins the global database, then run again.',
        );
      }
      if (checksReplication && global.writer !== to.clusterArn) {
        const replication = await readReplication(context, to);
        if (replication?.source === undefined || replication.destination?.FileSystemId !== to.fileSystemId) {
          throw new Error(
            `${to.fileSystemId} in ${to.region} receives no replication: its content is not a copy of ${from.region}'s. ` +
              'Deploy the primary data stack with ReplicaFileSystemId set, wait for the first sync, then run again.',
          );
        }
      }
      await readService(context, to);
      if (mode === 'planned') await readService(context, from);
      const { DistributionConfig: config } = await sendCall(context.clients, getDistributionConfigCall(deployment));
      const origins = (config?.Origins?.Items ?? []).map((o) => o.Id);
      for (const id of [from.originId, to.originId]) {
        if (!origins.includes(id)) {
          throw new Error(
            `Distribution ${deployment.distributionId} has no origin '${id}' (has: ${origins.join(', ')})`,
          );
        }
      }
      const writer = global.writer === to.clusterArn ? `${to.region} (already)` : (global.writer ?? 'none');
      return `global database ${global.status}, writer ${writer}`;
    },
  };
}
