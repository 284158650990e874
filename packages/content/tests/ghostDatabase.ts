import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { GhostServer } from '@ghost-ha/testbed';

interface SqliteDatabase {
  run(sql: string, params: unknown[], callback: (error: Error | null) => void): void;
  all(sql: string, params: unknown[], callback: (error: Error | null, rows: Record<string, unknown>[]) => void): void;
  close(callback: (error: Error | null) => void): void;
}

/**
 * Writes into a test Ghost's SQLite database what no API creates: members' comments (the members
 * comments API needs a signed-in member), a second staff user, a post's sent newsletter email. Uses
 * the `sqlite3` module of the Ghost install itself, built for the Node that runs the tests.
 */
export class GhostDatabase {
  readonly #db: SqliteDatabase;

  private constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  static async open(ghost: GhostServer): Promise<GhostDatabase> {
    const require = createRequire(join(ghost.dir, 'current', 'package.json'));
    const sqlite3 = require('sqlite3') as {
      Database: new (file: string, callback: (error: Error | null) => void) => SqliteDatabase;
    };
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(join(ghost.contentDir, 'data', 'ghost.db'), (error) =>
        error ? reject(error) : resolve(new GhostDatabase(db)),
      );
    });
  }

  run(sql: string, params: unknown[] = []): Promise<void> {
    return new Promise((resolve, reject) => this.#db.run(sql, params, (error) => (error ? reject(error) : resolve())));
  }

  all(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return new Promise((resolve, reject) =>
      this.#db.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows))),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.#db.close((error) => (error ? reject(error) : resolve())));
  }
}

/** A 24-hex id in Ghost's ObjectId form (time first). */
export function objectId(): string {
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return time + Array.from({ length: 16 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}
