import { awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import { poll } from '../poll.js';
import { describeServiceCall, readService } from '../reads/readService.js';
import { MINUTE, type SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/**
 * Stops the cache-invalidator's service in a region (desired 0), or starts it (desired 1) and waits
 * until its deployment has completed. It runs in a task of its own (its own role), so the switch
 * scales it beside Ghost's: started before Ghost, so that Ghost's first webhooks find it, and
 * stopped after Ghost, so that the region left writes no mirror pages from a Ghost that is gone.
 */
export function scaleInvalidator(site: RegionSite, desiredCount: 0 | 1, bestEffort: boolean): SwitchStep {
  const stopping = desiredCount === 0;
  const service = site.invalidatorService;
  // Starting forces a new deployment, so that its rollout state describes this start.
  const update = awsCall(
    'ecs:UpdateService',
    site.region,
    stopping
      ? { cluster: site.ecsCluster, service, desiredCount }
      : { cluster: site.ecsCluster, service, desiredCount, forceNewDeployment: true },
  );
  return {
    id: stopping ? `stop-invalidator-${site.region}` : `start-invalidator-${site.region}`,
    title: stopping
      ? `Stop the cache-invalidator in ${site.region}`
      : `Start the cache-invalidator in ${site.region} and wait until its deployment completes`,
    why: stopping
      ? 'One writer of the static mirror and the invalidation journal: once Ghost is stopped here, nothing here may write mirror pages or invalidate on its behalf.'
      : "Ghost's webhooks go to the cache-invalidator's private name from Ghost's first change on: it runs, on the now writable content (its journal), before Ghost starts.",
    calls: [update, describeServiceCall(site, service)],
    verify: stopping
      ? 'runningCount and pendingCount are 0.'
      : 'runningCount is 1, one deployment, rolloutState COMPLETED (its container health check passed; the circuit breaker did not roll back).',
    ifFailed: stopping
      ? bestEffort
        ? `${site.region} did not answer; the switch goes on. The last step of this plan keeps its cache-invalidator at 0 once the region answers.`
        : `Check the service's events in ${site.region} (aws ecs describe-services --services ${service}); run again once its task has stopped.`
      : `Read the stopped task's reason and the cache-invalidator's log in ${site.region} (${service}); fix and run again (finished steps are skipped).`,
    expected: stopping
      ? {
          seconds: 45,
          basis:
            "ECS stop (the service's shutdown grace, 5 s, within the 30 s stopTimeout) and the Cloud Map deregistration",
        }
      : {
          seconds: 90,
          basis: 'Fargate task start (image pull, ENI, EFS mounts) and its health check (start period 20 s)',
        },
    bestEffort,
    async run(context) {
      const before = await readService(context, site, service);
      if (before.desired !== desiredCount) await sendCall(context.clients, update);
      const timeout = bestEffort ? 2 * MINUTE : 10 * MINUTE;
      return poll(
        stopping
          ? `the cache-invalidator to stop in ${site.region}`
          : `the cache-invalidator to start in ${site.region}`,
        timeout,
        context.pacing,
        async () => {
          const s = await readService(context, site, service);
          if (!stopping && s.rollout === 'FAILED') {
            throw new Error(
              `The cache-invalidator's deployment in ${site.region} failed (circuit breaker rolled it back)`,
            );
          }
          const state = `desired ${s.desired}, running ${s.running}, pending ${s.pending}, rollout ${s.rollout ?? 'n/a'}`;
          if (stopping) return { done: s.running === 0 && s.pending === 0, state };
          return {
            done: s.running === 1 && s.deployments === 1 && (s.rollout === undefined || s.rollout === 'COMPLETED'),
            state,
          };
        },
        context.progress,
      );
    },
  };
}
