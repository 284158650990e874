import { summarizeError } from '@ghost-ha/core';
import type { Connection } from 'mysql2/promise';
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
  #connection: Connection | undefined;

  constructor(options: { connector: DatabaseConnector; now: () => number }) {
    this.#connector = options.connector;
    this.#now = options.now;
  }

  async run(signal: AbortSignal): Promise<Observation> {
    // A query cannot be cancelled politely; destroying the socket ends it, and the next round reconnects.
    const onAbort = () => this.#drop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.#connection ??= await this.#connector.open();
      if (signal.aborted) throw signal.reason;
      const started = this.#now();
      const [rows] = await this.#connection.query(
        'SELECT @@global.read_only AS readOnly, @@global.innodb_read_only AS innodbReadOnly',
      );
      const elapsed = this.#now() - started;
      const row = (rows as ReadOnlyRow[])[0];
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
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Closes the probe connection without a goodbye: on shutdown a hung server must not hold us up. */
  close(): void {
    this.#drop();
  }

  #drop(): void {
    this.#connection?.destroy();
    this.#connection = undefined;
  }
}

function isOn(value: number | string | null): boolean {
  return value === 1 || value === '1' || value === 'ON';
}
