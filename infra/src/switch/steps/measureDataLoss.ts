import { type AwsCallOf, awsCall, type RuntimeCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import { describeGlobalCall, readGlobalCluster } from '../reads/readGlobalCluster.js';
import { describeReplicationCall, readReplication } from '../reads/readReplication.js';
import type { SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/** Aurora's cross-region lag metrics, in milliseconds, published for the secondary cluster. */
export const LAG_METRICS = ['AuroraGlobalDBRPOLag', 'AuroraGlobalDBReplicationLag'] as const;
export type LagMetric = (typeof LAG_METRICS)[number];

const WINDOW_MS = 15 * 60_000;

/** The cluster identifier at the end of an Aurora cluster ARN (the metrics' dimension). */
function clusterIdentifier(clusterArn: string): string {
  return clusterArn.split(':').at(-1) ?? clusterArn;
}

/** The lag metric's datapoints of the last 15 minutes, one a minute, for `site`'s cluster. */
export function lagMetricCall(
  site: RegionSite,
  metric: LagMetric,
  now: number,
): AwsCallOf<'cloudwatch:GetMetricStatistics'> {
  return awsCall(
    'cloudwatch:GetMetricStatistics',
    site.region,
    {
      Namespace: 'AWS/RDS',
      MetricName: metric,
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: clusterIdentifier(site.clusterArn) }],
      StartTime: new Date(now - WINDOW_MS),
      EndTime: new Date(now),
      Period: 60,
      Statistics: ['Maximum'],
    },
    true,
  );
}

function lagMetricPlanned(site: RegionSite, metric: LagMetric): RuntimeCall<'cloudwatch:GetMetricStatistics'> {
  const { StartTime: _start, EndTime: _end, ...known } = lagMetricCall(site, metric, 0).input;
  return {
    operation: 'cloudwatch:GetMetricStatistics',
    region: site.region,
    known,
    atRunTime: 'StartTime/EndTime: the last 15 minutes',
    readOnly: true,
  };
}

function minutes(ms: number): string {
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * Before a disaster switch: reads how far behind the target is (Aurora lag, EFS's last replicated
 * moment) and names the data the switch will lose. Read only; it never stops the switch, since the
 * region being left is down and waiting would not bring its data back.
 */
export function measureDataLoss(deployment: Deployment, from: RegionSite, to: RegionSite): SwitchStep {
  return {
    id: 'measure-data-loss',
    title: `Read how far ${to.region} is behind ${from.region} and name the data this switch loses`,
    why: 'A disaster switch keeps only what was replicated: the operator should know how much is lost before accepting it.',
    calls: [
      lagMetricPlanned(to, 'AuroraGlobalDBRPOLag'),
      lagMetricPlanned(to, 'AuroraGlobalDBReplicationLag'),
      describeGlobalCall(deployment, to.region),
      describeReplicationCall(to),
    ],
    verify: 'Prints the largest Aurora lag of the last 15 minutes and the last moment EFS replicated into the target.',
    ifFailed:
      'Only the report is missing: the switch goes on. Read AuroraGlobalDBReplicationLag and the replication in the console afterwards.',
    expected: { seconds: 10, basis: 'CloudWatch, RDS and EFS read calls' },
    bestEffort: true,
    async run(context) {
      const now = context.pacing.now();
      const lags: string[] = [];
      let worstLag: number | undefined;
      for (const metric of LAG_METRICS) {
        const { Datapoints = [] } = await sendCall(context.clients, lagMetricCall(to, metric, now));
        const values = Datapoints.flatMap((d) => (d.Maximum === undefined ? [] : [d.Maximum]));
        if (values.length === 0) {
          lags.push(`${metric} no datapoints`);
          continue;
        }
        const max = Math.max(...values);
        worstLag = Math.max(worstLag ?? 0, max);
        lags.push(`${metric} max ${Math.round(max)} ms`);
      }
      const global = await readGlobalCluster(context, deployment, to.region);
      const aurora =
        worstLag === undefined
          ? `Aurora: no lag datapoints in the last 15 min (${lags.join(', ')}; global database ${global.status}); typical lag is under 1 s, so expect to lose about the last second of writes`
          : `Aurora: ${lags.join(', ')} over the last 15 min (global database ${global.status}): expect to lose the writes of the last ${(worstLag / 1000).toFixed(1)} s before the outage (posts, members, settings saved then)`;
      if (worstLag !== undefined) context.facts.auroraLagMs = worstLag;
      const replication = await readReplication(context, to);
      const last = replication?.destination?.LastReplicatedTimestamp;
      if (last) context.facts.efsLastReplicated = last;
      const efs =
        last === undefined
          ? `EFS: ${to.fileSystemId} reports no last replication (${replication ? `status ${replication.destination?.Status}` : 'no replication'}): uploads since the last successful sync are lost`
          : `EFS: last replicated ${last.toISOString()} (${minutes(Math.max(0, context.pacing.now() - last.getTime()))} ago): images, themes and files uploaded in ${from.region} after that are lost`;
      context.progress(aurora);
      context.progress(efs);
      return `${aurora}. ${efs}.`;
    },
  };
}
