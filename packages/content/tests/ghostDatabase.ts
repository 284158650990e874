import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import type { GhostServer } from '@ghost-ha/testbed';

/**
 * Writes into a test Ghost's SQLite database what no API creates: members' comments (the members
 * comments API needs a signed-in member), a second staff user, a post's sent newsletter email.
 * Through Node's own `node:sqlite`: Ghost's driver (sqlite3 in Ghost 5, better-sqlite3 in Ghost 6)
 * is built for the Node that runs Ghost, not the one that runs the tests.
 */
export class GhostDatabase {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  static async open(ghost: GhostServer): Promise<GhostDatabase> {
    const db = new DatabaseSync(join(ghost.contentDir, 'data', 'ghost.db'));
    // Ghost holds the file open too: wait for its write lock rather than fail at once.
    db.exec('PRAGMA busy_timeout = 5000');
    return new GhostDatabase(db);
  }

  async run(sql: string, params: unknown[] = []): Promise<void> {
    this.#db.prepare(sql).run(...(params as SQLInputValue[]));
  }

  async all(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return this.#db.prepare(sql).all(...(params as SQLInputValue[])) as Record<string, unknown>[];
  }

  /**
   * Inserts a row, leaving out the columns this Ghost's schema does not have (Ghost 6 dropped some
   * audit columns Ghost 5 has, e.g. `users.created_by`).
   */
  async insert(table: string, row: Record<string, SQLInputValue>): Promise<void> {
    const columns = new Set(
      (this.#db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((column) => column.name),
    );
    const names = Object.keys(row).filter((name) => columns.has(name));
    const values = names.map((name) => row[name] as SQLInputValue);
    this.#db
      .prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`)
      .run(...values);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

/** A 24-hex id in Ghost's ObjectId form (time first). */
export function objectId(): string {
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return time + Array.from({ length: 16 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}
