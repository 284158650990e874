import type { Logger } from '@ghost-ha/core';
import { summarizeError } from '@ghost-ha/core';
import { Journal, type OpenedJournal } from './Journal.js';
import type { JournalFileSystem } from './JournalFileSystem.js';
import type { RecentSignatures } from './RecentSignatures.js';
import { INVALIDATOR_LOG } from './signals.js';

/** A line of the file: a signature claimed by an accepted delivery (`at`: its signed timestamp), or one given back. */
export type SignatureRecord = { key: string; at: number } | { released: string };

export const SIGNATURE_LOG_FILE = 'signatures.log';
/** Records past twice the remembered set (plus this) before the file is rewritten with only those remembered. */
const REWRITE_SLACK = 1_000;

export interface SignatureLogOptions {
  /** The journal's directory (JOURNAL_DIR). */
  dir: string;
  /** The memory the file is loaded into and rewritten from; its window and count bound both. */
  recent: RecentSignatures;
  /** The journal's file operations; default node:fs. */
  fileSystem?: JournalFileSystem;
  logger: Logger;
  now: () => number;
}

/**
 * The signatures of accepted deliveries on disk (`JOURNAL_DIR/signatures.log`), so that a restart
 * does not reopen the replay window: written as the journal writes (checksummed lines, fdatasync,
 * group commit, atomic rewrite), loaded into `recent` at start, rewritten with only the signatures
 * still within the window (at most as many as `recent` keeps) at start and whenever the file holds
 * more than twice that many.
 *
 * It never stops the service: an unreadable file, a corrupt line or a failed write is logged,
 * naming what a restart may no longer refuse; the event journal stays the authority on acceptance.
 */
export class SignatureLog {
  readonly #journal: Journal<SignatureRecord> | undefined;
  readonly #recent: RecentSignatures;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Records in the file, whole or not: when to rewrite. */
  #records: number;
  #rewriting = false;

  private constructor(options: SignatureLogOptions, log: Logger, journal: Journal<SignatureRecord> | undefined) {
    this.#journal = journal;
    this.#recent = options.recent;
    this.#log = log;
    this.#now = options.now;
    this.#records = options.recent.size;
  }

  /** Loads the file into `options.recent` and rewrites it with what is still within the window. */
  static async open(options: SignatureLogOptions): Promise<SignatureLog> {
    const log = options.logger.child({ module: 'SignatureLog' });
    let opened: OpenedJournal<SignatureRecord>;
    try {
      opened = await Journal.open<SignatureRecord>(options.dir, {
        fileName: SIGNATURE_LOG_FILE,
        ...(options.fileSystem ? { fileSystem: options.fileSystem } : {}),
      });
    } catch (error) {
      log.error({ error: summarizeError(error), file: SIGNATURE_LOG_FILE }, INVALIDATOR_LOG.signaturesUnreadable);
      return new SignatureLog(options, log, undefined);
    }
    const { journal, records, skipped } = opened;
    const now = options.now();
    for (const record of records) {
      if ('released' in record) options.recent.release(record.released);
      else if (typeof record.key === 'string' && Number.isFinite(record.at)) {
        options.recent.restore(record.key, record.at, now);
      }
    }
    if (skipped.length > 0) {
      log.warn(
        { skipped: skipped.slice(0, 20), skippedCount: skipped.length, remembered: options.recent.size },
        INVALIDATOR_LOG.signaturesSkipped,
      );
    }
    const signatureLog = new SignatureLog(options, log, journal);
    await signatureLog.#rewrite();
    return signatureLog;
  }

  /** Appends a claimed signature, durable when this resolves; never rejects (a failure is logged). */
  async record(key: string, timestampMs: number): Promise<void> {
    await this.#append({ key, at: timestampMs });
    if (this.#records > 2 * this.#recent.size + REWRITE_SLACK && !this.#rewriting) void this.#rewrite();
  }

  /** Gives a signature back (its delivery was not accepted after all); never rejects. */
  async release(key: string): Promise<void> {
    await this.#append({ released: key });
  }

  async close(): Promise<void> {
    await this.#journal?.close();
  }

  async #append(record: SignatureRecord): Promise<void> {
    if (!this.#journal) return;
    this.#records += 1;
    await this.#journal.append(record).catch((error: unknown) => {
      this.#log.warn({ error: summarizeError(error) }, INVALIDATOR_LOG.signatureNotJournaled);
    });
  }

  async #rewrite(): Promise<void> {
    const journal = this.#journal;
    if (!journal) return;
    this.#rewriting = true;
    try {
      await journal.rewrite(() => {
        const live = this.#recent.live(this.#now()).map(([key, at]) => ({ key, at }));
        this.#records = live.length;
        return live;
      });
    } catch (error) {
      this.#log.warn({ error: summarizeError(error) }, INVALIDATOR_LOG.signatureNotJournaled);
    } finally {
      this.#rewriting = false;
    }
  }
}
