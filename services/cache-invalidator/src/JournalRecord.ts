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
}

export type JournalRecord =
  | ({ type: 'event' } & AcceptedEvent)
  | ({ type: 'batch' } & Batch)
  | { type: 'sent'; batchId: string; distributionId: string; invalidationId: string };
