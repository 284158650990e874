import { type Check, errorReason, type Logger, type Observation, summarizeError } from '@ghost-ha/core';
import type { Connection } from 'mysql2/promise';
import { boundedQuery, destroyConnection } from './boundedQuery.js';
import type { DatabaseConnector } from './DatabaseConnector.js';
import type { SidecarMetrics } from './SidecarMetrics.js';
import { SIDECAR_LOG } from './signals.js';

/** The heartbeat table: emptied and given this sidecar's new row every round; created by the first write. */
export const HEARTBEAT_TABLE = 'ghost_ha_heartbeat';

export interface HeartbeatWriteCheckOptions {
  connector: DatabaseConnector;
  /** This sidecar's holder id (see `resolveHolderId`): the row it writes. */
  holder: string;
  /** How long a round waits for the write before it warns; the write itself goes on. */
  timeoutMs: number;
  /** Writes failing or unfinished this long turn the check `fail`; 0: never. */
  stallFailMs: number;
  /** The check interval: the server gives a blocked write up after it (whole seconds, at least 1). */
  intervalMs: number;
  /** Time limit of a statement on a server that answers; added to the server's wait as our own bound. */
  queryTimeoutMs: number;
  /** Milliseconds (the check's clock). */
  now: () => number;
  metrics: SidecarMetrics;
  logger: Logger;
}

type Outcome = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string };

interface Attempt {
  readonly since: number;
  readonly settled: Promise<Outcome>;
}

/**
 * Can the database take a write that needs new space? Each round empties the heartbeat table
 * (TRUNCATE: a new tablespace file) and inserts this sidecar's row, on a connection of its own, so a
 * hung write never holds up the read checks or the lock. A round waits for the write at most `timeoutMs` and then reports how long writes have been blocked, but leaves the write
 * running: at most one heartbeat write is ever in flight, and a round that finds one starts none.
 * The session's lock wait timeouts make the server itself give a blocked write up after about an
 * interval (its thread then ends, and the next round writes again); a write the server does not
 * answer at all (hung, unreachable) is cut on our side that long plus a statement's time limit later.
 * Runs on every sidecar, a standby too: the table holds no state anyone reads, and a standby that cannot write is worth knowing
 * before it takes over (its verdict is `fail` anyway, so the check does not change its routing).
 */
export class HeartbeatWriteCheck implements Check {
  readonly key = 'database:writeTime';
  readonly componentType = 'datastore';
  readonly #options: HeartbeatWriteCheckOptions;
  readonly #log: Logger;
  readonly #serverWaitSeconds: number;
  readonly #statementLimitMs: number;
  #connection: Connection | undefined;
  #tableReady = false;
  /** The heartbeat write in flight; never more than one. */
  #attempt: Attempt | undefined;
  /** Start of the first attempt that has not succeeded since the last success. */
  #failingSince: number | undefined;
  #lastSuccessAt: number | undefined;
  #firstAttemptAt: number | undefined;
  #closed = false;

  constructor(options: HeartbeatWriteCheckOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'HeartbeatWriteCheck' });
    this.#serverWaitSeconds = Math.max(1, Math.ceil(options.intervalMs / 1000));
    this.#statementLimitMs = this.#serverWaitSeconds * 1000 + options.queryTimeoutMs;
    options.metrics.readHeartbeatAgeFrom(() => {
      const since = this.#lastSuccessAt ?? this.#firstAttemptAt;
      return since === undefined ? undefined : Math.max(0, this.#options.now() - since) / 1000;
    });
  }

  async run(signal: AbortSignal): Promise<Observation> {
    const attempt = this.#attempt ?? this.#start();
    const outcome = await this.#waitFor(attempt, signal);
    if (outcome?.ok) return { status: 'pass', observedValue: outcome.ms, observedUnit: 'ms' };
    const { now, stallFailMs } = this.#options;
    const blockedMs = Math.max(0, now() - (this.#failingSince ?? attempt.since));
    const stalled = stallFailMs > 0 && blockedMs >= stallFailMs;
    const detail = outcome ? `last: ${outcome.reason}` : 'one is waiting on the database';
    const verb = outcome ? 'succeeded' : 'finished';
    return {
      status: stalled ? 'fail' : 'warn',
      observedValue: Math.round(blockedMs),
      observedUnit: 'ms',
      output: `writes are blocked: no heartbeat write has ${verb} for ${(blockedMs / 1000).toFixed(1)} s (${detail})${
        stalled ? `; past the ${stallFailMs} ms limit (WRITE_STALL_FAIL_MS)` : ''
      }`,
    };
  }

  /** Closes the write connection at once (a write still in flight fails; the server ends it). */
  close(): void {
    this.#closed = true;
    this.#drop();
  }

  #start(): Attempt {
    const since = this.#options.now();
    this.#firstAttemptAt ??= since;
    const attempt: Attempt = {
      since,
      settled: this.#write().then(
        (): Outcome => ({ ok: true, ms: this.#options.now() - since }),
        (error: unknown): Outcome => ({ ok: false, reason: errorReason(summarizeError(error)) }),
      ),
    };
    this.#attempt = attempt;
    void attempt.settled.then((outcome) => {
      if (this.#attempt === attempt) this.#attempt = undefined;
      if (outcome.ok) {
        this.#lastSuccessAt = this.#options.now();
        if (this.#failingSince !== undefined)
          this.#log.info(
            { blockedMs: Math.round(this.#lastSuccessAt - this.#failingSince) },
            SIDECAR_LOG.writesSucceedAgain,
          );
        this.#failingSince = undefined;
      } else {
        this.#failingSince ??= since;
      }
    });
    return attempt;
  }

  /** The attempt's outcome if it settles within `timeoutMs` (and before `signal` aborts), else undefined. */
  async #waitFor(attempt: Attempt, signal: AbortSignal): Promise<Outcome | undefined> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const gaveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.#options.timeoutMs);
      onAbort = () => resolve(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([attempt.settled, gaveUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  async #write(): Promise<void> {
    const connection = await this.#open();
    try {
      if (!this.#tableReady) {
        await this.#query(
          connection,
          `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (
            holder VARCHAR(255) NOT NULL PRIMARY KEY,
            written_at DATETIME(6) NOT NULL
          ) ENGINE = InnoDB`,
          [],
        );
        this.#tableReady = true;
      }
      // A new row in a table with room in its page takes no new space, and an in-place update none
      // either: both succeed on a full volume while every save that grows a table fails ("The table
      // 'posts' is full"). TRUNCATE gives the table a new, empty tablespace file (InnoDB recreates
      // it), which needs space on the volume as a growing table does; it also removes the rows of
      // earlier rounds and of other sidecars, so the table never holds more than a row per sidecar.
      // https://mariadb.com/kb/en/truncate-table/
      await this.#query(connection, `TRUNCATE TABLE ${HEARTBEAT_TABLE}`, []);
      await this.#query(
        connection,
        `INSERT INTO ${HEARTBEAT_TABLE} (holder, written_at) VALUES (?, UTC_TIMESTAMP(6))`,
        [this.#options.holder],
      );
    } catch (error) {
      // A statement the server refused (a lock wait timeout, read-only) leaves the connection usable.
      if (!isStatementError(error)) {
        if ((error as { name?: unknown }).name === 'QueryTimeoutError')
          this.#log.warn({ limitMs: this.#statementLimitMs }, SIDECAR_LOG.heartbeatWriteUnanswered);
        if (this.#connection === connection) this.#drop();
      }
      throw error;
    }
  }

  async #open(): Promise<Connection> {
    if (this.#connection) return this.#connection;
    let opened: Connection | undefined;
    const connection = await this.#options.connector.open(() => {
      if (opened && opened === this.#connection) this.#drop();
    });
    opened = connection;
    if (this.#closed) {
      destroyConnection(connection);
      throw new Error('closed');
    }
    this.#connection = connection;
    try {
      // The server gives a blocked write (FLUSH TABLES WITH READ LOCK, a table or row lock) up by
      // itself: its thread ends, instead of piling up behind the next ones.
      const wait = this.#serverWaitSeconds;
      await this.#query(connection, `SET SESSION lock_wait_timeout = ${wait}, innodb_lock_wait_timeout = ${wait}`, []);
    } catch (error) {
      this.#drop();
      throw error;
    }
    return connection;
  }

  #query<T>(connection: Connection, sql: string, values: unknown[]): Promise<T> {
    return boundedQuery<T>(connection, sql, values, { timeoutMs: this.#statementLimitMs });
  }

  #drop(): void {
    if (this.#connection) destroyConnection(this.#connection);
    this.#connection = undefined;
  }
}

/** An error the server answered a statement with, the connection still fine (mysql2 marks the others fatal). */
function isStatementError(error: unknown): boolean {
  const e = error as { sqlState?: unknown; fatal?: unknown };
  return typeof e.sqlState === 'string' && e.fatal !== true;
}
