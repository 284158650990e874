import { awsCall, type RuntimeCall } from '../AwsCall.js';
import type { Deployment, RegionSite } from '../Deployment.js';
import type { Mode } from '../SwitchRequest.js';
import type { SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/**
 * The health-sidecar's heartbeat table (services/health-sidecar HeartbeatWriteCheck, HEARTBEAT_TABLE;
 * infra/tests/switchPlan.test.ts checks the name): every sidecar writes its row there every check
 * interval through the global writer, so the newest row a cluster holds is the last write that
 * reached it.
 */
export const HEARTBEAT_SQL =
  "SELECT holder, DATE_FORMAT(written_at, '%Y-%m-%d %H:%i:%s.%f') FROM ghost_ha_heartbeat ORDER BY written_at DESC LIMIT 1";

/** `2026-12-06 22:50:01.123456` (UTC, as MySQL formats it) -> epoch ms. */
function parseUtc(value: string): number {
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}

/**
 * The RPO as the database itself shows it: right after the promotion (the Data API answers only on
 * a writer, Aurora user guide data-api.limitations.html) and before Ghost starts there (its sidecar
 * would write a new row), reads the newest heartbeat row the target's cluster holds. In a disaster,
 * writes the old region took after that moment are lost; printed beside Aurora's lag and EFS's last
 * replication from measure-data-loss. Planned: the newest row is from just before Ghost stopped.
 * Read through the RDS Data API with Ghost's own database secret (<project>/database-app).
 */
export function readRpo(deployment: Deployment, from: RegionSite, to: RegionSite, mode: Mode): SwitchStep {
  const describeSecret = awsCall(
    'secretsmanager:DescribeSecret',
    to.region,
    { SecretId: `${deployment.project}/database-app` },
    true,
  );
  const planned: RuntimeCall<'rds-data:ExecuteStatement'> = {
    operation: 'rds-data:ExecuteStatement',
    region: to.region,
    known: { resourceArn: to.clusterArn, database: 'ghost', sql: HEARTBEAT_SQL },
    atRunTime: "secretArn: the secret's ARN just described",
    readOnly: true,
  };
  return {
    id: 'read-rpo',
    title: `Read the newest heartbeat row that reached ${to.region}'s database (the RPO as the data shows it)`,
    why: 'Aurora reports its lag and EFS its last replication; the newest row the sidecar wrote that the promoted cluster holds says which writes made it.',
    calls: [describeSecret, planned],
    verify: `Prints the newest heartbeat's writer and time in ${to.region}, how long before the promotion it was written${mode === 'disaster' ? ', and beside it the Aurora lag and EFS last replication read before the switch' : ''}.`,
    ifFailed:
      'Only the reading is missing: the switch goes on. Query ghost_ha_heartbeat in the new writer before Ghost starts, or read the lag metrics afterwards.',
    expected: { seconds: 5, basis: 'Secrets Manager and RDS Data API read calls' },
    bestEffort: true,
    async run(context) {
      const { ARN } = await sendCall(context.clients, describeSecret);
      if (!ARN) throw new Error(`Secret ${deployment.project}/database-app has no ARN in ${to.region}`);
      const call = awsCall(
        'rds-data:ExecuteStatement',
        to.region,
        { ...planned.known, resourceArn: to.clusterArn, sql: HEARTBEAT_SQL, secretArn: ARN },
        true,
      );
      const { records = [] } = await sendCall(context.clients, call);
      const [holder, written] = records[0] ?? [];
      if (!written?.stringValue) return `no heartbeat row in ${to.region}'s database (the table is empty)`;
      const at = parseUtc(written.stringValue);
      const now = context.pacing.now();
      const heartbeat = `newest heartbeat in ${to.region}: ${holder?.stringValue ?? 'unknown'} at ${new Date(at).toISOString()} (${((now - at) / 1000).toFixed(1)} s before this reading)`;
      if (mode === 'planned') {
        const stopped = context.facts.ghostStoppedAt;
        return stopped === undefined
          ? heartbeat
          : `${heartbeat}; Ghost stopped in ${from.region} ${((stopped - at) / 1000).toFixed(1)} s after it: a switchover loses nothing`;
      }
      const lag = context.facts.auroraLagMs;
      const efs = context.facts.efsLastReplicated;
      return (
        `RPO ${heartbeat}: writes ${from.region} took after it are lost` +
        `; Aurora lag read before: ${lag === undefined ? 'no datapoints' : `${(lag / 1000).toFixed(1)} s`}` +
        `; EFS last replicated ${efs ? efs.toISOString() : 'unknown'}`
      );
    },
  };
}
