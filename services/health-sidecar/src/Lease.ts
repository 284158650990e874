import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { boundedQuery } from './boundedQuery.js';

/** The table holding one lease row per lock name; created by the first holder. */
export const LEASE_TABLE = 'ghost_ha_lease';

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
}

/** Why a lease may be taken over, or undefined while it still protects a running Ghost. */
export function takeoverReason(
  record: LeaseRecord | undefined,
  me: string,
): 'none' | 'released' | 'expired' | undefined {
  if (!record || record.holder === me) return 'none';
  if (!record.ghostMayRun) return 'released';
  if (record.ageMs > record.ttlMs) return 'expired';
  return undefined;
}

interface LeaseRow {
  holder: string;
  ageUs: number | string;
  ttlMs: number | string;
  ghostMayRun: number | string;
}

/**
 * The lease row of one lock: written only by the connection holding the lock (so writes never race),
 * read by anyone. Every statement is bounded by `timeoutMs`; times are the database's UTC clock.
 */
export class Lease {
  readonly #name: string;
  readonly #holder: string;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  #tableReady = false;

  constructor(options: { name: string; holder: string; ttlMs: number; timeoutMs: number }) {
    this.#name = options.name;
    this.#holder = options.holder;
    this.#ttlMs = options.ttlMs;
    this.#timeoutMs = options.timeoutMs;
  }

  get holder(): string {
    return this.#holder;
  }

  async read(connection: Connection): Promise<LeaseRecord | undefined> {
    let rows: LeaseRow[];
    try {
      rows = await boundedQuery<LeaseRow[]>(
        connection,
        `SELECT holder, TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(6)) AS ageUs, ttl_ms AS ttlMs,
          ghost_may_run AS ghostMayRun FROM ${LEASE_TABLE} WHERE name = ?`,
        [this.#name],
        { timeoutMs: this.#timeoutMs },
      );
    } catch (error) {
      // No table yet: nobody ever held a lease here.
      if ((error as { code?: unknown }).code === 'ER_NO_SUCH_TABLE') return undefined;
      throw error;
    }
    const row = rows[0];
    if (!row) return undefined;
    return {
      holder: row.holder,
      ageMs: Number(row.ageUs) / 1000,
      ttlMs: Number(row.ttlMs),
      ghostMayRun: Number(row.ghostMayRun) === 1,
    };
  }

  /** Makes the lease ours, renewed now, with Ghost allowed to run. Only while holding the lock. */
  async take(connection: Connection): Promise<void> {
    await this.#ensureTable(connection);
    await boundedQuery(
      connection,
      `INSERT INTO ${LEASE_TABLE} (name, holder, heartbeat_at, taken_at, ttl_ms, ghost_may_run)
        VALUES (?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), ?, 1)
        ON DUPLICATE KEY UPDATE holder = ?, heartbeat_at = UTC_TIMESTAMP(6), taken_at = UTC_TIMESTAMP(6),
          ttl_ms = ?, ghost_may_run = 1`,
      [this.#name, this.#holder, this.#ttlMs, this.#holder, this.#ttlMs],
      { timeoutMs: this.#timeoutMs },
    );
  }

  /** Renews our lease; false when the row names someone else (or is gone). Only while holding the lock. */
  async renew(connection: Connection): Promise<boolean> {
    const result = await boundedQuery<ResultSetHeader>(
      connection,
      `UPDATE ${LEASE_TABLE} SET heartbeat_at = UTC_TIMESTAMP(6), ttl_ms = ? WHERE name = ? AND holder = ?`,
      [this.#ttlMs, this.#name, this.#holder],
      { timeoutMs: this.#timeoutMs },
    );
    return result.affectedRows === 1;
  }

  /** Records that our Ghost has stopped: the next holder need not wait for the lease to expire. */
  async markGhostStopped(connection: Connection, timeoutMs: number): Promise<boolean> {
    const result = await boundedQuery<ResultSetHeader>(
      connection,
      `UPDATE ${LEASE_TABLE} SET ghost_may_run = 0, heartbeat_at = UTC_TIMESTAMP(6) WHERE name = ? AND holder = ?`,
      [this.#name, this.#holder],
      { timeoutMs },
    );
    return result.affectedRows === 1;
  }

  async #ensureTable(connection: Connection): Promise<void> {
    if (this.#tableReady) return;
    await boundedQuery(
      connection,
      `CREATE TABLE IF NOT EXISTS ${LEASE_TABLE} (
        name VARCHAR(64) NOT NULL PRIMARY KEY,
        holder VARCHAR(255) NOT NULL,
        heartbeat_at DATETIME(6) NOT NULL,
        taken_at DATETIME(6) NOT NULL,
        ttl_ms INT UNSIGNED NOT NULL,
        ghost_may_run TINYINT NOT NULL
      ) ENGINE = InnoDB`,
      [],
      { timeoutMs: this.#timeoutMs },
    );
    this.#tableReady = true;
  }
}
