import type { Deployment } from './Deployment.js';
import type { Direction, Mode } from './SwitchRequest.js';
import type { SwitchPlan, SwitchStep } from './SwitchStep.js';
import { checkMirror } from './steps/checkMirror.js';
import { fenceOldRegion } from './steps/fenceOldRegion.js';
import { inParallel } from './steps/inParallel.js';
import { makeContentWritable } from './steps/makeContentWritable.js';
import { measureDataLoss } from './steps/measureDataLoss.js';
import { preflight } from './steps/preflight.js';
import { promoteDatabase } from './steps/promoteDatabase.js';
import { readRpo } from './steps/readRpo.js';
import { repairReplication } from './steps/repairReplication.js';
import { replicateContent } from './steps/replicateContent.js';
import { salvageContent } from './steps/salvageContent.js';
import { scaleInvalidator } from './steps/scaleInvalidator.js';
import { scaleService } from './steps/scaleService.js';
import { switchAlarms } from './steps/switchAlarms.js';
import { switchCloudFront } from './steps/switchCloudFront.js';
import { waitForContentSync } from './steps/waitForContentSync.js';

/** How long a disaster switch lets the unreachable old region's stop run beside the promotion. */
const STOP_BOUND_MS = 60_000;

/**
 * The ordered steps that move the one Ghost from the active region to the other. failover: primary
 * to secondary; failback: back to the primary, first replicating the content written meanwhile.
 * This only orders the steps; each lives in its own file under steps/.
 */
export function planSwitch(
  deployment: Deployment,
  direction: Direction,
  mode: Mode,
  options: { readonly acceptMirror?: boolean; readonly salvaged?: boolean } = {},
): SwitchPlan {
  const from = direction === 'failover' ? deployment.primary : deployment.secondary;
  const to = direction === 'failover' ? deployment.secondary : deployment.primary;
  const planned = mode === 'planned';
  const steps: SwitchStep[] = [preflight(deployment, from, to, direction, mode)];
  if (planned) {
    // The target's mirror is checked before anything changes: a planned switch refuses at no cost.
    steps.push(checkMirror(deployment.project, to, mode, options.acceptMirror ?? false));
    // After a disaster the target's file system may hold uploads that exist only there: they are
    // backed up (and Aurora's point-of-failure snapshot copied) before anything overwrites them.
    steps.push(salvageContent(deployment, to, from, options.salvaged ?? false));
    steps.push(repairReplication(from, to));
    // The region being left still answers: the content written there since the last switch goes back first.
    if (direction === 'failback') steps.push(replicateContent(from, to, 'bring-content-back', true));
    steps.push(scaleService(from, 0, false));
    // After Ghost (its last webhooks are handled), before the content sync (its journal goes along).
    steps.push(scaleInvalidator(from, 0, false));
    // Once Ghost is stopped, the EFS catch-up and the Aurora switchover need nothing of each other.
    steps.push(
      inParallel(
        'sync-and-promote',
        `Let EFS catch up with ${to.region} while the database switches over to it`,
        [waitForContentSync(from, to), promoteDatabase(deployment, from, to, mode)],
        STOP_BOUND_MS,
      ),
    );
  } else {
    // A region that is only partly down may still take writes that are certain to be lost: right
    // after the data-loss reading, CloudFront stops sending them there (best effort: its control
    // plane must not block the promotion). Then the old region's stop, bounded, runs beside the
    // promotion instead of before it.
    steps.push(measureDataLoss(deployment, from, to));
    steps.push(switchCloudFront(deployment, from, to, { early: true }));
    // Only a warning in a disaster, so it does not hold back writes leaving the region that is down;
    // still before the origin group moves.
    steps.push(checkMirror(deployment.project, to, mode, true));
    steps.push(
      inParallel(
        'stop-and-promote',
        `Stop Ghost and the cache-invalidator in ${from.region} (best effort, bounded) while the database fails over to ${to.region}`,
        [scaleService(from, 0, true), scaleInvalidator(from, 0, true), promoteDatabase(deployment, from, to, mode)],
        STOP_BOUND_MS,
      ),
    );
  }
  // Right after the promotion, before Ghost starts there: the database shows which writes made it.
  steps.push(
    inParallel(
      'writable-and-rpo',
      `Make ${to.fileSystemId} writable while the newest heartbeat in ${to.region}'s database is read`,
      [makeContentWritable(from, to, !planned), readRpo(deployment, from, to, mode)],
      STOP_BOUND_MS,
    ),
  );
  // The invalidator needs the writable content (its journal) and must run before Ghost publishes.
  steps.push(scaleInvalidator(to, 1, false));
  // CloudFront's edges take minutes to deploy a change, Ghost minutes to start: both at once.
  // Until Ghost is healthy, writes reaching the new region get 503s, as they would in the old one.
  steps.push(
    inParallel(
      'start-and-route',
      `Start Ghost in ${to.region} while CloudFront routes to it`,
      [scaleService(to, 1, false), switchCloudFront(deployment, from, to)],
      STOP_BOUND_MS,
    ),
  );
  // The region left becomes the pilot light again with a fresh copy of the content. Not after a
  // disaster: the region lost holds uploads that exist only there; the fence makes its file system
  // read-only, and reprotect or the planned switch back salvages it before replicating into it.
  if (planned) steps.push(replicateContent(to, from, 'restore-pilot-light', false));
  steps.push(switchAlarms(deployment, from, to, !planned));
  if (!planned) steps.push(fenceOldRegion(deployment, from, to));
  return { direction, mode, from, to, steps };
}
