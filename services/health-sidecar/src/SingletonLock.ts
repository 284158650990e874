import { type Check, errorReason, type Logger, type Observation, summarizeError } from '@ghost-ha/core';
import type { Connection } from 'mysql2/promise';
import { boundedQuery, destroyConnection } from './boundedQuery.js';
import type { FencingSettings, LockSettings } from './config.js';
import type { DatabaseConnector } from './DatabaseConnector.js';
import { FencedError, LockLostError } from './errors.js';
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
}

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
  /** A connection seen holding the lock while its lease had expired, and since when. */
  #staleHolder: { connection: number; since: number } | undefined;

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
          const noted = await this.#onLease((lease) => this.#lease.markGhostStopped(lease, RELEASE_TIMEOUT_MS));
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
    try {
      if (!(await this.#onLease((lease) => this.#lease.renew(lease)))) {
        const record = await this.#onLease((lease) => this.#lease.read(lease));
        if (record && record.holder !== this.holder) {
          this.#options.metrics.recordLockLoss('taken');
          this.#fence(`another holder took over the lease: ${record.holder}`);
          return;
        }
        // The row is gone (deleted by hand): we hold the lock, so it is ours to write again.
        this.#log.warn('lease row missing while holding the lock; writing it again');
        await this.#onLease((lease) => this.#lease.take(lease));
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
    if (got) {
      const record = await this.#onLease((lease) => this.#lease.read(lease));
      if (record && record.holder !== this.holder) {
        this.#options.metrics.recordLockLoss('taken');
        this.#fence(`another holder took over the lease while the lock connection was down: ${record.holder}`);
        return;
      }
      if (this.#outOfPatience()) return;
      const downMs = Math.round(this.#now() - (this.#lostAt ?? started));
      this.#holderInfo = 'held by this task';
      this.#setState('holding');
      this.#options.metrics.recordLockRegain();
      this.#log.warn({ downMs }, SIDECAR_LOG.lockRegained);
      try {
        if (!record || !(await this.#onLease((lease) => this.#lease.renew(lease))))
          await this.#onLease((lease) => this.#lease.take(lease));
        this.#renewed(started);
      } catch (error) {
        this.#renewFailed(error);
      }
      return;
    }
    const record = await this.#onLease((lease) => this.#lease.read(lease));
    if (record && record.holder !== this.holder) {
      this.#options.metrics.recordLockLoss('taken');
      this.#fence(`another holder took over the lease while the lock connection was down: ${record.holder}`);
      return;
    }
    this.#holderInfo = await this.#lockHolderInfo(connection);
  }

  /** Standby: wait while another holder's lease is live; then take the lock and the lease. */
  async #tryToTakeOver(): Promise<void> {
    const { checkIntervalMs } = this.#options;
    const before = await this.#onLease((lease) => this.#lease.read(lease));
    if (before && takeoverReason(before, this.holder) === undefined) {
      this.#waitForLease(before);
      await this.#sleep(Math.min(checkIntervalMs, before.ttlMs - before.ageMs + 10));
      return;
    }
    // The lock connection only when there is a lease to take (an idle one would time out meanwhile).
    const connection = await this.#connect();
    const started = this.#now();
    if (!(await this.#getLock(connection))) {
      await this.#lockBusy(connection, before);
      return;
    }
    // Under the lock nobody else writes the lease: what we read now is what we replace.
    const record = await this.#onLease((lease) => this.#lease.read(lease));
    const reason = takeoverReason(record, this.holder);
    if (reason === undefined && record) {
      // The previous holder renewed in between: it is alive, let it have its lock back.
      await this.#query(connection, 'SELECT RELEASE_LOCK(?)', [this.name]);
      this.#waitForLease(record);
      await this.#sleep(checkIntervalMs);
      return;
    }
    await this.#onLease((lease) => this.#lease.take(lease));
    this.#renewed(started);
    this.#holderInfo = 'held by this task';
    this.#lastProblem = '';
    this.#waitingFor = '';
    this.#staleHolder = undefined;
    this.#setState('holding');
    this.#options.metrics.recordLeaseTakeover(reason ?? 'none');
    this.#log.info(
      {
        previousHolder: record?.holder,
        previous: reason,
        previousAgeMs: record ? Math.round(record.ageMs) : undefined,
      },
      SIDECAR_LOG.lockTaken,
    );
    this.#options.onTakeover?.();
  }

  #waitForLease(record: LeaseRecord): void {
    const leftS = Math.max(0, Math.ceil((record.ttlMs - record.ageMs) / 1000));
    this.#holderInfo = `the lease of ${record.holder} is live (renewed ${Math.round(record.ageMs / 1000)} s ago); this task may take over in ${leftS} s`;
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
    if (holderConnection === undefined || !record || takeoverReason(record, this.holder) !== 'expired') {
      this.#staleHolder = undefined;
      return;
    }
    if (this.#staleHolder?.connection !== holderConnection) {
      this.#staleHolder = { connection: holderConnection, since: this.#now() };
      return;
    }
    if (this.#now() - this.#staleHolder.since < this.#options.checkIntervalMs) return;
    this.#log.warn(
      { connection: holderConnection, leaseHolder: record.holder, leaseAgeMs: Math.round(record.ageMs) },
      SIDECAR_LOG.staleHolderKilled,
    );
    this.#staleHolder = undefined;
    await this.#query(connection, `KILL ${holderConnection}`, []);
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
    return connection;
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
    this.#state = state;
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
