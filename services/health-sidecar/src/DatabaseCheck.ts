import { summarizeError } from '@ghost-ha/core';
import type { Connection } from 'mysql2/promise';
import { boundedQuery, destroyConnection, openUntilAborted } from './boundedQuery.js';
import type { Check, Observation } from './Check.js';
import type { DatabaseConnector } from './DatabaseConnector.js';

interface ReadOnlyRow {
  readOnly: number | string | null;
  innodbReadOnly: number | string | null;
}

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
      return { status: 'pass', observedValue: elapsed, observedUnit: 'ms' };
    } catch (error) {
      this.#drop();
      const summary = summarizeError(error);
      return { status: 'fail', output: `database query failed: ${summary.code ?? summary.name}: ${summary.message}` };
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

function isOn(value: number | string | null): boolean {
  return value === 1 || value === '1' || value === 'ON';
}
