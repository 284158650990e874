import { type Check, errorReason, type Logger, type Observation, summarizeError } from '@ghost-ha/core';
import type { Connection } from 'mysql2/promise';
import { boundedQuery, destroyConnection } from './boundedQuery.js';
import type { FencingSettings, LockSettings } from './config.js';
import type { DatabaseConnector } from './DatabaseConnector.js';
import { FencedError, LockLostError, ReadOnlyServerError } from './errors.js';
import { Lease, type LeaseRecord, takeoverReason } from './Lease.js';
import type { SidecarMetrics } from './SidecarMetrics.js';
import { SIDECAR_LOG } from './signals.js';

/**
 * - `standby`: another task's Ghost may run; this one waits for the lock and for the lease to be free.
 * - `holding`: lock held on a live connection and the lease is ours, renewed every interval.
 * - `regaining`: the lock connection dropped (database restart, failover, KILL); Ghost keeps running
 *   while this task takes the lock back, for at most the fencing patience.
 * - `fenced`: another holder took over, or the patience ran out: this task's Ghost must stop.
 * - `released`: shut down.
 */
export type SingletonState = 'standby' | 'holding' | 'regaining' | 'fenced' | 'released';

export interface SingletonLockOptions {
  settings: LockSettings;
  fencing: FencingSettings;
  /** This process as a lease holder (see `resolveHolderId`). */
  holder: string;
  /** Opens connections (a `DatabaseConnector`; the simulation passes its own). */
  connector: Pick<DatabaseConnector, 'open'>;
  /** How often the holder renews its lease and verifies its lock. */
  checkIntervalMs: number;
  /** Time limit of every statement on the lock connection. */
  queryTimeoutMs: number;
  metrics: SidecarMetrics;
  logger: Logger;
  /** Monotonic milliseconds. */
  now?: () => number;
  /** This task took the lease: its Ghost may start now. */
  onTakeover?: () => void;
  /** This task's Ghost must stop: the sidecar exits so that ECS stops the task. */
  onFenced: (error: FencedError) => void;
  /** `deadline` changed (renewed, or no Ghost may run any more). */
  onDeadline?: (deadline: number | undefined) => void;
  /**
   * Evidence that a lease holder's Ghost has stopped (ECS says its task is `STOPPED`, see
   * `HolderTaskStatus`): true lets a standby take a live or unexpired lease at once. Any doubt is
   * false, and the lease's TTL applies. Absent: time only.
   */
  holderStopped?: (holder: string) => Promise<boolean>;
}

/** How often a standby asks ECS about a holder that missed a renewal. */
const OVERDUE_POLL_MS = 1_000;

/** How long a polite goodbye (lease note, RELEASE_LOCK) may take before the connection is simply closed. */
const RELEASE_TIMEOUT_MS = 2_000;

interface LockRow {
  holder: number | string | null;
  me: number | string;
}

/**
 * "One Ghost per database": a MySQL named lock (`GET_LOCK`) on a dedicated connection, and a lease
 * row beside it (see the README's "Fencing"). The lock decides who may write the lease; the lease
 * decides whose Ghost may run. A holder renews the lease every interval on the database clock; a
 * new holder lets its Ghost start only once the previous holder recorded that its Ghost stopped or
 * its lease is older than its TTL. A holder that drops its connection takes the lock back and, if
 * the lease is still its own, keeps Ghost running; if it cannot renew within its patience, or finds
 * the lease taken, it is fenced (the sidecar exits and ECS stops the task, Ghost with it).
 */
export class SingletonLock {
  readonly #options: SingletonLockOptions;
  readonly #log: Logger;
  readonly #lease: Lease;
  readonly #now: () => number;
  #state: SingletonState = 'standby';
  /** Holds the named lock; only lock statements run on it, so blocked writes never touch the lock. */
  #connection: Connection | undefined;
  /** Reads and writes the lease; a write that hangs (writes blocked) is cut here, the lock stays. */
  #leaseConnection: Connection | undefined;
  /** Set while renewals fail with the lock still held: since when, and why. */
  #renewFailing: { since: number; reason: string } | undefined;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #fenceTimer: NodeJS.Timeout | undefined;
  /** Monotonic time the last successful renewal was sent (never later than the database's heartbeat). */
  #renewedAt: number | undefined;
  #lostAt: number | undefined;
  #holderInfo = '';
  #lastProblem = '';
  #waitingFor = '';
  /** The fencing token of our lease while we hold it (see `Lease`). */
  #epoch: number | undefined;
  /** The server's id of the lock session (`CONNECTION_ID()`), named by every lease write. */
  #lockConnectionId: number | undefined;
  /** One heartbeat of another holder as this standby watches it age (a database clock step shows here). */
  #observed:
    | { holder: string; epoch: number; heartbeat: number; since: number; firstAgeMs: number; stepped: boolean }
    | undefined;
  /** The lease (holder and epoch) whose task ECS reported stopped, read before this task took the lock. */
  #stoppedEvidence: { holder: string; epoch: number } | undefined;

  constructor(options: SingletonLockOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#log = options.logger.child({ module: 'SingletonLock', lock: options.settings.name, holder: options.holder });
    this.#lease = new Lease({
      name: options.settings.name,
      holder: options.holder,
      ttlMs: options.fencing.leaseTtlMs,
      timeoutMs: options.queryTimeoutMs,
    });
    options.metrics.readLeaseAgeFrom(() =>
      this.#renewedAt === undefined || !this.mayRunGhost ? undefined : (this.#now() - this.#renewedAt) / 1000,
    );
  }

  /** True while the lock is held on a live connection and the lease is ours. */
  get held(): boolean {
    return this.#state === 'holding';
  }

  /** True while this task's Ghost may run: holding, or taking the lock back within the patience. */
  get mayRunGhost(): boolean {
    return this.#state === 'holding' || this.#state === 'regaining';
  }

  get state(): SingletonState {
    return this.#state;
  }

  /**
   * While this task's Ghost may run: the monotonic time its patience runs out (last successful
   * renewal + patience), the moment the sidecar must be gone. The sidecar hands it to a watchdog
   * outside its event loop (see `Watchdog`), which a hang cannot stop. Undefined otherwise.
   */
  get deadline(): number | undefined {
    if (!this.mayRunGhost || this.#renewedAt === undefined) return undefined;
    return this.#renewedAt + this.#options.fencing.patienceMs;
  }

  get name(): string {
    return this.#options.settings.name;
  }

  get holder(): string {
    return this.#options.holder;
  }

  /** For the report: who holds the lock when it is not us, or what we wait for. */
  get holderInfo(): string {
    return this.#holderInfo;
  }

  /** Starts trying to take the lock, and keeps it (or takes it back) until `release()` or fencing. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /**
   * Stops, and lets go of the lock. With `ghostStopped`, the lease first records that this task's
   * Ghost has stopped, so the next holder starts its Ghost at once instead of after the lease TTL.
   */
  async release(options: { ghostStopped?: boolean } = {}): Promise<void> {
    const wasHolding = this.#state === 'holding';
    this.#stopped = true;
    clearTimeout(this.#fenceTimer);
    if (!wasHolding && this.#connection) {
      // Possibly blocked in GET_LOCK: nothing to say, end the wait.
      destroyConnection(this.#connection);
      this.#connection = undefined;
    }
    this.#wake?.();
    // Bounded: the loop is asleep (woken now) or in one statement under its time limit.
    await this.#loop;
    const connection = this.#connection;
    this.#connection = undefined;
    if (this.#state === 'holding' && connection) {
      const polite = (async () => {
        if (options.ghostStopped) {
          // Still under the lock: nobody else writes the lease until RELEASE_LOCK below.
          const epoch = this.#epoch ?? 0;
          const lockId = this.#lockConnectionId ?? 0;
          const noted = await this.#onLease((lease) =>
            this.#lease.markGhostStopped(lease, epoch, lockId, RELEASE_TIMEOUT_MS),
          );
          if (noted) this.#log.info('lease marked: this Ghost has stopped; the next holder need not wait');
        }
        await boundedQuery(connection, 'SELECT RELEASE_LOCK(?)', [this.name], { timeoutMs: RELEASE_TIMEOUT_MS });
        await connection.end();
      })().catch((error: unknown) => {
        this.#log.warn({ error: summarizeError(error) }, 'could not release politely; closing the lock connection');
        destroyConnection(connection);
      });
      await polite;
      this.#log.info(SIDECAR_LOG.lockReleased);
    } else if (connection) {
      destroyConnection(connection);
    }
    this.#dropLeaseConnection();
    if (this.#state !== 'fenced') this.#setState('released');
  }

  /** The lock as seen by the health report. */
  observe(): Observation {
    switch (this.#state) {
      case 'holding': {
        if (!this.#renewFailing) return { status: 'pass', observedValue: true };
        // The lock is ours, so no other Ghost can start yet: serving goes on, but the clock runs.
        const failingS = Math.round((this.#now() - this.#renewFailing.since) / 1000);
        const leftS = Math.max(0, Math.round(this.#patienceLeftMs() / 1000));
        return {
          status: 'warn',
          observedValue: true,
          output: `the lease could not be renewed for ${failingS} s (${this.#renewFailing.reason}); this task stops its Ghost in ${leftS} s unless it is`,
        };
      }
      case 'regaining': {
        const leftS = Math.max(0, Math.round(this.#patienceLeftMs() / 1000));
        const downS = Math.round((this.#now() - (this.#lostAt ?? this.#now())) / 1000);
        return {
          status: 'fail',
          observedValue: false,
          output: `lock connection lost ${downS} s ago; taking the lock back (${this.#holderInfo || 'connecting'}); this task stops its Ghost in ${leftS} s unless it does`,
        };
      }
      case 'fenced':
        return { status: 'fail', observedValue: false, output: `this task is fenced: ${this.#holderInfo}` };
      default:
        return {
          status: 'fail',
          observedValue: false,
          output: `this task does not hold lock '${this.name}' (${this.#holderInfo || 'not taken yet'})`,
        };
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#state === 'holding') await this.#renew();
        else if (this.#state === 'regaining') await this.#regain();
        else await this.#tryToTakeOver();
      } catch (error) {
        if (this.#stopped) break;
        this.#dropConnection();
        if (this.#state === 'holding') {
          this.#lose(new LockLostError('the lock connection failed', { cause: error }));
        } else {
          this.#problem(error);
          await this.#sleep(this.#options.settings.retryDelayMs);
        }
      }
    }
  }

  /** Holding: verify the lock on our connection, renew the lease, sleep until the next interval. */
  async #renew(): Promise<void> {
    const started = this.#now();
    const connection = this.#requireConnection();
    const [row] = await this.#query<LockRow[]>(connection, 'SELECT IS_USED_LOCK(?) AS holder, CONNECTION_ID() AS me', [
      this.name,
    ]);
    if (!row || row.holder === null || Number(row.holder) !== Number(row.me)) {
      this.#lose(new LockLostError(`the server says connection ${row?.holder ?? 'none'} holds it`));
      return;
    }
    if (this.#state !== 'holding' || this.#outOfPatience()) return;
    const epoch = this.#epoch ?? 0;
    const lockId = Number(row.me);
    try {
      if (!(await this.#onLease((lease) => this.#lease.renew(lease, epoch, lockId)))) {
        // A write that matches nothing fences its writer, unless the row is still exactly ours:
        // then only the lock was not ours where the write ran (lost meanwhile): take it back.
        const record = await this.#onLease((lease) => this.#lease.read(lease));
        if (record && record.holder === this.holder && record.epoch === epoch) {
          this.#lose(new LockLostError('the lease renewal did not find our session holding the lock'));
          return;
        }
        this.#options.metrics.recordLockLoss('taken');
        this.#fence(this.#lostLeaseReason(record, 'the renewal matched nothing'));
        return;
      }
      this.#renewed(started);
    } catch (error) {
      this.#renewFailed(error);
    }
    await this.#sleep(this.#options.checkIntervalMs - (this.#now() - started));
  }

  /** Regaining: take the lock back; keep Ghost running only if the lease is still ours. */
  async #regain(): Promise<void> {
    const connection = await this.#connect();
    const started = this.#now();
    const got = await this.#getLock(connection);
    const epoch = this.#epoch ?? 0;
    if (got) {
      const lockId = this.#lockConnectionId ?? 0;
      const record = await this.#onLease((lease) => this.#lease.read(lease));
      if (!this.#stillOurs(record, epoch)) {
        this.#options.metrics.recordLockLoss('taken');
        this.#fence(this.#lostLeaseReason(record, 'while the lock connection was down'));
        return;
      }
      if (this.#outOfPatience()) return;
      // Compare-and-set on our epoch, and only while our new session holds the lock where it runs.
      if (!(await this.#onLease((lease) => this.#lease.rebind(lease, epoch, lockId)))) {
        const again = await this.#onLease((lease) => this.#lease.read(lease));
        if (this.#stillOurs(again, epoch))
          throw new LockLostError('the lock taken back is not seen by the server that writes the lease');
        this.#options.metrics.recordLockLoss('taken');
        this.#fence(this.#lostLeaseReason(again, 'while the lock connection was down'));
        return;
      }
      const downMs = Math.round(this.#now() - (this.#lostAt ?? started));
      this.#holderInfo = 'held by this task';
      this.#setState('holding');
      this.#options.metrics.recordLockRegain();
      this.#log.warn({ downMs }, SIDECAR_LOG.lockRegained);
      this.#renewed(started);
      return;
    }
    const record = await this.#onLease((lease) => this.#lease.read(lease));
    if (!this.#stillOurs(record, epoch)) {
      this.#options.metrics.recordLockLoss('taken');
      this.#fence(this.#lostLeaseReason(record, 'while the lock connection was down'));
      return;
    }
    this.#holderInfo = await this.#lockHolderInfo(connection);
  }

  /** Standby: wait while another holder's lease is live; then take the lock and the lease. */
  async #tryToTakeOver(): Promise<void> {
    const { checkIntervalMs } = this.#options;
    const before = await this.#onLease((lease) => this.#lease.read(lease));
    const first = before ? this.#mayTakeOver(before) : undefined;
    this.#stoppedEvidence = undefined;
    if (before && first?.waitMs !== undefined) {
      if (!(await this.#holderKnownStopped(before))) {
        this.#waitForLease(before, first.why);
        // A holder that missed a renewal may be gone: ask ECS again sooner (at most once a second).
        const overdue = this.#options.holderStopped !== undefined && before.ageMs > 1.5 * checkIntervalMs;
        const pollMs = overdue ? Math.min(checkIntervalMs, OVERDUE_POLL_MS) : checkIntervalMs;
        await this.#sleep(Math.min(pollMs, first.waitMs + 10));
        return;
      }
      this.#stoppedEvidence = { holder: before.holder, epoch: before.epoch };
    }
    // The lock connection only when there is a lease to take (an idle one would time out meanwhile).
    const connection = await this.#connect();
    const lockId = this.#lockConnectionId ?? 0;
    if (!(await this.#getLock(connection))) {
      await this.#lockBusy(connection, before);
      return;
    }
    // What we read under the lock is what the compare-and-set below replaces, or nothing is written.
    let record = await this.#onLease((lease) => this.#lease.read(lease));
    if (!record) {
      record = await this.#waitOutMissingLease(connection, lockId);
      if (this.#stopped) return;
    }
    let verdict = record ? this.#mayTakeOver(record) : { reason: 'missing' };
    const evidence = this.#stoppedEvidence;
    const onEvidence =
      record !== undefined &&
      verdict.waitMs !== undefined &&
      evidence !== undefined &&
      evidence.holder === record.holder &&
      evidence.epoch === record.epoch;
    // ECS said this very lease's task has stopped: its Ghost is gone, take it now (same compare-and-set).
    if (onEvidence) verdict = { reason: 'stopped' };
    if (record && verdict.waitMs !== undefined) {
      // The previous holder renewed in between: it is alive, let it have its lock back.
      await this.#query(connection, 'SELECT RELEASE_LOCK(?)', [this.name]);
      this.#waitForLease(record, verdict.why);
      await this.#sleep(checkIntervalMs);
      return;
    }
    // The patience runs from when the write is sent (never later than the database's heartbeat).
    const started = this.#now();
    const epoch = await this.#onLease((lease) =>
      this.#lease.take(lease, record, lockId, { holderStopped: onEvidence }),
    );
    if (epoch === undefined) {
      // Someone wrote the lease after our read (or our lock is not where the write ran): not ours.
      await this.#query(connection, 'SELECT RELEASE_LOCK(?)', [this.name]);
      this.#holderInfo = 'the lease changed while this task took it; looking again';
      await this.#sleep(checkIntervalMs);
      return;
    }
    // A row provisioned for a fresh database (no holder) counts as none.
    const reason = record?.holder === '' ? 'none' : verdict.reason;
    this.#epoch = epoch;
    this.#renewed(started);
    this.#holderInfo = 'held by this task';
    this.#lastProblem = '';
    this.#waitingFor = '';
    this.#observed = undefined;
    this.#setState('holding');
    this.#options.metrics.recordLeaseTakeover(
      reason === 'expired' || reason === 'released' || reason === 'stopped' ? reason : 'none',
    );
    this.#log.info(
      {
        previousHolder: record?.holder,
        previous: reason,
        epoch,
        previousAgeMs: record ? Math.round(record.ageMs) : undefined,
      },
      SIDECAR_LOG.lockTaken,
    );
    this.#options.onTakeover?.();
  }

  /**
   * The lease row (or its table) is missing while this task holds the lock: a Ghost may still run
   * whose row was deleted under it; it stops within a TTL of its last renewal, which came before the
   * deletion. Nobody can write a row while this task holds the lock, so it keeps the lock and waits
   * out a full TTL on its own clock, checking every interval that the lock is still its own.
   * Resolves with the row if one appeared meanwhile, else undefined (the wait is over).
   */
  async #waitOutMissingLease(connection: Connection, lockId: number): Promise<LeaseRecord | undefined> {
    const { checkIntervalMs } = this.#options;
    const ttlMs = this.#options.fencing.leaseTtlMs;
    const since = this.#now();
    this.#observed = undefined;
    for (;;) {
      const leftMs = ttlMs - (this.#now() - since);
      if (leftMs <= 0 || this.#stopped) return undefined;
      this.#holderInfo = `the lease row is missing; a Ghost may still run without it: this task holds the lock and may take over in ${Math.ceil(leftMs / 1000)} s (a full TTL)`;
      await this.#sleep(Math.min(checkIntervalMs, leftMs));
      if (this.#stopped) return undefined;
      const [row] = await this.#query<LockRow[]>(
        connection,
        'SELECT IS_USED_LOCK(?) AS holder, CONNECTION_ID() AS me',
        [this.name],
      );
      if (!row || row.holder === null || Number(row.holder) !== lockId)
        throw new LockLostError('the lock was lost while waiting out a missing lease');
      const record = await this.#onLease((lease) => this.#lease.read(lease));
      if (record) return record;
    }
  }

  /**
   * Whether this standby may take the lease as it reads now, or how long it waits first:
   * - released (its holder recorded that its Ghost stopped): at once;
   * - live (renewed within its TTL by the database clock): until it expires;
   * - expired by the database clock: also once this task has itself seen that same heartbeat
   *   unrenewed for the holder's TTL on its own monotonic clock. A step of the database clock moves
   *   the lease's age, not this task's observation (a standby watching all along loses at most one
   *   interval; one that just started waits a full TTL).
   */
  #mayTakeOver(
    record: LeaseRecord,
  ): { waitMs: number; why: string; reason?: undefined } | { waitMs?: undefined; reason: string } {
    const now = this.#now();
    const observed = this.#observe(record, now);
    const reason = takeoverReason(record, this.holder);
    if (reason === undefined) return { waitMs: record.ttlMs - record.ageMs, why: 'live' };
    if (reason === 'expired') {
      const leftMs = record.ttlMs - (now - observed.since);
      if (leftMs > 0)
        return {
          waitMs: leftMs,
          why: observed.stepped
            ? 'the database clock stepped (the lease aged faster than this task’s clock)'
            : 'this task has not yet seen it unrenewed for a full TTL of its own',
        };
    }
    return { reason };
  }

  #observe(record: LeaseRecord, now: number): { since: number; stepped: boolean } {
    const seen = this.#observed;
    if (!seen || seen.holder !== record.holder || seen.epoch !== record.epoch || seen.heartbeat !== record.heartbeat) {
      // Another heartbeat (renewed, or taken): watch it age from here.
      this.#observed = {
        holder: record.holder,
        epoch: record.epoch,
        heartbeat: record.heartbeat,
        since: now,
        firstAgeMs: record.ageMs,
        stepped: false,
      };
      return this.#observed;
    }
    // Each reading is bounded by the query time limit, which bounds how far the two clocks can drift apart here.
    if (record.ageMs - seen.firstAgeMs > now - seen.since + this.#options.queryTimeoutMs) {
      if (!seen.stepped)
        this.#log.warn(
          {
            leaseHolder: record.holder,
            agedMs: Math.round(record.ageMs - seen.firstAgeMs),
            elapsedMs: Math.round(now - seen.since),
          },
          'the lease aged faster than this task’s clock: the database clock stepped; waiting out a full TTL of its own',
        );
      seen.stepped = true;
    }
    return seen;
  }

  /**
   * Whether ECS says the holder of this lease has stopped (its task, or its Ghost in a task being
   * stopped). Only for another holder's lease that still claims a running Ghost; bounded by the
   * client's time limit; any failure is "not known".
   */
  async #holderKnownStopped(record: LeaseRecord): Promise<boolean> {
    const ask = this.#options.holderStopped;
    if (!ask || record.holder === '' || record.holder === this.holder || !record.ghostMayRun) return false;
    try {
      return await ask(record.holder);
    } catch {
      return false;
    }
  }

  #stillOurs(record: LeaseRecord | undefined, epoch: number): boolean {
    return record !== undefined && record.holder === this.holder && record.epoch === epoch;
  }

  #lostLeaseReason(record: LeaseRecord | undefined, when: string): string {
    if (!record) return `the lease row is gone (${when}); every standby waits out a full TTL`;
    return `another holder took over the lease (${when}): ${record.holder}, epoch ${record.epoch}`;
  }

  #waitForLease(record: LeaseRecord, why: string): void {
    const leftS = Math.max(0, Math.ceil((record.ttlMs - record.ageMs) / 1000));
    this.#holderInfo =
      why === 'live'
        ? `the lease of ${record.holder} is live (renewed ${Math.round(record.ageMs / 1000)} s ago); this task may take over in ${leftS} s`
        : `the lease of ${record.holder} looks expired but ${why}; this task waits out a full TTL of its own`;
    if (this.#waitingFor !== record.holder) {
      this.#waitingFor = record.holder;
      this.#log.info(
        { leaseHolder: record.holder, ageMs: Math.round(record.ageMs), ttlMs: record.ttlMs },
        SIDECAR_LOG.waitingForHolder,
      );
    }
  }

  /**
   * The lock is held by another connection. Normally that is a live holder, or the server frees it
   * within the lock session's wait_timeout. A connection still holding it after its lease expired
   * is stale (its task vanished without a FIN, or hangs): once seen twice an interval apart, KILL it.
   */
  async #lockBusy(connection: Connection, record: LeaseRecord | undefined): Promise<void> {
    const [row] = await this.#query<{ holder: number | string | null }[]>(
      connection,
      'SELECT IS_USED_LOCK(?) AS holder',
      [this.name],
    );
    const holderConnection = row?.holder === null || row?.holder === undefined ? undefined : Number(row.holder);
    this.#holderInfo = holderConnection === undefined ? 'free' : `held by database connection ${holderConnection}`;
    const evidence = this.#stoppedEvidence;
    const holderStopped = record !== undefined && evidence?.holder === record.holder && evidence.epoch === record.epoch;
    if (holderConnection === undefined || !record || (this.#mayTakeOver(record).reason !== 'expired' && !holderStopped))
      return;
    // Only a session idle (Sleep) for two intervals: a live holder checks its lock every interval.
    const [session] = await this.#query<{ command: string; idleS: number | string }[]>(
      connection,
      'SELECT COMMAND AS command, TIME AS idleS FROM information_schema.PROCESSLIST WHERE ID = ?',
      [holderConnection],
    );
    if (session?.command !== 'Sleep' || Number(session.idleS) * 1000 < 2 * this.#options.checkIntervalMs) return;
    this.#log.warn(
      {
        connection: holderConnection,
        idleS: Number(session.idleS),
        leaseHolder: record.holder,
        leaseAgeMs: Math.round(record.ageMs),
      },
      SIDECAR_LOG.staleHolderKilled,
    );
    await this.#query(connection, `KILL ${Number(holderConnection)}`, []);
    this.#options.metrics.recordStaleHolderKill();
  }

  async #lockHolderInfo(connection: Connection): Promise<string> {
    const [row] = await this.#query<{ holder: number | string | null }[]>(
      connection,
      'SELECT IS_USED_LOCK(?) AS holder',
      [this.name],
    );
    return row?.holder === null || row?.holder === undefined ? 'free' : `held by database connection ${row.holder}`;
  }

  /** GET_LOCK, blocking at most LOCK_WAIT_SECONDS (plus the query time limit). */
  async #getLock(connection: Connection): Promise<boolean> {
    const { waitSeconds, name } = this.#options.settings;
    const [row] = await boundedQuery<{ got: number | null }[]>(
      connection,
      'SELECT GET_LOCK(?, ?) AS got',
      [name, waitSeconds],
      { timeoutMs: waitSeconds * 1000 + this.#options.queryTimeoutMs },
    );
    if (row?.got === null || row?.got === undefined)
      throw new Error('GET_LOCK returned NULL (the server reported an error)');
    return Number(row.got) === 1;
  }

  async #connect(): Promise<Connection> {
    if (this.#connection) return this.#connection;
    const { settings, checkIntervalMs } = this.#options;
    let opened: Connection | undefined;
    const connection = await this.#options.connector.open((error) => {
      // An idle lock connection the server dropped (KILL, restart, wait_timeout): act now, not next round.
      if (!opened || opened !== this.#connection) return;
      this.#dropConnection();
      if (this.#state === 'holding') this.#lose(new LockLostError('connection error', { cause: error }));
      this.#wake?.();
    });
    opened = connection;
    if (this.#stopped) {
      destroyConnection(connection);
      throw new Error('stopped');
    }
    this.#connection = connection;
    // The server frees the lock of a connection idle longer than this: a vanished task lets go.
    const idleSeconds = Math.max(10, Math.ceil((3 * checkIntervalMs) / 1000) + settings.waitSeconds);
    await this.#query(connection, `SET SESSION wait_timeout = ${idleSeconds}`, []);
    // A lock on a reader (a demoted writer a cached endpoint still reaches) excludes nobody: refused.
    this.#lockConnectionId = await this.#refuseReadOnly(connection, 'lock');
    return connection;
  }

  /** The session's id; throws when the server is read-only (`@@read_only` or `@@innodb_read_only`). */
  async #refuseReadOnly(connection: Connection, what: 'lock' | 'lease'): Promise<number> {
    const [row] = await this.#query<
      { me: number | string; readOnly: number | string; innodbReadOnly: number | string }[]
    >(connection, 'SELECT CONNECTION_ID() AS me, @@read_only AS readOnly, @@innodb_read_only AS innodbReadOnly', []);
    if (!row || Number(row.readOnly) === 1 || Number(row.innodbReadOnly) === 1) {
      if (what === 'lock') this.#dropConnection();
      throw new ReadOnlyServerError(
        `the ${what} connection reached a read-only server (a reader, or a demoted writer)`,
      );
    }
    return Number(row.me);
  }

  /** Runs lease statements on the lease connection, opened when needed and dropped after any failure. */
  async #onLease<T>(use: (connection: Connection) => Promise<T>): Promise<T> {
    // A fenced task writes nothing more, whatever statement was in flight when it was fenced.
    if (this.#state === 'fenced') throw new LockLostError('fenced');
    if (!this.#leaseConnection) {
      let opened: Connection | undefined;
      const connection = await this.#options.connector.open(() => {
        if (opened && opened === this.#leaseConnection) this.#dropLeaseConnection();
      });
      opened = connection;
      this.#leaseConnection = connection;
      // A blocked write (FLUSH TABLES WITH READ LOCK, a row lock) is given up by the server itself
      // within the query time limit where whole seconds allow it (the connection then stays), else
      // a second later: renewals cut short on our side do not pile up as waiting server threads.
      const waitS = Math.max(1, Math.floor((this.#options.queryTimeoutMs - 500) / 1000));
      await this.#onLease((lease) =>
        this.#query(lease, `SET SESSION lock_wait_timeout = ${waitS}, innodb_lock_wait_timeout = ${waitS}`, []),
      );
      // A reader's copy of the lease may lag, and nothing can be written there: refused like the lock's.
      await this.#onLease(async (lease) => {
        await this.#refuseReadOnly(lease, 'lease');
      });
    }
    try {
      return await use(this.#leaseConnection);
    } catch (error) {
      this.#dropLeaseConnection();
      throw error;
    }
  }

  /** A renewal failed while the lock is still ours (writes blocked, read-only, lease connection lost). */
  #renewFailed(error: unknown): void {
    const summary = summarizeError(error);
    const reason = errorReason(summary);
    if (!this.#renewFailing) {
      this.#log.warn(
        { error: summary, patienceLeftMs: Math.round(this.#patienceLeftMs()) },
        SIDECAR_LOG.leaseRenewalFailed,
      );
    }
    this.#renewFailing = { since: this.#renewFailing?.since ?? this.#now(), reason };
  }

  #dropLeaseConnection(): void {
    if (this.#leaseConnection) destroyConnection(this.#leaseConnection);
    this.#leaseConnection = undefined;
  }

  #query<T>(connection: Connection, sql: string, values: unknown[]): Promise<T> {
    return boundedQuery<T>(connection, sql, values, { timeoutMs: this.#options.queryTimeoutMs });
  }

  #requireConnection(): Connection {
    if (!this.#connection) throw new LockLostError('no lock connection');
    return this.#connection;
  }

  /** The lease was renewed by a statement sent at `sentAt`: the patience runs from there. */
  #renewed(sentAt: number): void {
    if (this.#renewFailing) this.#log.info(SIDECAR_LOG.leaseRenewed);
    this.#renewedAt = sentAt;
    this.#renewFailing = undefined;
    this.#options.onDeadline?.(this.deadline);
    this.#lostAt = undefined;
    clearTimeout(this.#fenceTimer);
    this.#fenceTimer = setTimeout(() => {
      if (this.mayRunGhost && !this.#stopped)
        this.#fence(
          `could not renew the lease for ${this.#options.fencing.patienceMs} ms (${this.#holderInfo || 'database unreachable'})`,
        );
    }, this.#patienceLeftMs());
    this.#fenceTimer.unref();
  }

  /**
   * Checked before every renewal, not only by the timer: after a stall (SIGSTOP) a renewal timer
   * can fire before the fence timer, and a late renewal must not extend a promise already broken.
   */
  #outOfPatience(): boolean {
    if (this.#renewedAt === undefined || this.#patienceLeftMs() > 0) return false;
    this.#fence(
      `could not renew the lease for ${this.#options.fencing.patienceMs} ms (stalled, or the database did not answer)`,
    );
    return true;
  }

  #patienceLeftMs(): number {
    return this.#options.fencing.patienceMs - (this.#now() - (this.#renewedAt ?? this.#now()));
  }

  /** Holding → regaining: Ghost keeps running while the lock is taken back (bounded by the fence timer). */
  #lose(error: LockLostError): void {
    if (this.#state !== 'holding') return;
    this.#dropConnection();
    this.#lostAt = this.#now();
    this.#holderInfo = 'reconnecting';
    this.#setState('regaining');
    this.#options.metrics.recordLockLoss('connection');
    this.#log.error(
      { error: summarizeError(error), patienceLeftMs: Math.round(this.#patienceLeftMs()) },
      SIDECAR_LOG.lockLost,
    );
    this.#wake?.();
  }

  #fence(reason: string): void {
    if (this.#state === 'fenced' || this.#state === 'released') return;
    this.#stopped = true;
    clearTimeout(this.#fenceTimer);
    this.#dropConnection();
    this.#dropLeaseConnection();
    this.#holderInfo = reason;
    this.#setState('fenced');
    const error = new FencedError(reason);
    this.#log.fatal({ error: summarizeError(error) }, SIDECAR_LOG.fenced);
    this.#wake?.();
    this.#options.onFenced(error);
  }

  #problem(error: unknown): void {
    const summary = summarizeError(error);
    const message = errorReason(summary);
    if (this.#state === 'standby') this.#holderInfo = `cannot reach the database to take the lock: ${summary.message}`;
    else this.#holderInfo = `cannot reach the database: ${summary.message}`;
    if (message === this.#lastProblem) return;
    this.#lastProblem = message;
    this.#log.warn({ error: summary, state: this.#state }, 'lock connection failed; retrying');
  }

  #dropConnection(): void {
    if (this.#connection) destroyConnection(this.#connection);
    this.#connection = undefined;
  }

  #setState(state: SingletonState): void {
    const wasHeld = this.#state === 'holding';
    const mayRunBefore = this.mayRunGhost;
    this.#state = state;
    if (mayRunBefore !== this.mayRunGhost) this.#options.onDeadline?.(this.deadline);
    if (state === 'holding') this.#lastProblem = '';
    if (wasHeld !== (state === 'holding')) this.#options.metrics.setLockHeld(state === 'holding');
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/** The lock as a check: only the holder may serve, everyone else is a standby. No I/O: the lock keeps itself. */
export class SingletonLockCheck implements Check {
  readonly key = 'singletonLock:held';
  readonly componentType = 'component';
  readonly #lock: SingletonLock;

  constructor(lock: SingletonLock) {
    this.#lock = lock;
  }

  async run(): Promise<Observation> {
    return this.#lock.observe();
  }
}
