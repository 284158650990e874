import { createHash, randomUUID } from 'node:crypto';
import { type Logger, summarizeError } from '@ghost-ha/core';
import { type CompactionLimits, compactPaths } from './compactPaths.js';
import type { Refusal } from './DistributionSender.js';
import type { Journal } from './Journal.js';
import type { AcceptedEvent, Batch, JournalRecord, QuarantinedPaths } from './JournalRecord.js';
import { SiteChangeEchoes } from './SiteChangeEchoes.js';
import { INVALIDATOR_LOG } from './signals.js';

export interface CoalescingSettings {
  /** A batch is cut this long after the last event, if no other event came. */
  windowMs: number;
  /** ...and at the latest this long after its first event. */
  maxWaitMs: number;
  /** A `site.changed` this close to a post, page or tag change is that change's echo. */
  echoWindowMs: number;
  /**
   * At most one `/*` for lone `site.changed` events per this period (0: no limit). Lone ones that come
   * sooner wait, merged, until the period since the last `/*` is over; their batch is then `/*`.
   */
  siteChangedMinIntervalMs?: number;
  limits: CompactionLimits;
}

export interface InvalidationQueueOptions extends CoalescingSettings {
  journal: Journal<JournalRecord>;
  distributionIds: readonly string[];
  /** Called with each batch that some distribution still has to accept; `recovered` after a restart. */
  onBatch: (batch: Batch, recovered: boolean) => void;
  onBatchCut?: (batch: Batch, events: readonly AcceptedEvent[]) => void;
  logger: Logger;
  now?: () => number;
}

/** When the open window's events arrived, kept as they come so scheduling is O(1) per event. */
interface OpenWindow {
  firstAt: number;
  lastAt: number;
}

/** Rewrite the journal once it is this large even when work is pending. */
const JOURNAL_REWRITE_BYTES = 4 * 1024 * 1024;

/**
 * Accepted events wait here, journaled, until their batch is cut (window after the last event,
 * max wait after the first) and every distribution has accepted the batch. Each event and batch is
 * on disk before anyone relies on it; a batch leaves the journal only once CloudFront accepted it
 * for every distribution.
 */
export class InvalidationQueue {
  readonly #options: InvalidationQueueOptions;
  readonly #now: () => number;
  readonly #log: Logger;
  #open: AcceptedEvent[] = [];
  /** Lone `site.changed` events waiting for the next allowed `/*` (journaled as open events). */
  #deferred: AcceptedEvent[] = [];
  /** When the last `/*` batch was cut (in this process). */
  #lastEverythingAt: number | undefined;
  #deferredTimer: NodeJS.Timeout | undefined;
  #window: OpenWindow = { firstAt: Number.POSITIVE_INFINITY, lastAt: 0 };
  readonly #batches = new Map<string, Batch>();
  readonly #quarantine = new Map<string, QuarantinedPaths>();
  readonly #echoes: SiteChangeEchoes;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  #cutting: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: InvalidationQueueOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger.child({ module: 'InvalidationQueue' });
    this.#echoes = new SiteChangeEchoes(options.echoWindowMs, options.maxWaitMs + 2 * options.echoWindowMs);
  }

  /** Rebuilds the pending work from journal records, rewrites the journal to it, and resumes sending. */
  async restore(records: readonly JournalRecord[]): Promise<{ events: number; batches: number; quarantined: number }> {
    const open = new Map<string, AcceptedEvent>();
    for (const record of records) {
      if (record.type === 'event') {
        const { type: _type, ...event } = record;
        open.set(event.id, event);
      } else if (record.type === 'batch') {
        const { type: _type, ...batch } = record;
        this.#batches.set(batch.id, { ...batch, sent: { ...batch.sent } });
        for (const event of batch.events) open.delete(event.id);
        for (const id of batch.releases ?? []) this.#quarantine.delete(id);
      } else if (record.type === 'quarantine') {
        const { type: _type, ...entry } = record;
        this.#quarantine.set(entry.id, entry);
      } else {
        const batch = this.#batches.get(record.batchId);
        if (batch) batch.sent[record.distributionId] = record.invalidationId;
      }
    }
    for (const batch of [...this.#batches.values()]) if (this.#isDone(batch)) this.#batches.delete(batch.id);
    this.#open = [...open.values()].sort((a, b) => a.receivedAt - b.receivedAt);
    this.#measureWindow();
    for (const event of this.#open) this.#noteForEchoes(event);
    try {
      await this.#options.journal.rewrite(() => this.#liveRecords());
    } catch (error) {
      // A volume that is read-only or full at start: the records are read, so send them; the
      // journal reports the failure until writes work again.
      this.#log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.rewriteFailedAtStart);
    }
    for (const batch of this.#batches.values()) this.#options.onBatch(batch, true);
    // Events the previous process accepted but never batched have waited long enough.
    if (this.#open.length > 0) void this.#cut();
    return { events: this.#open.length, batches: this.#batches.size, quarantined: this.#quarantine.size };
  }

  /** Journals the event (durable when this resolves) and schedules its batch. */
  async accept(event: AcceptedEvent): Promise<void> {
    // The window counts the event while its sync runs, so the batch waits for it; the event itself
    // joins only once it is on disk: one whose append failed is answered 503 and must neither be
    // sent nor explain a site.changed as its echo.
    this.#widenWindow(event);
    try {
      await this.#options.journal.append({ type: 'event', ...event });
    } catch (error) {
      this.#measureWindow();
      throw error;
    }
    this.#open.push(event);
    this.#widenWindow(event);
    this.#noteForEchoes(event);
    this.#scheduleCut();
  }

  /** Cuts the open window now (manual requests, shutdown). */
  flushNow(): Promise<void> {
    return this.#cut();
  }

  /**
   * Records that a distribution accepted a batch, but for the paths it refused for good, which go to
   * the quarantine (journaled first: nothing accepted leaves the journal unsent and unseen); the
   * batch leaves once all distributions have it.
   */
  async markSent(
    batchId: string,
    distributionId: string,
    invalidationId: string,
    refused: readonly Refusal[] = [],
  ): Promise<void> {
    const batch = this.#batches.get(batchId);
    if (!batch) return;
    for (const refusal of refused) {
      const entry: QuarantinedPaths = {
        id: quarantineIdOf(distributionId, batchId, refusal.paths),
        distributionId,
        batchId,
        paths: refusal.paths,
        error: refusal.error,
        at: this.#now(),
      };
      this.#quarantine.set(entry.id, entry);
      try {
        await this.#options.journal.append({ type: 'quarantine', ...entry });
      } catch (error) {
        // Kept in memory (seen in /health); the batch's `sent` likely fails too, and after a
        // restart the batch is sent and split again, finding the same entry.
        this.#log.error({ error: summarizeError(error), batchId }, INVALIDATOR_LOG.quarantineNotJournaled);
      }
    }
    batch.sent[distributionId] = invalidationId;
    try {
      await this.#options.journal.append({ type: 'sent', batchId, distributionId, invalidationId });
    } catch (error) {
      // CloudFront has the batch; after a restart the sender finds it by CallerReference instead of resending.
      this.#log.error({ error: summarizeError(error), batchId }, INVALIDATOR_LOG.sentNotJournaled);
    }
    if (this.#isDone(batch)) {
      this.#batches.delete(batchId);
      await this.#maybeRewrite();
    }
  }

  /** Events accepted but not yet in a batch (lone `site.changed` waiting included), and batches not yet accepted everywhere. */
  get depth(): { events: number; batches: number } {
    return { events: this.#open.length + this.#deferred.length, batches: this.#batches.size };
  }

  /** Lone `site.changed` events waiting, merged, for the next allowed `/*`. */
  get waitingSiteChanges(): number {
    return this.#deferred.length;
  }

  /** Paths refused for good, per distribution and batch, oldest first. */
  get quarantined(): readonly QuarantinedPaths[] {
    return [...this.#quarantine.values()];
  }

  /**
   * Sends quarantined paths again, once, to the distribution that refused them: each entry becomes a
   * batch for that distribution alone (a new CallerReference), journaled together with the entry's
   * release, so a restart neither loses nor repeats it. Refused again, the paths come back to the
   * quarantine. Returns the entries released (none: no such id).
   */
  async release(which: 'all' | readonly string[]): Promise<QuarantinedPaths[]> {
    const entries = which === 'all' ? this.quarantined : which.flatMap((id) => this.#quarantine.get(id) ?? []);
    const released: QuarantinedPaths[] = [];
    for (const entry of entries) {
      if (!this.#quarantine.has(entry.id)) continue;
      const now = this.#now();
      const events = [{ id: randomUUID(), receivedAt: now }];
      const batch: Batch = {
        id: batchIdOf(entry.paths, events),
        createdAt: now,
        paths: [...entry.paths],
        events,
        sent: {},
        targets: [entry.distributionId],
        releases: [entry.id],
      };
      await this.#options.journal.append({ type: 'batch', ...batch });
      this.#quarantine.delete(entry.id);
      this.#batches.set(batch.id, batch);
      released.push(entry);
      this.#log.info(
        {
          quarantineId: entry.id,
          distributionId: entry.distributionId,
          batchId: batch.id,
          paths: entry.paths.slice(0, 20),
        },
        INVALIDATOR_LOG.quarantineReleased,
      );
      this.#options.onBatch(batch, false);
    }
    return released;
  }

  /** When the oldest event still waiting (open or in an unsent batch) was received. */
  oldestPendingAt(): number | undefined {
    let oldest: number | undefined;
    for (const event of [...this.#open, ...this.#deferred])
      oldest = Math.min(oldest ?? event.receivedAt, event.receivedAt);
    for (const batch of this.#batches.values()) {
      for (const event of batch.events) oldest = Math.min(oldest ?? event.receivedAt, event.receivedAt);
    }
    return oldest;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deferredTimer);
  }

  #isDone(batch: Batch): boolean {
    return (batch.targets ?? this.#options.distributionIds).every((id) => batch.sent[id] !== undefined);
  }

  #noteForEchoes(event: AcceptedEvent): void {
    if (event.plan.siteChanged) this.#echoes.noteSiteChanged(event.id, event.receivedAt);
    else if (event.event !== 'manual') {
      this.#echoes.noteContentChange(event.plan.entityId ?? event.id, event.event, event.receivedAt);
    }
  }

  #scheduleCut(at?: number): void {
    if (this.#closed || this.#open.length === 0) return;
    const due = at ?? this.#dueTime();
    if (this.#timer !== undefined && due >= this.#timerDue && at === undefined) {
      // The timer re-checks the due time when it fires: no need to re-arm it for every event.
      return;
    }
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, due - this.#now()));
  }

  /** Window after the last event, capped at max wait after the first; an unexplained site.changed waits out its echo window. */
  #dueTime(): number {
    const window = this.#window;
    let due = Math.min(window.lastAt + this.#options.windowMs, window.firstAt + this.#options.maxWaitMs);
    const waitingSince = this.#echoes.latestWaitingAt();
    if (waitingSince !== undefined) due = Math.max(due, waitingSince + this.#options.echoWindowMs);
    return Math.min(due, window.firstAt + this.#options.maxWaitMs);
  }

  /** Recomputes the open window's times after events were put back or restored (rare paths). */
  #measureWindow(): void {
    this.#window = { firstAt: Number.POSITIVE_INFINITY, lastAt: 0 };
    for (const event of this.#open) this.#widenWindow(event);
  }

  #widenWindow(event: AcceptedEvent): void {
    const window = this.#window;
    window.firstAt = Math.min(window.firstAt, event.receivedAt);
    window.lastAt = Math.max(window.lastAt, event.receivedAt);
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#open.length === 0) return;
    const due = this.#dueTime();
    if (due > this.#now()) {
      this.#timerDue = due;
      this.#timer = setTimeout(() => this.#onTimer(), due - this.#now());
      return;
    }
    void this.#cut();
  }

  #cut(): Promise<void> {
    this.#cutting = this.#cutting.then(() => this.#cutOpenWindow());
    return this.#cutting;
  }

  async #cutOpenWindow(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const events = this.#open;
    const everythingAllowed = this.#everythingAllowed();
    if ((events.length === 0 && !(everythingAllowed && this.#deferred.length > 0)) || this.#closed) return;
    this.#open = [];
    this.#measureWindow();
    const { limits } = this.#options;
    let everything = false;
    const paths: string[] = [];
    const included: AcceptedEvent[] = [];
    const lone: AcceptedEvent[] = [];
    for (const event of events) {
      if (event.plan.siteChanged && !this.#echoes.takeIsEcho(event.id)) {
        lone.push(event);
        continue;
      }
      everything ||= event.plan.everything;
      paths.push(...event.plan.paths);
      included.push(event);
    }
    const deferred = this.#deferred;
    if (lone.length + deferred.length > 0) {
      if (everything || everythingAllowed) {
        // This batch is `/*`: every lone site.changed waiting is covered by it.
        everything = true;
        included.push(...deferred, ...lone);
        this.#deferred = [];
      } else {
        this.#deferred = [...deferred, ...lone];
        this.#scheduleDeferred();
        if (lone.length > 0) {
          this.#log.info(
            { waiting: this.#deferred.length, lastEverythingAt: this.#lastEverythingAt },
            INVALIDATOR_LOG.siteChangedDeferred,
          );
        }
      }
    }
    const compacted = everything ? [limits.everything] : compactPaths(paths, limits);
    if (compacted.length === 0) {
      this.#log.debug({ events: included.length }, 'events changed no public path');
      await this.#maybeRewrite();
      return;
    }
    const batch: Batch = {
      id: batchIdOf(compacted, included),
      createdAt: this.#now(),
      paths: compacted,
      events: included.map(({ id, receivedAt }) => ({ id, receivedAt })),
      sent: {},
    };
    this.#batches.set(batch.id, batch);
    try {
      await this.#options.journal.append({ type: 'batch', ...batch });
    } catch (error) {
      // Sending a batch that is not on disk could send it twice after a crash: keep the events open.
      this.#batches.delete(batch.id);
      // Lone site.changed events go back to wait (their echo was decided); the rest stay open.
      const loneIds = new Set([...deferred, ...lone].map((event) => event.id));
      this.#deferred = [...this.#deferred, ...included.filter((event) => loneIds.has(event.id))];
      this.#open = [...included.filter((event) => !loneIds.has(event.id)), ...this.#open];
      this.#measureWindow();
      this.#log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.batchNotJournaled);
      this.#scheduleCut(this.#now() + this.#options.windowMs);
      this.#scheduleDeferred(this.#options.windowMs);
      return;
    }
    if (everything) this.#lastEverythingAt = this.#now();
    this.#options.onBatchCut?.(batch, included);
    this.#log.info(
      { batchId: batch.id, events: included.length, paths: batch.paths.length, everything },
      INVALIDATOR_LOG.batchCut,
    );
    this.#options.onBatch(batch, false);
  }

  /** Whether a lone `site.changed` may become `/*` now (the period since the last `/*` is over). */
  #everythingAllowed(): boolean {
    const interval = this.#options.siteChangedMinIntervalMs ?? 0;
    return this.#lastEverythingAt === undefined || this.#now() - this.#lastEverythingAt >= interval;
  }

  /** Cuts the waiting lone `site.changed` events into one `/*` once the period is over (and `minDelayMs` from now). */
  #scheduleDeferred(minDelayMs = 0): void {
    if (this.#closed || this.#deferred.length === 0 || this.#deferredTimer !== undefined) return;
    const due = Math.max(
      (this.#lastEverythingAt ?? 0) + (this.#options.siteChangedMinIntervalMs ?? 0),
      this.#now() + minDelayMs,
    );
    this.#deferredTimer = setTimeout(
      () => {
        this.#deferredTimer = undefined;
        void this.#cut().then(() => this.#scheduleDeferred());
      },
      Math.max(0, due - this.#now()),
    );
  }

  async #maybeRewrite(): Promise<void> {
    const idle = this.#open.length === 0 && this.#deferred.length === 0 && this.#batches.size === 0;
    if (!idle && this.#options.journal.bytes < JOURNAL_REWRITE_BYTES) return;
    try {
      await this.#options.journal.rewrite(() => this.#liveRecords());
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, INVALIDATOR_LOG.rewriteFailed);
    }
  }

  #liveRecords(): JournalRecord[] {
    return [
      ...[...this.#quarantine.values()].map((entry): JournalRecord => ({ type: 'quarantine', ...entry })),
      ...[...this.#batches.values()].map((batch): JournalRecord => ({ type: 'batch', ...batch })),
      ...[...this.#deferred, ...this.#open].map((event): JournalRecord => ({ type: 'event', ...event })),
    ];
  }
}

/** The CallerReference: the same batch (paths and events) always gets the same one. */
function batchIdOf(paths: readonly string[], events: readonly { id: string }[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(paths));
  for (const event of events) hash.update(`\n${event.id}`);
  return `ghost-ha-${hash.digest('hex').slice(0, 40)}`;
}

function quarantineIdOf(distributionId: string, batchId: string, paths: readonly string[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([distributionId, batchId, paths]))
    .digest('hex');
  return `q-${digest.slice(0, 20)}`;
}
