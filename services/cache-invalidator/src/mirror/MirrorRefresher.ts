import { type Logger, summarizeError } from '@ghost-ha/core';
import { MirrorBodyTooLargeError, MirrorFetchError } from '../errors.js';
import { Journal } from '../Journal.js';
import type { SitePaths } from '../sitePaths.js';
import { discoverPaths, isAssetPath, isSitemapPath } from './discoverPaths.js';
import { edgeRedirectsOf, RedirectsShapeError } from './edgeRedirectsOf.js';
import type { MirrorJournalRecord, RefreshJob } from './MirrorJournalRecord.js';
import type { MirrorStore } from './MirrorStore.js';
import { isEdgeFilePath, NOT_FOUND_PAGE_PATH, NOT_FOUND_PROBE_PATH, REDIRECTS_PATH } from './mirrorRules.js';
import type { PageFetcher, Validators } from './PageFetcher.js';

export interface MirrorRefresherOptions {
  /** Its own journal directory (not the invalidations' journal). */
  journalDir: string;
  store: MirrorStore;
  fetcher: PageFetcher;
  site: SitePaths;
  siteUrl: string;
  /** Pages fetched at once: bounds the load on Ghost. */
  concurrency: number;
  retry: { baseDelayMs: number; maxDelayMs: number };
  /** Failed fetches of one path, while the site itself answers, before the path is parked. */
  maxAttempts: number;
  /** How often parked paths are tried again. */
  parkedRetryMs: number;
  /**
   * How long after a batch its paths Ghost answered 404 (or 410) for are fetched once more (0:
   * never). Ghost sends a webhook as the change is saved and updates its routes (its URL service)
   * just after: a post published or renamed a moment ago can answer 404 to the first fetch, and no
   * later event would bring it into the mirror.
   */
  recheckGoneMs?: number;
  /** Largest share of the mirror's objects one job may remove (at least `MIN_REMOVALS_PER_JOB`). */
  maxRemoveShare: number;
  /**
   * Ghost's redirects as its Admin API downloads them (`GET /redirects/download/`), for the edge's
   * `/.ghost-redirects.json`; unset (no Admin API key): the mirror does not hold Ghost's redirects.
   */
  downloadRedirects?: () => Promise<string>;
  logger: Logger;
  now?: () => number;
  random?: () => number;
  /** Each path written or removed, for metrics and progress. */
  onPath?: (event: PathEvent) => void;
  onJobFinished?: (job: RefreshJob, stats: JobStats) => void;
  onError?: (kind: 'fetch' | 'store') => void;
  /** A job merged into a full crawl already queued. */
  onMerged?: (job: RefreshJob) => void;
}

export interface PathEvent {
  jobId: string;
  path: string;
  result: PathResult;
  done: number;
  known: number;
}

/**
 * What became of a path: `present` an asset the mirror already holds; `unchanged` Ghost answered
 * 304 to the stored copy's validators, or a page with the same bytes as the stored copy (not written); `refused` not the site, too large or a type the mirror does
 * not take (never stored, an older copy removed); `parked` kept failing while the site answered;
 * `guarded` a removal refused because the job already removed its share of the mirror; `kept` one of
 * the edge's own objects left as it is (the canary; redirects without an Admin API key; an answer
 * from Ghost that is not its 404 page or redirects).
 */
export type PathResult =
  | 'written'
  | 'removed'
  | 'personal'
  | 'present'
  | 'unchanged'
  | 'refused'
  | 'parked'
  | 'guarded'
  | 'kept';

export interface JobStats {
  written: number;
  removed: number;
  personal: number;
  refused: number;
  parked: number;
  guarded: number;
  durationMs: number;
}

/** A path set aside after `maxAttempts` failures while the site answered. */
export interface ParkedPath {
  path: string;
  since: number;
  reason: string;
}

/** Jobs worked on at once (sharing the `concurrency` page slots). */
const MAX_RUNNING_JOBS = 2;

/** A job may always remove this many objects, whatever the mirror's size. */
export const MIN_REMOVALS_PER_JOB = 20;

/** Finished job ids remembered (journaled) so a batch recovered after a restart is not refreshed twice. */
const REMEMBERED_FINISHED = 1000;
const REWRITE_BYTES = 4 * 1024 * 1024;

interface ActiveJob {
  job: RefreshJob;
  /** Path → what it led to, for paths already in the mirror as Ghost serves it. */
  done: Map<string, string[]>;
}

type Outcome = { result: PathResult; found: string[] };

/**
 * Keeps the static mirror in step with Ghost. Each job (an invalidation batch's paths, or a full
 * crawl) is journaled before it is acknowledged, each finished path is journaled as it lands, and a
 * job leaves the journal only once every path it leads to is in the mirror as Ghost serves it, or
 * parked. Two jobs run at once, sharing `concurrency` page slots (batches served first), one refresh
 * per path at a time; batches start before full crawls (a running crawl yields to a batch waiting for
 * a job slot, so a takedown never waits for a crawl), and a crawl queued behind another merges into it. A path that
 * fails `maxAttempts` times while the site itself answers is parked and tried again every
 * `parkedRetryMs`, so no page stops the mirror; Ghost or S3 being down is retried with backoff for as
 * long as it takes, on its own queue, so invalidations never wait. One job removes at most
 * `maxRemoveShare` of the mirror.
 */
export class MirrorRefresher {
  readonly #options: MirrorRefresherOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #journal: Journal<MirrorJournalRecord>;
  readonly #jobs: ActiveJob[] = [];
  readonly #finished: string[] = [];
  readonly #finishedSet = new Set<string>();
  /** Assets known to be in the mirror: an incremental refresh does not fetch them again. */
  readonly #assetsPresent = new Set<string>();
  readonly #parked = new Map<string, ParkedPath>();
  /** Objects under the prefix, from the last full listing (for the removal guard). */
  #mirrorSize: number | undefined;
  /** Per full crawl: the keys the mirror held when it began (to skip checks for what is not there). */
  readonly #listed = new WeakMap<RefreshJob, ReadonlySet<string>>();
  /** Jobs being worked on: at most MAX_RUNNING_JOBS, at most one of them a full crawl. */
  readonly #running = new Set<ActiveJob>();
  /** Pages in flight over every running job: at most `concurrency` (the load on Ghost). */
  #freeSlots: number;
  #slotWaiters: { priority: number; grant: () => void }[] = [];
  /** One fetch-and-store per path at a time, whichever job it belongs to, so writes land in fetch order. */
  readonly #pathLocks = new Map<string, Promise<void>>();
  #stopped = false;
  #idleWaiters: (() => void)[] = [];
  #sleepers = new Set<() => void>();
  #parkedTimer: NodeJS.Timeout | undefined;
  readonly #rechecks = new Set<NodeJS.Timeout>();

  private constructor(options: MirrorRefresherOptions, journal: Journal<MirrorJournalRecord>) {
    this.#options = options;
    this.#journal = journal;
    this.#log = options.logger.child({ module: 'MirrorRefresher' });
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#freeSlots = options.concurrency;
  }

  /** Opens the journal, resumes unfinished jobs and starts working. */
  static async start(options: MirrorRefresherOptions): Promise<MirrorRefresher> {
    const { journal, records } = await Journal.open<MirrorJournalRecord>(options.journalDir);
    const refresher = new MirrorRefresher(options, journal);
    refresher.#restore(records);
    await journal.rewrite(() => refresher.#liveRecords());
    if (refresher.#jobs.length > 0 || refresher.#parked.size > 0) {
      refresher.#log.info(
        {
          jobs: refresher.#jobs.length,
          pathsDone: refresher.#jobs.reduce((n, a) => n + a.done.size, 0),
          parked: refresher.#parked.size,
        },
        'resuming mirror refreshes found in the journal',
      );
    }
    refresher.#parkedTimer = setInterval(() => refresher.#retryParked(), options.parkedRetryMs);
    refresher.#parkedTimer.unref();
    refresher.#kick();
    return refresher;
  }

  /**
   * Journals a job (durable when this resolves); a job id already queued or finished is ignored, and
   * a full crawl is merged into a full crawl that is queued and not yet started.
   */
  async enqueue(job: RefreshJob): Promise<void> {
    if (this.#stopped) throw new Error('the mirror refresher is stopped');
    if (this.#finishedSet.has(job.id) || this.#jobs.some((active) => active.job.id === job.id)) return;
    if (job.everything) {
      const queued = this.#jobs.find((a) => a.job.everything && !this.#running.has(a) && a.done.size === 0);
      if (queued) {
        // The queued crawl has not fetched anything yet: it will see this change too.
        this.#remember(job.id);
        await this.#journal.append({ type: 'finished', jobId: job.id, at: this.#now() });
        this.#log.info({ jobId: job.id, into: queued.job.id }, 'mirror: full crawl merged into the one queued');
        this.#options.onMerged?.(job);
        return;
      }
    }
    const active: ActiveJob = { job, done: new Map() };
    this.#jobs.push(active);
    try {
      await this.#journal.append({ type: 'job', ...job });
    } catch (error) {
      this.#jobs.splice(this.#jobs.indexOf(active), 1);
      throw error;
    }
    this.#kick();
  }

  /** Jobs not yet finished, and when the oldest change among them happened. */
  get depth(): number {
    return this.#jobs.length;
  }

  oldestPendingAt(): number | undefined {
    return this.#jobs.reduce<number | undefined>(
      (oldest, a) => Math.min(oldest ?? a.job.changedAt, a.job.changedAt),
      undefined,
    );
  }

  hasFinished(jobId: string): boolean {
    return this.#finishedSet.has(jobId);
  }

  /** Paths set aside after failing `maxAttempts` times, oldest first. */
  parkedPaths(): ParkedPath[] {
    return [...this.#parked.values()].sort((a, b) => a.since - b.since);
  }

  /** Resolves true once no job is pending, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#jobs.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((waiter) => waiter !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idleWaiters.push(done);
    });
  }

  /** Stops taking paths; what is unfinished stays in the journal for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#parkedTimer);
    for (const timer of this.#rechecks) clearTimeout(timer);
    this.#rechecks.clear();
    for (const wake of this.#sleepers) wake();
    for (const waiter of this.#slotWaiters.splice(0)) waiter.grant();
    while (this.#running.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.#journal.close();
  }

  #restore(records: readonly MirrorJournalRecord[]): void {
    const byId = new Map<string, ActiveJob>();
    for (const record of records) {
      if (record.type === 'job') {
        const { type: _type, ...job } = record;
        if (!byId.has(job.id)) byId.set(job.id, { job, done: new Map() });
      } else if (record.type === 'done') {
        byId.get(record.jobId)?.done.set(record.path, record.found);
      } else if (record.type === 'parked') {
        this.#parked.set(record.path, { path: record.path, since: record.since, reason: record.reason });
      } else if (record.type === 'unparked') {
        this.#parked.delete(record.path);
      } else {
        byId.delete(record.jobId);
        this.#remember(record.jobId);
      }
    }
    this.#jobs.push(...byId.values());
  }

  #remember(jobId: string): void {
    if (this.#finishedSet.has(jobId)) return;
    this.#finished.push(jobId);
    this.#finishedSet.add(jobId);
    while (this.#finished.length > REMEMBERED_FINISHED) {
      const dropped = this.#finished.shift();
      if (dropped) this.#finishedSet.delete(dropped);
    }
  }

  #liveRecords(): MirrorJournalRecord[] {
    const records: MirrorJournalRecord[] = this.#finished.map((jobId) => ({ type: 'finished', jobId, at: 0 }));
    for (const parked of this.#parked.values()) records.push({ type: 'parked', ...parked });
    for (const active of this.#jobs) {
      records.push({ type: 'job', ...active.job });
      for (const [path, found] of active.done) records.push({ type: 'done', jobId: active.job.id, path, found });
    }
    return records;
  }

  /** Parked paths are tried again as one job, unless one is already waiting. */
  #retryParked(): void {
    if (this.#stopped || this.#parked.size === 0) return;
    if (this.#jobs.some((a) => a.job.source === 'retry')) return;
    const parked = this.parkedPaths();
    const at = this.#now();
    // Dated now: a parked path has its own alarm; the backlog age measures what is not parked.
    this.enqueue({
      id: `retry-${at}`,
      changedAt: at,
      paths: parked.map((p) => p.path),
      everything: false,
      source: 'retry',
    }).catch((error: unknown) =>
      this.#log.warn({ error: summarizeError(error) }, 'mirror: could not queue the parked paths again'),
    );
  }

  /**
   * Starts waiting jobs while fewer than MAX_RUNNING_JOBS run: batches (and parked retries) first, in
   * order; a full crawl only when no other crawl runs. Running jobs share `concurrency` page slots,
   * batches served first, so a slow file or a failing page in one job holds up no other job.
   */
  #kick(): void {
    while (!this.#stopped && this.#running.size < MAX_RUNNING_JOBS) {
      const next = this.#nextToStart();
      if (!next) break;
      this.#running.add(next);
      void this.#runToEnd(next).finally(() => {
        this.#running.delete(next);
        if (this.#jobs.length === 0) {
          const waiters = this.#idleWaiters;
          this.#idleWaiters = [];
          for (const waiter of waiters) waiter();
        }
        this.#kick();
      });
    }
  }

  #nextToStart(): ActiveJob | undefined {
    const waiting = this.#jobs.filter((a) => !this.#running.has(a));
    const batch = waiting.find((a) => !a.job.everything);
    if (batch) return batch;
    if ([...this.#running].some((a) => a.job.everything)) return undefined;
    return waiting[0];
  }

  /** A batch is waiting while a crawl runs: the crawl yields to it between two paths. */
  #batchWaiting(): boolean {
    return this.#jobs.some((a) => !a.job.everything && !this.#running.has(a));
  }

  async #runToEnd(active: ActiveJob): Promise<void> {
    const result = await this.#runJob(active);
    if (result !== 'finished') return;
    this.#jobs.splice(this.#jobs.indexOf(active), 1);
    this.#remember(active.job.id);
    try {
      await this.#journal.append({ type: 'finished', jobId: active.job.id, at: this.#now() });
      if (this.#jobs.length === 0 || this.#journal.bytes > REWRITE_BYTES) {
        await this.#journal.rewrite(() => this.#liveRecords());
      }
    } catch (error) {
      // The job is done; after a restart it would be redone once, which writes the same bytes.
      this.#log.error({ error: summarizeError(error), jobId: active.job.id }, 'could not journal a finished refresh');
    }
  }

  /** A page slot; batches (priority 0) are served before crawls (1), each in order of asking. */
  #acquireSlot(priority: number): Promise<void> {
    if (this.#freeSlots > 0 && this.#slotWaiters.length === 0) {
      this.#freeSlots--;
      return Promise.resolve();
    }
    return new Promise((grant) => {
      const at = this.#slotWaiters.findIndex((waiter) => waiter.priority > priority);
      this.#slotWaiters.splice(at < 0 ? this.#slotWaiters.length : at, 0, { priority, grant });
    });
  }

  #releaseSlot(): void {
    const next = this.#slotWaiters.shift();
    if (next) next.grant();
    else this.#freeSlots++;
  }

  /** Runs `call` holding the path's lock: another job's refresh of the same path finishes first. */
  async #withPathLock<T>(path: string, call: () => Promise<T>): Promise<T> {
    for (let held = this.#pathLocks.get(path); held; held = this.#pathLocks.get(path)) await held;
    let unlock = () => {};
    this.#pathLocks.set(path, new Promise<void>((resolve) => (unlock = resolve)));
    try {
      return await call();
    } finally {
      this.#pathLocks.delete(path);
      unlock();
    }
  }

  /** Runs a job to the end, until stopped, or (a full crawl) until a batch is waiting. */
  async #runJob(active: ActiveJob): Promise<'finished' | 'stopped' | 'yielded'> {
    const { job } = active;
    const started = this.#now();
    const stats: JobStats = { written: 0, removed: 0, personal: 0, refused: 0, parked: 0, guarded: 0, durationMs: 0 };
    const removals = { allowed: Number.POSITIVE_INFINITY, warned: false };
    const seen = new Set<string>();
    const pending: string[] = [];
    /** Paths of a batch Ghost answered 404 or 410 for: fetched once more a moment later. */
    const gone: string[] = [];
    const add = (path: string) => {
      if (seen.has(path)) return;
      if (!isEdgeFilePath(path) && this.#options.fetcher.problemWith(path) !== undefined) return;
      seen.add(path);
      pending.push(path);
    };
    const seeds = await this.#seeds(job, stats);
    if (seeds === undefined) return 'stopped';
    removals.allowed = await this.#removalAllowance();
    for (const path of seeds) add(path);
    // Resuming: what finished paths led to is known without fetching them again.
    for (const found of active.done.values()) for (const path of found) add(path);

    let yielded = false;
    let inFlight = 0;
    let waiting: (() => void)[] = [];
    const wakeAll = () => {
      const woken = waiting;
      waiting = [];
      for (const wake of woken) wake();
    };
    const workers: Promise<void>[] = [];
    const worker = async () => {
      for (;;) {
        if (this.#stopped || yielded) return;
        if (job.everything && this.#batchWaiting()) {
          yielded = true;
          wakeAll();
          return;
        }
        const path = pending.shift();
        if (path === undefined) {
          if (inFlight === 0) {
            wakeAll();
            return;
          }
          await new Promise<void>((resolve) => waiting.push(resolve));
          continue;
        }
        if (active.done.has(path)) continue;
        inFlight++;
        await this.#acquireSlot(job.everything ? 1 : 0);
        try {
          if (this.#stopped) return;
          const outcome = await this.#withPathLock(path, () => this.#refreshPath(job, path, stats, removals));
          if (outcome === undefined) {
            wakeAll();
            return;
          }
          for (const next of outcome.found) add(next);
          if (job.source === 'batch' && outcome.result === 'removed') gone.push(path);
          active.done.set(path, outcome.found);
          await this.#journal
            .append({ type: 'done', jobId: job.id, path, found: outcome.found })
            .catch((error: unknown) =>
              this.#log.warn({ error: summarizeError(error), path }, 'could not journal a refreshed path'),
            );
          this.#options.onPath?.({
            jobId: job.id,
            path,
            result: outcome.result,
            done: active.done.size,
            known: seen.size,
          });
        } finally {
          this.#releaseSlot();
          inFlight--;
          wakeAll();
        }
      }
    };
    for (let i = 0; i < this.#options.concurrency; i++) workers.push(worker());
    await Promise.all(workers);
    if (this.#stopped) return 'stopped';
    if (yielded) {
      this.#log.info({ jobId: job.id, pathsDone: active.done.size }, 'mirror: full crawl yields to a waiting batch');
      return 'yielded';
    }
    stats.durationMs = this.#now() - started;
    this.#log.info({ jobId: job.id, source: job.source, paths: active.done.size, ...stats }, 'mirror refreshed');
    this.#options.onJobFinished?.(job, stats);
    this.#recheckLater(job, gone);
    return 'finished';
  }

  /** A job of the batch's gone paths, once `recheckGoneMs` has passed (lost with a restart meanwhile). */
  #recheckLater(job: RefreshJob, gone: readonly string[]): void {
    const delay = this.#options.recheckGoneMs ?? 0;
    if (gone.length === 0 || delay <= 0) return;
    const timer = setTimeout(() => {
      this.#rechecks.delete(timer);
      if (this.#stopped) return;
      const recheck: RefreshJob = {
        id: `${job.id}-recheck`,
        changedAt: job.changedAt,
        paths: [...gone],
        everything: false,
        source: 'recheck',
      };
      this.enqueue(recheck).catch((error: unknown) =>
        this.#log.warn({ error: summarizeError(error), jobId: recheck.id }, 'mirror: could not queue a recheck'),
      );
    }, delay);
    timer.unref();
    this.#rechecks.add(timer);
  }

  /**
   * The paths a job starts from: its own, what the mirror holds under its wildcards, and for
   * everything the site's entry points. A listed object at a path the mirror no longer takes
   * (`//host`, encoded slashes, over-long) is removed by its key. Undefined when stopped.
   */
  async #seeds(job: RefreshJob, stats: JobStats): Promise<string[] | undefined> {
    const site = this.#options.site;
    const store = this.#options.store;
    const seeds: string[] = [];
    const wildcards: string[] = [];
    const paths = job.everything ? [site.everything] : job.paths;
    for (const path of paths) {
      if (path.endsWith('*')) wildcards.push(path.slice(0, -1));
      else seeds.push(path);
    }
    // The batch's own pages first (the post itself), then the listings its wildcards cover.
    for (const prefix of wildcards) {
      if (prefix === site.at('/')) {
        // Everything: the entry points from which sitemaps and listings lead to every page.
        seeds.push(
          site.at('/'),
          site.at('/rss/'),
          site.at('/sitemap.xml'),
          site.at('/sitemap.xsl'),
          site.at('/robots.txt'),
          // Browsers ask for it whether a page names it or not (Ghost names no icon until one is set).
          site.at('/favicon.ico'),
          // The edge's 404 page and redirects, with everything (a theme change is a site change).
          NOT_FOUND_PAGE_PATH,
          REDIRECTS_PATH,
        );
      } else if (prefix.endsWith('/')) {
        seeds.push(prefix);
        if (/\/(tag|author)\/[^/]+\/$/.test(prefix)) seeds.push(`${prefix}rss/`);
      }
      // What the mirror holds under the wildcard is checked again: removed pages and listing pages
      // past the new end then leave the mirror.
      const keys = await this.#retrying(`listing ${prefix}`, 'store', () => store.listKeys(prefix));
      if (keys === undefined) return undefined;
      if (prefix === site.at('/')) {
        this.#mirrorSize = keys.length;
        this.#listed.set(job, new Set(keys));
      }
      for (const key of keys) {
        const path = store.pathOf(key);
        // The edge's own objects are refreshed from their sources above, never as pages (Ghost answers 404 for them).
        if (isEdgeFilePath(path)) continue;
        if (this.#options.fetcher.problemWith(path) === undefined) {
          seeds.push(path);
          continue;
        }
        const removed = await this.#retrying(`removing ${key}`, 'store', () => store.deleteKey(key).then(() => true));
        if (removed === undefined) return undefined;
        stats.refused++;
        this.#log.warn({ key }, 'mirror: removed an object at a path the mirror does not take');
      }
    }
    return seeds;
  }

  /** Whether a full crawl's listing of the mirror, taken at its start, lacked this path's key. */
  #knownAbsent(job: RefreshJob, path: string): boolean {
    const listed = this.#listed.get(job);
    return listed !== undefined && !listed.has(this.#options.store.keyOf(path));
  }

  /** How many objects one job may remove: `maxRemoveShare` of the mirror, at least MIN_REMOVALS_PER_JOB. */
  async #removalAllowance(): Promise<number> {
    if (this.#mirrorSize === undefined) {
      const keys = await this.#retrying('counting the mirror', 'store', () =>
        this.#options.store.listKeys(this.#options.site.at('/')),
      );
      this.#mirrorSize = keys?.length;
    }
    return Math.max(MIN_REMOVALS_PER_JOB, Math.floor((this.#mirrorSize ?? 0) * this.#options.maxRemoveShare));
  }

  /** Fetches one path and brings the mirror in line; undefined when the refresher stopped. */
  async #refreshPath(
    job: RefreshJob,
    path: string,
    stats: JobStats,
    removals: { allowed: number; warned: boolean },
  ): Promise<Outcome | undefined> {
    if (isEdgeFilePath(path)) return this.#refreshEdgeFile(job, path, stats);
    const relative = path.slice(this.#options.site.base.length);
    const asset = isAssetPath(relative);
    let conditional: Validators | undefined;
    if (asset) {
      if (!job.everything && this.#assetsPresent.has(path)) return { result: 'present', found: [] };
      const stored = this.#knownAbsent(job, path)
        ? { validators: undefined }
        : await this.#retrying(`checking ${path}`, 'store', () =>
            this.#options.store.head(path).then((validators) => ({ validators })),
          );
      if (stored === undefined) return undefined;
      if (stored.validators !== undefined) {
        this.#assetsPresent.add(path);
        // An incremental refresh trusts the copy; a full crawl asks Ghost whether it changed.
        if (!job.everything) return { result: 'present', found: [] };
        if (stored.validators.etag || stored.validators.lastModified) conditional = stored.validators;
      }
    }
    const outcome = await this.#attempting(job, path, () =>
      this.#fetchAndStore(job, path, conditional, stats, removals),
    );
    if (outcome === undefined) return undefined;
    if (outcome.result === 'parked') stats.parked++;
    else if (this.#parked.delete(path)) {
      await this.#journal.append({ type: 'unparked', path }).catch(() => undefined);
      this.#log.info({ path }, 'mirror: a parked path is refreshed again');
    }
    return outcome;
  }

  /**
   * One of the edge's own objects: Ghost's themed 404 page (what Ghost answers, status 404, for a path
   * that does not exist), Ghost's redirects (from its Admin API, in the edge's form), or the canary
   * (left alone). An answer that is not what the edge needs leaves the mirror's copy as it is.
   */
  async #refreshEdgeFile(job: RefreshJob, path: string, stats: JobStats): Promise<Outcome | undefined> {
    const kept: Outcome = { result: 'kept', found: [] };
    if (path === NOT_FOUND_PAGE_PATH) {
      const source = this.#options.site.at(NOT_FOUND_PROBE_PATH);
      return this.#attempting(job, path, async () => {
        const outcome = await this.#options.fetcher.fetchNotFoundPage(source);
        if (outcome.kind !== 'page') {
          const reason = 'reason' in outcome ? outcome.reason : outcome.kind;
          this.#log.warn({ path: source, reason }, "mirror: Ghost's 404 page not stored; the mirror's copy stays");
          return kept;
        }
        const knownAbsent = this.#knownAbsent(job, path);
        const written = await this.#retrying(`writing ${path}`, 'store', () =>
          this.#options.store.putIfChanged(path, outcome, { knownAbsent }),
        );
        if (written === undefined) return undefined;
        if (written) stats.written++;
        // The theme's CSS, fonts and images the page loads.
        const found = discoverPaths(
          source,
          outcome.body,
          outcome.contentType,
          this.#options.site,
          this.#options.siteUrl,
        );
        return {
          result: written ? 'written' : 'unchanged',
          found: found.filter((next) => isAssetPath(next.slice(this.#options.site.base.length))),
        };
      });
    }
    if (path === REDIRECTS_PATH) {
      const download = this.#options.downloadRedirects;
      if (!download) {
        this.#log.info(
          "mirror: neither MIRROR_GHOST_CONTENT_PATH nor an Admin API key is set: Ghost's redirects are not mirrored",
        );
        return kept;
      }
      return this.#attempting(job, path, async () => {
        let text: string;
        try {
          text = await download();
        } catch (error) {
          if (error instanceof RedirectsShapeError) {
            this.#log.error(
              { error: summarizeError(error) },
              "mirror: Ghost's redirects not stored; the mirror's copy stays",
            );
            return kept;
          }
          throw new MirrorFetchError(path, "Ghost's redirects could not be read", { cause: error });
        }
        let redirects: ReturnType<typeof edgeRedirectsOf>;
        try {
          redirects = edgeRedirectsOf(text);
        } catch (error) {
          this.#log.error(
            { error: summarizeError(error) },
            "mirror: Ghost's redirects not stored; the mirror's copy stays",
          );
          return kept;
        }
        if (redirects.skipped.length > 0) {
          this.#log.warn(
            { skipped: redirects.skipped.slice(0, 20) },
            'mirror: redirects the edge cannot apply as Ghost does are left out',
          );
        }
        const body = Buffer.from(JSON.stringify(redirects.table));
        const knownAbsent = this.#knownAbsent(job, path);
        const written = await this.#retrying(`writing ${path}`, 'store', () =>
          this.#options.store.putIfChanged(
            path,
            { body, contentType: 'application/json', cacheControl: 'public, max-age=0', validators: {} },
            { knownAbsent },
          ),
        );
        if (written === undefined) return undefined;
        if (written) stats.written++;
        return { result: written ? 'written' : 'unchanged', found: [] };
      });
    }
    return kept;
  }

  /** One fetch of a path and what the mirror does with the answer. */
  async #fetchAndStore(
    job: RefreshJob,
    path: string,
    conditional: Validators | undefined,
    stats: JobStats,
    removals: { allowed: number; warned: boolean },
  ): Promise<Outcome | undefined> {
    const relative = path.slice(this.#options.site.base.length);
    const store = this.#options.store;
    const outcome = await this.#options.fetcher.fetch(path, conditional);
    if (outcome.kind === 'unchanged') return { result: 'unchanged', found: [] };
    if (outcome.kind === 'file') {
      // Streamed from Ghost into the bucket; a failure on either side retries the whole file.
      let written: boolean;
      try {
        ({ written } = await store.putStream(path, outcome, outcome.file, {
          knownAbsent: this.#knownAbsent(job, path),
        }));
      } catch (error) {
        if (!(error instanceof MirrorBodyTooLargeError)) throw error;
        return this.#remove(path, 'refused', error.message, stats, removals);
      }
      if (isAssetPath(relative)) this.#assetsPresent.add(path);
      if (written) stats.written++;
      return { result: written ? 'written' : 'unchanged', found: [] };
    }
    if (outcome.kind === 'page') {
      // The same bytes as the mirror's copy (a full crawl re-fetches every page) are not written again.
      const knownAbsent = this.#knownAbsent(job, path);
      const written = await this.#retrying(`writing ${path}`, 'store', () =>
        store.putIfChanged(path, outcome, { knownAbsent }),
      );
      if (written === undefined) return undefined;
      if (isAssetPath(relative)) this.#assetsPresent.add(path);
      if (written) stats.written++;
      const found = discoverPaths(path, outcome.body, outcome.contentType, this.#options.site, this.#options.siteUrl);
      // Pages of an incremental refresh lead only to assets and listing pages; sitemaps lead to
      // every page, which only a full crawl follows.
      const kept = job.everything || !isSitemapPath(relative) ? found : [];
      return { result: written ? 'written' : 'unchanged', found: kept };
    }
    if (outcome.kind === 'personal') return this.#remove(path, 'personal', outcome.reason, stats, removals);
    if (outcome.kind === 'refused') return this.#remove(path, 'refused', outcome.reason, stats, removals);
    const removed = await this.#remove(path, 'removed', `Ghost answered ${outcome.status}`, stats, removals);
    // A redirect within the site leads to its target, fetched as its own path.
    return removed && outcome.location ? { ...removed, found: [outcome.location] } : removed;
  }

  /** Removes a path's object (within the job's removal allowance). */
  async #remove(
    path: string,
    result: 'removed' | 'personal' | 'refused',
    reason: string,
    stats: JobStats,
    removals: { allowed: number; warned: boolean },
  ): Promise<Outcome | undefined> {
    if (isEdgeFilePath(path)) return { result: 'kept', found: [] };
    if (stats.removed + stats.personal + stats.refused >= removals.allowed) {
      stats.guarded++;
      if (!removals.warned) {
        removals.warned = true;
        this.#log.error(
          { path, allowed: removals.allowed, mirrorSize: this.#mirrorSize },
          'mirror: refusing to remove more of the mirror in one job; the rest stays until a person looks',
        );
      }
      return { result: 'guarded', found: [] };
    }
    const removed = await this.#retrying(`removing ${path}`, 'store', () =>
      this.#options.store.delete(path).then(() => true),
    );
    if (removed === undefined) return undefined;
    this.#assetsPresent.delete(path);
    if (result === 'personal') {
      stats.personal++;
      this.#log.warn({ path, reason }, 'not mirrored: the answer is personal');
    } else if (result === 'refused') {
      stats.refused++;
      this.#log.warn({ path, reason }, 'not mirrored: refused');
    } else {
      stats.removed++;
    }
    if (this.#mirrorSize !== undefined) this.#mirrorSize = Math.max(0, this.#mirrorSize - 1);
    return { result, found: [] };
  }

  /**
   * Runs one path's fetch until it works. A failing fetch counts an attempt; after `maxAttempts`,
   * if the site itself still answers (`/robots.txt`, or `/` for that path), the path is parked; while
   * the site does not answer, Ghost is down and the path is retried as long as it takes. A 503 or
   * 429 (Ghost or its gate unavailable or busy), and store failures (S3 down), are retried without
   * counting: no path is to blame.
   */
  async #attempting(
    job: RefreshJob,
    path: string,
    call: () => Promise<Outcome | undefined>,
  ): Promise<Outcome | undefined> {
    const { baseDelayMs, maxDelayMs } = this.#options.retry;
    let failures = 0;
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        return await call();
      } catch (error) {
        const kind = error instanceof MirrorFetchError ? 'fetch' : 'store';
        this.#options.onError?.(kind);
        const countsAgainstPath = kind === 'fetch' && !(error as MirrorFetchError).siteUnavailable;
        if (countsAgainstPath && ++failures >= this.#options.maxAttempts) {
          if (await this.#siteAnswers(path)) return this.#park(job, path, error);
        }
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt, 20)) * (0.75 + this.#random() * 0.5);
        this.#log[attempt === 0 ? 'warn' : 'debug'](
          { error: summarizeError(error), path, attempt, retryInMs: Math.round(delay) },
          `mirror: refreshing ${path} failed; retrying`,
        );
        await this.#sleep(delay);
      }
    }
    return undefined;
  }

  async #siteAnswers(failing: string): Promise<boolean> {
    const site = this.#options.site;
    const probe = failing === site.at('/robots.txt') ? site.at('/') : site.at('/robots.txt');
    try {
      const outcome = await this.#options.fetcher.fetch(probe);
      if (outcome.kind === 'file') await outcome.file.cancel();
      return true;
    } catch {
      return false;
    }
  }

  async #park(job: RefreshJob, path: string, error: unknown): Promise<Outcome> {
    const reason = summarizeError(error).message;
    const parked: ParkedPath = { path, since: this.#parked.get(path)?.since ?? this.#now(), reason };
    this.#parked.set(path, parked);
    await this.#journal.append({ type: 'parked', ...parked }).catch(() => undefined);
    this.#log.error(
      { path, jobId: job.id, attempts: this.#options.maxAttempts, reason },
      'mirror: a path keeps failing while the site answers; parked',
    );
    return { result: 'parked', found: [] };
  }

  /** Runs `call` until it succeeds (its value) or the refresher stops (undefined), backing off with jitter. */
  async #retrying<T>(what: string, kind: 'fetch' | 'store', call: () => Promise<T>): Promise<T | undefined> {
    const { baseDelayMs, maxDelayMs } = this.#options.retry;
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        return await call();
      } catch (error) {
        this.#options.onError?.(kind);
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt, 20)) * (0.75 + this.#random() * 0.5);
        this.#log[attempt === 0 ? 'warn' : 'debug'](
          { error: summarizeError(error), attempt, retryInMs: Math.round(delay) },
          `mirror: ${what} failed; retrying`,
        );
        await this.#sleep(delay);
      }
    }
    return undefined;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }
}
