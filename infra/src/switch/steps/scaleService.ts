import { awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { describeServiceCall, readService } from '../reads/readService.js';
import { describeTargetHealthPlanned, readTargetHealth } from '../reads/readTargetHealth.js';
import { MINUTE, type SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/**
 * The stop's budget from the app stack (app.yaml): ECS waits for the task's longest container
 * StopTimeout (the health-sidecar's 45 s; Ghost's is 30 s) and the ALB drains the target for its
 * deregistration delay (30 s). infra/tests/switchPlan.test.ts reads both from the template.
 */
export const STOP_SECONDS = 45 + 30;
const STOP_BASIS = "the task's longest container StopTimeout (45 s) and the ALB deregistration delay (30 s), app.yaml";

/** Stops Ghost in a region (desired 0), or starts it (desired 1) and waits until the ALB finds it healthy. */
export function scaleService(site: RegionSite, desiredCount: 0 | 1, bestEffort: boolean): SwitchStep {
  const stopping = desiredCount === 0;
  // Starting forces a new deployment, so that its rollout state describes this start (scaling alone
  // would leave an old, long completed deployment in place).
  const update = awsCall(
    'ecs:UpdateService',
    site.region,
    stopping
      ? { cluster: site.ecsCluster, service: site.ecsService, desiredCount }
      : { cluster: site.ecsCluster, service: site.ecsService, desiredCount, forceNewDeployment: true },
  );
  return {
    id: stopping ? `stop-ghost-${site.region}` : `start-ghost-${site.region}`,
    title: stopping ? `Stop Ghost in ${site.region}` : `Start Ghost in ${site.region} and wait until it is healthy`,
    why: stopping
      ? 'Ghost supports one instance per database: the old one stops before the database moves.'
      : 'The service runs its one task on the promoted database and the now writable content; ECS marks the deployment complete once the ALB finds the sidecar ready.',
    calls: stopping
      ? [update, describeServiceCall(site)]
      : [update, describeServiceCall(site), describeTargetHealthPlanned(site)],
    verify: stopping
      ? 'runningCount and pendingCount are 0.'
      : "runningCount is 1, one deployment, rolloutState COMPLETED (the circuit breaker did not roll back), and the ALB reports the task's target healthy (the sidecar's /health/ready).",
    ifFailed: stopping
      ? bestEffort
        ? `${site.region} did not answer; the switch goes on. Its Ghost cannot write (its database is no longer the writer); the last step of this plan keeps its service at 0 once the region answers.`
        : `Check the service's events in ${site.region} (aws ecs describe-services). Nothing else changed yet: run again once the task has stopped.`
      : `Read the stopped task's reason and the health-sidecar's /health output in the ${site.region} logs (${site.ecsService}); fix and run again (finished steps are skipped).`,
    expected: stopping
      ? { seconds: STOP_SECONDS, basis: STOP_BASIS }
      : {
          seconds: 180,
          basis: 'Fargate task start (image pull from ECR, ENI) and the ALB healthy threshold (2 x 10 s, app.yaml)',
        },
    bestEffort,
    async run(context) {
      const before = await readService(context, site);
      if (before.desired !== desiredCount) await sendCall(context.clients, update);
      const timeout = bestEffort ? 2 * MINUTE : stopping ? 10 * MINUTE : 20 * MINUTE;
      const state = await poll(
        stopping ? `Ghost to stop in ${site.region}` : `Ghost to become healthy in ${site.region}`,
        timeout,
        context.pacing,
        async () => {
          const s = await readService(context, site);
          if (!stopping && s.rollout === 'FAILED') {
            throw new Error(`The deployment in ${site.region} failed (circuit breaker rolled it back)`);
          }
          const state = `desired ${s.desired}, running ${s.running}, pending ${s.pending}, rollout ${s.rollout ?? 'n/a'}`;
          if (stopping) return { done: s.running === 0 && s.pending === 0, state };
          const started =
            s.running === 1 && s.deployments === 1 && (s.rollout === undefined || s.rollout === 'COMPLETED');
          if (!started || !s.targetGroupArn) return { done: started, state };
          const health = await readTargetHealth(context, site, s.targetGroupArn);
          return { done: health.healthy === 1, state: `${state}, targets ${health.summary}` };
        },
        context.progress,
      );
      if (stopping) context.facts.ghostStoppedAt = context.pacing.now();
      return state;
    },
  };
}
