import { type Logger, summarizeError } from '@ghost-ha/core';
import { Journal } from '../Journal.js';
import type { SitePaths } from '../sitePaths.js';
import { discoverPaths, isAssetPath, isSitemapPath } from './discoverPaths.js';
import type { MirrorJournalRecord, RefreshJob } from './MirrorJournalRecord.js';
import type { MirrorStore } from './MirrorStore.js';
import { isMirrorablePath } from './mirrorRules.js';
import type { PageFetcher } from './PageFetcher.js';

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
  logger: Logger;
  now?: () => number;
  random?: () => number;
  /** Each path written or removed, for metrics and progress. */
  onPath?: (event: PathEvent) => void;
  onJobFinished?: (job: RefreshJob, stats: JobStats) => void;
  onError?: (kind: 'fetch' | 'store') => void;
}

export interface PathEvent {
  jobId: string;
  path: string;
  result: 'written' | 'removed' | 'personal' | 'present';
  done: number;
  known: number;
}

export interface JobStats {
  written: number;
  removed: number;
  personal: number;
  durationMs: number;
}

/** Finished job ids remembered (journaled) so a batch recovered after a restart is not refreshed twice. */
const REMEMBERED_FINISHED = 1000;
const REWRITE_BYTES = 4 * 1024 * 1024;

interface ActiveJob {
  job: RefreshJob;
  /** Path → what it led to, for paths already in the mirror as Ghost serves them. */
  done: Map<string, string[]>;
}

/**
 * Keeps the static mirror in step with Ghost. Each job (an invalidation batch's paths, or a full
 * build) is journaled before it is acknowledged, each finished path is journaled as it lands, and a
 * job leaves the journal only once every path it leads to is in the mirror as Ghost serves it. Jobs
 * run one at a time, in order, with `concurrency` pages in flight; an unavailable Ghost or S3 is
 * retried with backoff for as long as it takes, on its own queue, so invalidations never wait.
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
  #running = false;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];
  #sleepers = new Set<() => void>();

  private constructor(options: MirrorRefresherOptions, journal: Journal<MirrorJournalRecord>) {
    this.#options = options;
    this.#journal = journal;
    this.#log = options.logger.child({ module: 'MirrorRefresher' });
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Opens the journal, resumes unfinished jobs and starts working. */
  static async start(options: MirrorRefresherOptions): Promise<MirrorRefresher> {
    const { journal, records } = await Journal.open<MirrorJournalRecord>(options.journalDir);
    const refresher = new MirrorRefresher(options, journal);
    refresher.#restore(records);
    await journal.rewrite(() => refresher.#liveRecords());
    if (refresher.#jobs.length > 0) {
      refresher.#log.info(
        { jobs: refresher.#jobs.length, pathsDone: refresher.#jobs.reduce((n, a) => n + a.done.size, 0) },
        'resuming mirror refreshes found in the journal',
      );
    }
    refresher.#kick();
    return refresher;
  }

  /** Journals a job (durable when this resolves); a job id already queued or finished is ignored. */
  async enqueue(job: RefreshJob): Promise<void> {
    if (this.#stopped) throw new Error('the mirror refresher is stopped');
    if (this.#finishedSet.has(job.id) || this.#jobs.some((active) => active.job.id === job.id)) return;
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
    for (const wake of this.#sleepers) wake();
    while (this.#running) await new Promise((resolve) => setTimeout(resolve, 20));
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
    for (const active of this.#jobs) {
      records.push({ type: 'job', ...active.job });
      for (const [path, found] of active.done) records.push({ type: 'done', jobId: active.job.id, path, found });
    }
    return records;
  }

  #kick(): void {
    if (this.#running || this.#stopped || this.#jobs.length === 0) return;
    this.#running = true;
    void this.#work().finally(() => {
      this.#running = false;
      if (this.#jobs.length === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const waiter of waiters) waiter();
      } else {
        this.#kick();
      }
    });
  }

  async #work(): Promise<void> {
    while (!this.#stopped) {
      const active = this.#jobs[0];
      if (!active) return;
      const finished = await this.#runJob(active);
      if (!finished) return;
      this.#jobs.shift();
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
  }

  /** Runs a job to the end (true), or until stopped (false). */
  async #runJob(active: ActiveJob): Promise<boolean> {
    const { job } = active;
    const started = this.#now();
    const stats: JobStats = { written: 0, removed: 0, personal: 0, durationMs: 0 };
    const seen = new Set<string>();
    const pending: string[] = [];
    const add = (path: string) => {
      if (seen.has(path)) return;
      const relative = path.slice(this.#options.site.base.length);
      if (!isMirrorablePath(relative)) return;
      seen.add(path);
      pending.push(path);
    };
    for (const path of await this.#seeds(job)) add(path);
    // Resuming: what finished paths led to is known without fetching them again.
    for (const found of active.done.values()) for (const path of found) add(path);

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
        if (this.#stopped) return;
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
        try {
          const outcome = await this.#refreshPath(job, path, stats);
          if (outcome === undefined) {
            wakeAll();
            return;
          }
          for (const next of outcome.found) add(next);
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
          inFlight--;
          wakeAll();
        }
      }
    };
    for (let i = 0; i < this.#options.concurrency; i++) workers.push(worker());
    await Promise.all(workers);
    if (this.#stopped) return false;
    stats.durationMs = this.#now() - started;
    this.#log.info({ jobId: job.id, source: job.source, paths: active.done.size, ...stats }, 'mirror refreshed');
    this.#options.onJobFinished?.(job, stats);
    return true;
  }

  /** The paths a job starts from: its own, what the mirror holds under its wildcards, and for everything the site's entry points. */
  async #seeds(job: RefreshJob): Promise<string[]> {
    const site = this.#options.site;
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
        );
      } else if (prefix.endsWith('/')) {
        seeds.push(prefix);
        if (/\/(tag|author)\/[^/]+\/$/.test(prefix)) seeds.push(`${prefix}rss/`);
      }
      // What the mirror holds under the wildcard is checked again: removed pages and listing pages
      // past the new end then leave the mirror.
      seeds.push(
        ...((await this.#retrying(`listing ${prefix}`, 'store', () => this.#options.store.list(prefix))) ?? []),
      );
    }
    return seeds;
  }

  /** Fetches one path and brings the mirror in line; retried until it works or the refresher stops. */
  async #refreshPath(
    job: RefreshJob,
    path: string,
    stats: JobStats,
  ): Promise<{ result: PathEvent['result']; found: string[] } | undefined> {
    const relative = path.slice(this.#options.site.base.length);
    const asset = isAssetPath(relative);
    if (asset && !job.everything) {
      const present =
        this.#assetsPresent.has(path) ||
        (await this.#retrying(`checking ${path}`, 'store', () => this.#options.store.has(path)));
      if (present === undefined) return undefined;
      if (present) {
        this.#assetsPresent.add(path);
        return { result: 'present', found: [] };
      }
    }
    const outcome = await this.#retrying(`fetching ${path}`, 'fetch', () => this.#options.fetcher.fetch(path));
    if (outcome === undefined) return undefined;
    const store = this.#options.store;
    if (outcome.kind === 'page') {
      const stored = await this.#retrying(`writing ${path}`, 'store', () => store.put(path, outcome).then(() => true));
      if (stored === undefined) return undefined;
      if (asset) this.#assetsPresent.add(path);
      stats.written++;
      const found = discoverPaths(path, outcome.body, outcome.contentType, this.#options.site, this.#options.siteUrl);
      // Pages of an incremental refresh lead only to assets and listing pages; sitemaps lead to
      // every page, which only a full build follows.
      const kept = job.everything || !isSitemapPath(relative) ? found : [];
      return { result: 'written', found: kept };
    }
    const removed = await this.#retrying(`removing ${path}`, 'store', () => store.delete(path).then(() => true));
    if (removed === undefined) return undefined;
    this.#assetsPresent.delete(path);
    if (outcome.kind === 'personal') {
      stats.personal++;
      this.#log.warn({ path, reason: outcome.reason }, 'not mirrored: the answer is personal');
      return { result: 'personal', found: [] };
    }
    stats.removed++;
    return { result: 'removed', found: [] };
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
