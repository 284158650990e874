import { LEASE_TABLE, leaseTableDdl } from '@ghost-ha/core';
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { boundedQuery } from './boundedQuery.js';

/** A lease as the database sees it, with its age measured on the database's own clock. */
export interface LeaseRecord {
  /** Who wrote it: the holder's task ARN (or host and pid) and a per-process suffix. */
  readonly holder: string;
  /** Time since the holder last renewed it, by the database clock (no clock skew between tasks). */
  readonly ageMs: number;
  /** The holder's promise: its Ghost is stopped within this long of its last renewal. */
  readonly ttlMs: number;
  /** False once the holder recorded that its Ghost has stopped. */
  readonly ghostMayRun: boolean;
  /** The fencing token: raised by every takeover, named by every later write of that holder. */
  readonly epoch: number;
  /** The session that held the lock when the holder last took or re-bound the lease. */
  readonly lockConnection: number;
  /** The last renewal on the database clock (µs since 2000): tells one heartbeat from the next. */
  readonly heartbeat: number;
}

/**
 * Why a lease may be taken over, or undefined while it still protects a running Ghost. A missing
 * row is never free here: the caller waits a full TTL of its own before it counts as `none`.
 */
export function takeoverReason(record: LeaseRecord, me: string): 'released' | 'expired' | 'own' | undefined {
  if (record.holder === me) return 'own';
  if (!record.ghostMayRun) return 'released';
  if (record.ageMs > record.ttlMs) return 'expired';
  return undefined;
}

interface LeaseRow {
  holder: string;
  ageUs: number | string;
  ttlMs: number | string;
  ghostMayRun: number | string;
  epoch: number | string;
  lockConnection: number | string;
  heartbeatUs: number | string;
}

/** Columns added after the first version of the table, with their definitions (added when missing). */
const ADDED_COLUMNS = {
  epoch: 'BIGINT UNSIGNED NOT NULL DEFAULT 0',
  lock_connection: 'BIGINT UNSIGNED NOT NULL DEFAULT 0',
} as const;

/**
 * The lease row of one lock. Every write names the lock's session and holds only while that
 * session holds the named lock on the server executing the write (`IS_USED_LOCK(name) = id`), so a
 * write that lands late, on a reader, or after the lock was lost matches nothing. A takeover is a
 * compare-and-set on the epoch (and holder) it read, and raises the epoch; a renewal or release
 * names the holder's epoch. Every statement is bounded by `timeoutMs`; times are the database's clock.
 */
export class Lease {
  readonly #name: string;
  readonly #holder: string;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  #schemaReady = false;
  /** The highest epoch seen: a row written again after it was deleted starts above it. */
  #highestEpoch = 0;

  constructor(options: { name: string; holder: string; ttlMs: number; timeoutMs: number }) {
    this.#name = options.name;
    this.#holder = options.holder;
    this.#ttlMs = options.ttlMs;
    this.#timeoutMs = options.timeoutMs;
  }

  get holder(): string {
    return this.#holder;
  }

  /** The row, or undefined when the row or the whole table is missing (never "free": see the caller). */
  async read(connection: Connection): Promise<LeaseRecord | undefined> {
    let rows: LeaseRow[];
    try {
      await this.#ensureSchema(connection);
      rows = await boundedQuery<LeaseRow[]>(
        connection,
        `SELECT holder, TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(6)) AS ageUs, ttl_ms AS ttlMs,
          ghost_may_run AS ghostMayRun, epoch, lock_connection AS lockConnection,
          TIMESTAMPDIFF(MICROSECOND, '2000-01-01', heartbeat_at) AS heartbeatUs FROM ${LEASE_TABLE} WHERE name = ?`,
        [this.#name],
        { timeoutMs: this.#timeoutMs },
      );
    } catch (error) {
      // Dropped under us: created again (empty) on the next read.
      if ((error as { code?: unknown }).code === 'ER_NO_SUCH_TABLE') {
        this.#schemaReady = false;
        return undefined;
      }
      throw error;
    }
    const row = rows[0];
    if (!row) return undefined;
    const epoch = Number(row.epoch);
    this.#highestEpoch = Math.max(this.#highestEpoch, epoch);
    return {
      holder: row.holder,
      ageMs: Number(row.ageUs) / 1000,
      ttlMs: Number(row.ttlMs),
      ghostMayRun: Number(row.ghostMayRun) === 1,
      epoch,
      lockConnection: Number(row.lockConnection),
      heartbeat: Number(row.heartbeatUs),
    };
  }

  /**
   * Takes the lease over from `previous` (as read under the lock), or writes the first row when it
   * was missing: a compare-and-set, so a write someone made after that read makes this one match
   * nothing, and the row must still be released or expired where it is written (a read that was
   * stale cannot take a live lease). Resolves with the new epoch, or undefined when the set failed.
   */
  async take(
    connection: Connection,
    previous: LeaseRecord | undefined,
    lockConnection: number,
    options: { holderStopped?: boolean } = {},
  ): Promise<number | undefined> {
    await this.#ensureSchema(connection);
    if (previous) {
      // A compare-and-set on what was read. On ECS's word that `previous`'s task stopped there is no
      // TTL condition; otherwise the lease must still be released or expired when the write lands.
      const stillFree = options.holderStopped
        ? ''
        : `
            AND (holder = ? OR ghost_may_run = 0 OR TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(6)) > ttl_ms * 1000)`;
      const result = await boundedQuery<ResultSetHeader>(
        connection,
        `UPDATE ${LEASE_TABLE} SET holder = ?, epoch = epoch + 1, lock_connection = ?, heartbeat_at = UTC_TIMESTAMP(6),
          taken_at = UTC_TIMESTAMP(6), ttl_ms = ?, ghost_may_run = 1
          WHERE name = ? AND holder = ? AND epoch = ? AND IS_USED_LOCK(?) = ?${stillFree}`,
        [
          this.#holder,
          lockConnection,
          this.#ttlMs,
          this.#name,
          previous.holder,
          previous.epoch,
          this.#name,
          lockConnection,
          ...(options.holderStopped ? [] : [this.#holder]),
        ],
        { timeoutMs: this.#timeoutMs },
      );
      if (result.affectedRows !== 1) return undefined;
      this.#highestEpoch = Math.max(this.#highestEpoch, previous.epoch + 1);
      return previous.epoch + 1;
    }
    const epoch = this.#highestEpoch + 1;
    try {
      const result = await boundedQuery<ResultSetHeader>(
        connection,
        `INSERT INTO ${LEASE_TABLE} (name, holder, heartbeat_at, taken_at, ttl_ms, ghost_may_run, epoch, lock_connection)
          SELECT ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), ?, 1, ?, ? FROM DUAL WHERE IS_USED_LOCK(?) = ?`,
        [this.#name, this.#holder, this.#ttlMs, epoch, lockConnection, this.#name, lockConnection],
        { timeoutMs: this.#timeoutMs },
      );
      if (result.affectedRows !== 1) return undefined;
    } catch (error) {
      // Someone wrote the row after we saw it missing: theirs stands.
      if ((error as { code?: unknown }).code === 'ER_DUP_ENTRY') return undefined;
      throw error;
    }
    this.#highestEpoch = epoch;
    return epoch;
  }

  /** Renews our lease of `epoch` while `lockConnection` holds the lock; false when that matches nothing. */
  async renew(connection: Connection, epoch: number, lockConnection: number): Promise<boolean> {
    const result = await boundedQuery<ResultSetHeader>(
      connection,
      `UPDATE ${LEASE_TABLE} SET heartbeat_at = UTC_TIMESTAMP(6), ttl_ms = ?
        WHERE name = ? AND holder = ? AND epoch = ? AND lock_connection = ? AND IS_USED_LOCK(?) = ?`,
      [this.#ttlMs, this.#name, this.#holder, epoch, lockConnection, this.#name, lockConnection],
      { timeoutMs: this.#timeoutMs },
    );
    return result.affectedRows === 1;
  }

  /** After the lock was taken back on a new session: our lease of `epoch` names that session now. */
  async rebind(connection: Connection, epoch: number, lockConnection: number): Promise<boolean> {
    const result = await boundedQuery<ResultSetHeader>(
      connection,
      `UPDATE ${LEASE_TABLE} SET lock_connection = ?, heartbeat_at = UTC_TIMESTAMP(6), ttl_ms = ?
        WHERE name = ? AND holder = ? AND epoch = ? AND IS_USED_LOCK(?) = ?`,
      [lockConnection, this.#ttlMs, this.#name, this.#holder, epoch, this.#name, lockConnection],
      { timeoutMs: this.#timeoutMs },
    );
    return result.affectedRows === 1;
  }

  /** Records that our Ghost has stopped: the next holder need not wait for the lease to expire. */
  async markGhostStopped(
    connection: Connection,
    epoch: number,
    lockConnection: number,
    timeoutMs: number,
  ): Promise<boolean> {
    const result = await boundedQuery<ResultSetHeader>(
      connection,
      `UPDATE ${LEASE_TABLE} SET ghost_may_run = 0, heartbeat_at = UTC_TIMESTAMP(6)
        WHERE name = ? AND holder = ? AND epoch = ? AND IS_USED_LOCK(?) = ?`,
      [this.#name, this.#holder, epoch, this.#name, lockConnection],
      { timeoutMs },
    );
    return result.affectedRows === 1;
  }

  /** The table as this version needs it: created if missing, columns of later versions added to an older one. */
  async #ensureSchema(connection: Connection): Promise<void> {
    if (this.#schemaReady) return;
    await boundedQuery(connection, leaseTableDdl(), [], { timeoutMs: this.#timeoutMs });
    const present = await boundedQuery<{ name: string }[]>(
      connection,
      `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${LEASE_TABLE}'`,
      [],
      { timeoutMs: this.#timeoutMs },
    );
    const names = new Set(present.map((column) => column.name.toLowerCase()));
    for (const [column, definition] of Object.entries(ADDED_COLUMNS)) {
      if (names.has(column)) continue;
      try {
        // Aurora MySQL has no ADD COLUMN IF NOT EXISTS; a second task adding it at once gets a duplicate.
        await boundedQuery(connection, `ALTER TABLE ${LEASE_TABLE} ADD COLUMN ${column} ${definition}`, [], {
          timeoutMs: this.#timeoutMs,
        });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ER_DUP_FIELDNAME') throw error;
      }
    }
    this.#schemaReady = true;
  }
}
