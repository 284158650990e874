import type { EventPlan } from './planEventPaths.js';

/** A webhook (or manual request) that was answered 2xx: its plan is on disk before the answer. */
export interface AcceptedEvent {
  id: string;
  /** Ghost's event name, or `manual`. */
  event: string;
  receivedAt: number;
  plan: EventPlan;
}

/** Coalesced events sent as one CreateInvalidation per distribution; `id` is the CallerReference. */
export interface Batch {
  id: string;
  createdAt: number;
  paths: string[];
  events: { id: string; receivedAt: number }[];
  /** Distribution id → invalidation id, for each distribution that accepted the batch. */
  sent: Record<string, string>;
  /** The distributions the batch is for, when not all (a release of quarantined paths). */
  targets?: string[];
  /** Quarantined entries this batch sends again: they leave the quarantine with it. */
  releases?: string[];
}

/** Paths a distribution refused for good, set aside (not retried) until released by hand. */
export interface QuarantinedPaths {
  /** `q-` and a digest of distribution, batch and paths: the same refusal found again is the same entry. */
  id: string;
  distributionId: string;
  batchId: string;
  paths: string[];
  /** CloudFront's refusal. */
  error: { name: string; message: string };
  at: number;
}

export type JournalRecord =
  | ({ type: 'event' } & AcceptedEvent)
  | ({ type: 'batch' } & Batch)
  | { type: 'sent'; batchId: string; distributionId: string; invalidationId: string }
  | ({ type: 'quarantine' } & QuarantinedPaths);
