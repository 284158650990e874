import { type Check, errorReason, type Observation, summarizeError } from '@ghost-ha/core';
import type { Connection } from 'mysql2/promise';
import { boundedQuery, destroyConnection, openUntilAborted } from './boundedQuery.js';
import type { DatabaseConnector } from './DatabaseConnector.js';
import { DatabasePasswordError } from './errors.js';

interface ReadOnlyRow {
  readOnly: number | string | null;
  innodbReadOnly: number | string | null;
}

interface SchemaRow {
  database: string | null;
  schemaExists: number | string;
  ghostTables: number | string;
  settingsRows: number | string | null;
}

/**
 * Ghost's schema as the server has it. `@@global` reads and `DATABASE()` still answer after the
 * database was dropped, and Ghost serves some endpoints from memory: only the schema tells. A
 * database without any of Ghost's tables is a first start (Ghost creates them), not a fault; the
 * sidecar's own tables (`ghost_ha_*`) do not count.
 */
const SCHEMA_QUERY = `SELECT DATABASE() AS \`database\`,
  (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()) AS schemaExists,
  (SELECT COUNT(*) FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'ghost\\_ha\\_%') AS ghostTables,
  (SELECT TABLE_ROWS FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'settings') AS settingsRows`;

/**
 * Latency of a trivial query on Ghost's database, over one kept connection (reopened after any
 * failure). A read-only server (an Aurora reader, a replica after failover) is a standby: Ghost
 * cannot write there, so it fails.
 */
export class DatabaseCheck implements Check {
  readonly key = 'database:responseTime';
  readonly componentType = 'datastore';
  readonly #connector: DatabaseConnector;
  readonly #now: () => number;

  readonly #timeoutMs: number;
  #connection: Connection | undefined;

  /** `timeoutMs` bounds the query on its own as well, should a caller pass a signal that never aborts. */
  constructor(options: { connector: DatabaseConnector; now: () => number; timeoutMs: number }) {
    this.#connector = options.connector;
    this.#now = options.now;
    this.#timeoutMs = options.timeoutMs;
  }

  async run(signal: AbortSignal): Promise<Observation> {
    try {
      this.#connection ??= await openUntilAborted(this.#connector.open(), signal);
      const started = this.#now();
      // Bounded by the round's signal: on abort the socket is destroyed and the query fails at once.
      const rows = await boundedQuery<ReadOnlyRow[]>(
        this.#connection,
        'SELECT @@global.read_only AS readOnly, @@global.innodb_read_only AS innodbReadOnly',
        [],
        { timeoutMs: this.#timeoutMs, signal },
      );
      const elapsed = this.#now() - started;
      const row = rows[0];
      if (row && (isOn(row.readOnly) || isOn(row.innodbReadOnly))) {
        return {
          status: 'fail',
          observedValue: elapsed,
          observedUnit: 'ms',
          output: 'the database is read-only (a standby or reader); Ghost needs the writer',
        };
      }
      const schema = (
        await boundedQuery<SchemaRow[]>(this.#connection, SCHEMA_QUERY, [], { timeoutMs: this.#timeoutMs, signal })
      )[0];
      const problem = schema ? schemaProblem(schema) : undefined;
      if (problem) return { status: 'fail', observedValue: elapsed, observedUnit: 'ms', output: problem };
      return { status: 'pass', observedValue: elapsed, observedUnit: 'ms' };
    } catch (error) {
      this.#drop();
      // A refused login whose secret cannot be read (yet): Ghost and the lock keep their open
      // connections, so only a warning here; heartbeat writes that stay impossible turn to fail.
      const status = error instanceof DatabasePasswordError ? 'warn' : 'fail';
      return { status, output: `database query failed: ${errorReason(summarizeError(error))}` };
    }
  }

  /** Closes the probe connection without a goodbye: on shutdown a hung server must not hold us up. */
  close(): void {
    this.#drop();
  }

  #drop(): void {
    if (this.#connection) destroyConnection(this.#connection);
    this.#connection = undefined;
  }
}

function schemaProblem(row: SchemaRow): string | undefined {
  if (Number(row.schemaExists) === 0) {
    return `ER_BAD_DB_ERROR: the database '${row.database ?? ''}' does not exist (dropped?); Ghost cannot serve from it`;
  }
  if (Number(row.ghostTables) === 0) return undefined;
  if (row.settingsRows === null) {
    return "ER_NO_SUCH_TABLE: Ghost's 'settings' table is missing while other Ghost tables exist (a partial restore or a bad migration)";
  }
  return undefined;
}

function isOn(value: number | string | null): boolean {
  return value === 1 || value === '1' || value === 'ON';
}
