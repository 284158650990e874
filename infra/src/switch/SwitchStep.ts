import type { PlannedCall } from './AwsCall.js';
import type { AwsClients } from './AwsClients.js';
import type { RegionSite } from './Deployment.js';
import type { Pacing } from './poll.js';
import type { Direction, Mode } from './SwitchRequest.js';

/** What a step learnt that a later one needs: typed, set by one step, read by another. */
export interface SwitchFacts {
  /** When Ghost stopped in the region being left (epoch ms): content written before must be replicated. */
  ghostStoppedAt?: number;
  /** measure-data-loss: the largest Aurora lag of the last 15 minutes (ms), when reported. */
  auroraLagMs?: number;
  /** measure-data-loss: the target's EFS LastReplicatedTimestamp before the switch. */
  efsLastReplicated?: Date;
}

export interface StepContext {
  readonly clients: AwsClients;
  readonly pacing: Pacing;
  readonly progress: (line: string) => void;
  readonly facts: SwitchFacts;
}

/** How long a step takes by AWS's documentation, and where that figure comes from. */
export interface ExpectedDuration {
  readonly seconds: number;
  readonly basis: string;
}

/** One ordered step: the calls it makes, what is verified after it, and what to do if it fails. */
export interface SwitchStep {
  readonly id: string;
  readonly title: string;
  readonly why: string;
  readonly calls: readonly PlannedCall[];
  readonly verify: string;
  readonly ifFailed: string;
  readonly expected: ExpectedDuration;
  /** The region it talks to may be down (disaster): a failure is reported and the switch goes on. */
  readonly bestEffort?: boolean;
  /** Steps that run at once inside this one (inParallel), for the RTO on paper and the plan. */
  readonly members?: readonly SwitchStep[];
  /** Makes the calls and verifies; returns what it found or did. Throws on failure. */
  run(context: StepContext): Promise<string>;
}

export interface SwitchPlan {
  /** A plan that does not move Ghost (reprotect) names itself; a switch is named by direction and mode. */
  readonly title?: string;
  readonly direction: Direction;
  readonly mode: Mode;
  readonly from: RegionSite;
  readonly to: RegionSite;
  readonly steps: readonly SwitchStep[];
}

export const MINUTE = 60_000;
