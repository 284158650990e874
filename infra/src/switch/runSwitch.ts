import { summarizeError } from '@ghost-ha/core';
import { DiscoveryError, StepFailedError, SwitchUsageError } from '../errors.js';
import { AwsClients } from './AwsClients.js';
import { applyPlan } from './applyPlan.js';
import { discoverDeployment } from './discoverDeployment.js';
import { formatPlan } from './formatPlan.js';
import { activeAndStandby, planReprotect } from './planReprotect.js';
import { planSwitch } from './planSwitch.js';
import { type Pacing, REAL_PACING } from './poll.js';
import { describeGlobalCall } from './reads/readGlobalCluster.js';
import { parseSwitchArgs, USAGE } from './SwitchRequest.js';
import type { SwitchPlan } from './SwitchStep.js';
import { sendCall } from './sendCall.js';

export interface SwitchIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly pacing?: Pacing;
  readonly clients?: AwsClients;
}

/** Exit codes: 0 done (or planned), 1 a step or discovery failed, 2 the command line is wrong. */
export async function runSwitch(argv: readonly string[], io: SwitchIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'failover' && command !== 'failback' && command !== 'reprotect') {
    io.err(`The first argument must be 'failover', 'failback' or 'reprotect' (got '${command ?? ''}').\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const clients = io.clients ?? new AwsClients();
  try {
    // reprotect discovers as a planned failover does: both regions must answer.
    const request = parseSwitchArgs(command === 'reprotect' ? 'failover' : command, rest);
    const deployment = await discoverDeployment(request, clients);
    let plan: SwitchPlan;
    if (command === 'reprotect') {
      // Read, not remembered: Ghost runs where the global database writes.
      const { GlobalClusters = [] } = await sendCall(clients, describeGlobalCall(deployment, request.secondaryRegion));
      const writer = GlobalClusters[0]?.GlobalClusterMembers?.find((m) => m.IsWriter)?.DBClusterArn;
      const { active, standby } = activeAndStandby(deployment, writer);
      plan = planReprotect(deployment, active, standby, request.salvaged ?? false);
    } else {
      plan = planSwitch(deployment, request.direction, request.mode, {
        acceptMirror: request.acceptMirror ?? false,
        salvaged: request.salvaged ?? false,
      });
    }
    io.out(`${formatPlan(plan, request.apply)}\n`);
    if (!request.apply) return 0;
    await applyPlan(plan, clients, io.pacing ?? REAL_PACING, (line) => io.out(`${line}\n`));
    if (command === 'reprotect') {
      io.out(
        `\nReprotect complete: ${plan.to.region}'s content replicates to ${plan.from.region}; Ghost stays in ${plan.to.region}.\n`,
      );
      return 0;
    }
    io.out(`\n${command === 'failover' ? 'Failover' : 'Failback'} complete: Ghost runs in ${plan.to.region}.\n`);
    io.out(
      request.mode === 'planned'
        ? `${plan.from.region} is now the pilot light: its database is a secondary and the content replicates into it.\n`
        : `When ${plan.from.region} answers again, run this same command once more: it keeps Ghost there at 0 and makes its file system read-only. Then reprotect.sh restores the content's replica there without moving Ghost, or ${command === 'failover' ? 'failback.sh' : 'failover.sh'} (planned, once Aurora shows its cluster connected) brings the content back; both first back up what exists only there and copy Aurora's point-of-failure snapshot.\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof SwitchUsageError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    if (error instanceof StepFailedError) {
      io.err(`\n${error.message}\nWhat to do next: ${error.next}\n`);
      return 1;
    }
    if (error instanceof DiscoveryError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    const { name, message } = summarizeError(error);
    io.err(`Unexpected ${name}: ${message}\n`);
    return 1;
  } finally {
    if (!io.clients) clients.destroy();
  }
}
