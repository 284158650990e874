/**
 * The deployment an upgrade works on, reduced to what the rehearsal, the upgrade and the rollback
 * do with it. On AWS: an Aurora clone and a content copy with a one-off task; in the test bed:
 * a copy of the MariaDB database and of the content directory with a local Ghost.
 */
export interface UpgradeSite {
  /** Production's public URL and its Admin API key (the copy holds the same key: same database). */
  readonly url: string;
  readonly adminApiKey: string;
  /** A copy of production's database and content, changing nothing in production. */
  copy(label: string): Promise<SiteCopy>;
}

/** A copy of the database and content that one Ghost release can be booted on, with no traffic. */
export interface SiteCopy {
  readonly label: string;
  /** How long making the copy took. */
  readonly copyMs: number;
  /** Applied database migrations, as knex-migrator records them (its `migrations` table). */
  migrationCount(): Promise<number>;
  /**
   * Boots `version` on the copy and resolves when its Admin API answers, with its URL; throws when
   * Ghost exits (a failed migration) or does not answer within `timeoutMs`, with its log's tail.
   */
  boot(version: string, timeoutMs: number): Promise<{ url: string }>;
  /**
   * The rollback drill: stops the copy's Ghost, puts the copy's database and content back as they
   * were when copied, and boots `version` (the running release) on them; resolves once it answers.
   */
  restoreAndBoot(version: string, timeoutMs: number): Promise<{ url: string }>;
  /** Stops the copy's Ghost and deletes the copy, whatever state it is in. */
  remove(): Promise<void>;
}

/** A named point to return to: the database and the content as they were with no writer. */
export interface BackupPoint {
  readonly label: string;
  /** The release that ran on it. */
  readonly version: string;
  readonly ms: number;
}

/**
 * Production itself, for the upgrade and its rollback: one upgrade at a time (a lock), Ghost
 * stopped and started through the singleton, the backup point taken and restored.
 */
export interface UpgradeTarget {
  readonly url: string;
  readonly adminApiKey: string;
  /**
   * Takes the upgrade lock; throws UpgradeLockedError (errors.ts) when another upgrade holds it.
   * Returns its release, which never throws (a lock it cannot remove is reported with how to remove it).
   */
  lock(): Promise<() => Promise<void>>;
  stopGhost(): Promise<void>;
  /** How an operator starts the release that ran before, by hand (when the tool's own start failed). */
  howToStartByHand?(): string;
  /** Starts `version` on production's data; throws when it exits (a failed migration) or does not answer in time. */
  startGhost(version: string, timeoutMs: number): Promise<void>;
  backup(label: string, version: string): Promise<BackupPoint>;
  /** Puts the database and the content back as they were at the backup point. */
  restore(point: BackupPoint): Promise<void>;
}
