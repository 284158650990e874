import { loadTemplate } from '../parseTemplate.js';
import type { PlannedCall } from '../switch/AwsCall.js';
import type { UpgradeCalls } from './aws/upgradeCalls.js';
import type { GoNoGoReport } from './GoNoGoReport.js';

/** Who is served how while a step runs. */
export interface ServiceDuringStep {
  /** Writers (staff, members signing in, comments): Ghost, or 503 while no Ghost runs. */
  readonly writers: 'Ghost' | '503';
  /** Anonymous readers: Ghost through CloudFront, or the static mirror. */
  readonly readers: 'Ghost' | 'mirror';
}

export interface UpgradeStep extends ServiceDuringStep {
  readonly id: string;
  readonly title: string;
  readonly what: string;
  readonly seconds: number;
  /** Where the figure comes from: the template, the rehearsal's measurement, or an estimate. */
  readonly basis: string;
  /** The AWS calls it makes, when the deployment's identifiers were given. */
  readonly calls?: readonly PlannedCall[];
}

export interface UpgradePlan {
  readonly from: string;
  readonly to: string;
  readonly steps: readonly UpgradeStep[];
  /** The rollback, if the upgrade fails after the backup point. */
  readonly rollback: readonly UpgradeStep[];
  /** The rehearsal it relies on, when one was given. */
  readonly report?: GoNoGoReport;
}

/** The figures the plan reads from the app template, so that it never restates them. */
interface TaskTimings {
  /** The longest container StopTimeout of the task: how long a stop can take. */
  readonly stopSeconds: number;
  /** The service's HealthCheckGracePeriodSeconds: before the load balancer counts the new task. */
  readonly graceSeconds: number;
}

function taskTimings(): TaskTimings {
  const app = loadTemplate('app');
  const resources = Object.values(app.Resources);
  const containers = resources
    .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
    .flatMap((r) => (r.Properties?.ContainerDefinitions ?? []) as { StopTimeout?: number }[]);
  const services = resources.filter((r) => r.Type === 'AWS::ECS::Service');
  return {
    stopSeconds: Math.max(30, ...containers.map((c) => c.StopTimeout ?? 30)),
    graceSeconds: Math.max(0, ...services.map((s) => Number(s.Properties?.HealthCheckGracePeriodSeconds ?? 0))),
  };
}

/** Without a rehearsal's figure, the migrations and boot are estimated at this much. */
const UNMEASURED_BOOT_SECONDS = 300;

/**
 * The upgrade as ordered steps with what each costs: nothing changes before the backup point;
 * from stopping Ghost until traffic is back, writers get 503 and readers the mirror. A go/no-go
 * report of the same upgrade supplies the measured migration time.
 */
export function planUpgrade(from: string, to: string, report?: GoNoGoReport, calls?: UpgradeCalls): UpgradePlan {
  const timings = taskTimings();
  const measuredBoot = report?.rehearsal?.bootMs;
  const boot = measuredBoot !== undefined ? Math.ceil(measuredBoot / 1000) : UNMEASURED_BOOT_SECONDS;
  const bootBasis =
    measuredBoot !== undefined
      ? `measured on the copy by the rehearsal of ${report?.startedAt}`
      : 'estimate: no rehearsal report given (--report)';
  const serving: ServiceDuringStep = { writers: 'Ghost', readers: 'Ghost' };
  const down: ServiceDuringStep = { writers: '503', readers: 'mirror' };
  const steps: UpgradeStep[] = [
    {
      id: 'preflight',
      title: 'Preflight',
      what: `supported path ${from} → ${to}, the image's Node.js against ${to}'s engines, the theme through gscan, free space, the database's version`,
      seconds: 30,
      basis: 'estimate: reads only',
      ...serving,
    },
    {
      id: 'rehearse',
      title: 'Rehearsal on a copy',
      what: `an Aurora clone (copy-on-write) and a content copy, Ghost ${to} booted on them in a one-off task with no traffic, the smoke test compared with production, a go/no-go report in S3; clone and task removed`,
      seconds: (report?.rehearsal ? Math.ceil(report.rehearsal.copyMs / 1000) : 600) + boot,
      basis: report?.rehearsal ? 'measured by the rehearsal' : 'estimate: a clone takes minutes, plus the boot',
      ...serving,
    },
    {
      id: 'stop-ghost',
      title: `Stop Ghost ${from} through the singleton`,
      what: 'desired count 0: the lease is released, readers are answered from the mirror, writes get 503 (no Ghost behind the load balancer)',
      seconds: timings.stopSeconds,
      basis: "the task's longest StopTimeout in app.yaml",
      ...down,
    },
    {
      id: 'backup-point',
      title: 'Backup point',
      what: 'a named cluster snapshot (CreateDBClusterSnapshot) and a content backup, taken with no writer',
      seconds: 300,
      basis: 'estimate: Aurora snapshots are incremental; the content backup is a copy of the volume',
      ...down,
    },
    {
      id: 'deploy-target',
      title: `Start Ghost ${to}`,
      what: `the task definition with ${to}'s image digest; its migrations watched in Ghost's log with a time limit of 3× the rehearsal's`,
      seconds: boot + timings.graceSeconds,
      basis: `${bootBasis}, plus the service's HealthCheckGracePeriodSeconds`,
      ...down,
    },
    {
      id: 'smoke',
      title: 'Smoke test',
      what: 'home, a post, a tag page, RSS, sitemap, a members-only post, the Admin API; every post, tag, member, tier and newsletter compared with the backup point',
      seconds: 60,
      basis: 'estimate',
      ...down,
    },
    {
      id: 'traffic-back',
      title: 'Traffic back to Ghost',
      what: `readers and writers served by Ghost ${to} again`,
      seconds: 30,
      basis: 'estimate: the origin group prefers Ghost once it answers',
      ...serving,
    },
  ];
  const rollback: UpgradeStep[] = [
    {
      id: 'rollback',
      title: `Rollback to ${from}`,
      what: `stop Ghost ${to}, restore the backup point's snapshot and content, start ${from}'s task definition`,
      seconds:
        report?.rehearsal?.rollbackMs !== undefined
          ? Math.ceil(report.rehearsal.rollbackMs / 1000) + 600
          : timings.stopSeconds + 600 + boot,
      basis:
        report?.rehearsal?.rollbackMs !== undefined
          ? "the rehearsal's rollback drill, plus a cluster restored from its snapshot (estimate: 10 min)"
          : 'estimate: a cluster restored from its snapshot, then the old release boots without migrations',
      ...down,
    },
  ];
  const withCalls = (step: UpgradeStep): UpgradeStep => {
    const listed = calls?.[step.id as keyof UpgradeCalls];
    return listed ? { ...step, calls: listed } : step;
  };
  return { from, to, steps: steps.map(withCalls), rollback: rollback.map(withCalls), ...(report ? { report } : {}) };
}

/** Seconds during which writers get 503 (and readers the mirror). */
export function writersDowntime(plan: UpgradePlan): number {
  return plan.steps.filter((step) => step.writers !== 'Ghost').reduce((sum, step) => sum + step.seconds, 0);
}
