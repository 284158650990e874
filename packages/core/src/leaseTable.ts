import { createHash } from 'node:crypto';

/**
 * The singleton lease of the health-sidecar (its README, "Fencing"): the table, and the lock name a
 * site uses by default. Here because the sidecar writes it and a fresh database is provisioned with
 * it (the test bed's databases).
 */
export const LEASE_TABLE = 'ghost_ha_lease';

/** The table as the current version needs it (`table` may be qualified with a database). */
export function leaseTableDdl(table: string = LEASE_TABLE): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    holder VARCHAR(255) NOT NULL,
    heartbeat_at DATETIME(6) NOT NULL,
    taken_at DATETIME(6) NOT NULL,
    ttl_ms INT UNSIGNED NOT NULL,
    ghost_may_run TINYINT NOT NULL,
    epoch BIGINT UNSIGNED NOT NULL DEFAULT 0,
    lock_connection BIGINT UNSIGNED NOT NULL DEFAULT 0
  ) ENGINE = InnoDB`;
}

/**
 * For a database no Ghost has ever run on: a released row without a holder for lock `?`, so that
 * the first sidecar need not wait out a full TTL for a missing row (which never counts as free).
 * Never overwrites a row. Never for a database in use: a row deleted under a running Ghost must
 * stay missing.
 */
export function provisionLeaseSql(table: string = LEASE_TABLE): string {
  return `INSERT IGNORE INTO ${table} (name, holder, heartbeat_at, taken_at, ttl_ms, ghost_may_run, epoch, lock_connection)
    VALUES (?, '', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 0, 0, 0, 0)`;
}

const MAX_LOCK_NAME = 64;

/** `ghost-ha:<database>`: a MySQL lock is server-wide, so the database name tells sites apart. */
export function defaultLockName(database: string): string {
  const name = `ghost-ha:${database}`;
  if (name.length <= MAX_LOCK_NAME) return name;
  return `ghost-ha:${createHash('sha256').update(database).digest('hex').slice(0, 40)}`;
}
