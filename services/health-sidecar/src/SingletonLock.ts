import { type Logger, summarizeError } from '@ghost-ha/core';
import type { Connection } from 'mysql2/promise';
import type { Check, Observation } from './Check.js';
import type { LockSettings } from './config.js';
import type { DatabaseConnector } from './DatabaseConnector.js';
import { LockLostError } from './errors.js';

export interface SingletonLockOptions {
  settings: LockSettings;
  connector: DatabaseConnector;
  /** How often the holder checks in; the lock connection's idle timeout is set from it. */
  checkIntervalMs: number;
  logger: Logger;
  /** Called when this task takes or loses the lock. */
  onChange?: (held: boolean) => void;
}

/** How long a polite RELEASE_LOCK may take before the connection is simply closed. */
const RELEASE_TIMEOUT_MS = 2_000;

interface LockRow {
  holder: number | null;
  me: number;
}

/**
 * "One Ghost per database" as a MySQL named lock (`GET_LOCK`), held on a dedicated connection for the
 * task's life. The server drops the lock the moment that connection ends, so a task that exits or
 * dies frees it for the next one, which is blocked in `GET_LOCK` and takes it at once. The session's
 * `wait_timeout` is kept short, so even a task that vanished without closing its socket lets go
 * within a few check intervals.
 */
export class SingletonLock {
  readonly #options: SingletonLockOptions;
  readonly #log: Logger;
  #connection: Connection | undefined;
  #held = false;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #holderInfo = '';

  constructor(options: SingletonLockOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'SingletonLock', lock: options.settings.name });
  }

  get held(): boolean {
    return this.#held;
  }

  get name(): string {
    return this.#options.settings.name;
  }

  /** Starts trying to take the lock, and to take it again whenever it is lost, until `release()`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /**
   * Asks the server whether our connection still holds the lock. Any failure (connection gone, wrong
   * holder, no answer) counts as lost: the lock is dropped and taken again from scratch.
   */
  async verify(signal: AbortSignal): Promise<boolean> {
    const connection = this.#connection;
    if (!this.#held || !connection) return false;
    const onAbort = () => this.#lose(new LockLostError('the lock connection did not answer in time'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const [rows] = await connection.query('SELECT IS_USED_LOCK(?) AS holder, CONNECTION_ID() AS me', [this.name]);
      const row = (rows as LockRow[])[0];
      if (!row || row.holder === null || Number(row.holder) !== Number(row.me)) {
        this.#lose(new LockLostError(`the server says connection ${row?.holder ?? 'none'} holds it`));
        return false;
      }
      return this.#held;
    } catch (error) {
      this.#lose(new LockLostError('the lock connection failed', { cause: error }));
      return false;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops trying, releases the lock if held and closes its connection. */
  async release(): Promise<void> {
    this.#stopped = true;
    const connection = this.#connection;
    const wasHeld = this.#held;
    this.#connection = undefined;
    if (connection && wasHeld) {
      // Ending the connection frees the lock in any case: a server that does not answer within
      // RELEASE_TIMEOUT_MS gets its socket closed instead, which is all the release there can be.
      const polite = (async () => {
        await connection.query('SELECT RELEASE_LOCK(?)', [this.name]);
        await connection.end();
      })().catch(() => connection.destroy());
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          connection.destroy();
          resolve();
        }, RELEASE_TIMEOUT_MS);
      });
      await Promise.race([polite, timedOut]);
      clearTimeout(timer);
    } else {
      // Possibly blocked in GET_LOCK: a polite end would wait for it.
      connection?.destroy();
    }
    this.#setHeld(false);
    this.#wake?.();
    await this.#loop;
    if (wasHeld) this.#log.info('lock released');
  }

  /** For the report: who holds the lock when it is not us. */
  get holderInfo(): string {
    return this.#holderInfo;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#held) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      try {
        await this.#acquire();
      } catch (error) {
        if (this.#stopped) break;
        this.#connection?.destroy();
        this.#connection = undefined;
        this.#log.warn({ err: summarizeError(error) }, 'lock connection failed; retrying');
        this.#holderInfo = `cannot reach the database to take the lock: ${summarizeError(error).message}`;
        await new Promise((resolve) => setTimeout(resolve, this.#options.settings.retryDelayMs));
      }
    }
  }

  async #acquire(): Promise<void> {
    const { settings, connector, checkIntervalMs } = this.#options;
    const connection = await connector.open((error) =>
      this.#lose(new LockLostError('connection error', { cause: error })),
    );
    if (this.#stopped) {
      connection.destroy();
      return;
    }
    this.#connection = connection;
    // The server frees the lock of a connection idle longer than this: a vanished task lets go.
    const idleSeconds = Math.max(10, Math.ceil((3 * checkIntervalMs) / 1000) + settings.waitSeconds);
    await connection.query(`SET SESSION wait_timeout = ${idleSeconds}`);
    let loggedWaiting = false;
    while (!this.#stopped && this.#connection === connection) {
      const [holders] = await connection.query('SELECT IS_USED_LOCK(?) AS holder', [settings.name]);
      const holder = (holders as { holder: number | null }[])[0]?.holder ?? null;
      this.#holderInfo = holder === null ? 'free' : `held by database connection ${holder}`;
      if (holder !== null && !loggedWaiting) {
        this.#log.info({ holder }, 'another task holds the lock; waiting for it');
        loggedWaiting = true;
      }
      const [rows] = await connection.query('SELECT GET_LOCK(?, ?) AS got', [settings.name, settings.waitSeconds]);
      const got = (rows as { got: number | null }[])[0]?.got;
      if (got === 1) {
        if (this.#stopped || this.#connection !== connection) return;
        this.#holderInfo = 'held by this task';
        this.#setHeld(true);
        this.#log.info('lock acquired');
        return;
      }
      if (got === null || got === undefined) throw new Error('GET_LOCK returned NULL (the server reported an error)');
    }
  }

  #lose(error: LockLostError): void {
    if (!this.#held) {
      // Not held: a connection error while waiting surfaces through the pending query.
      return;
    }
    this.#log.error({ err: summarizeError(error) }, 'lock lost');
    this.#connection?.destroy();
    this.#connection = undefined;
    this.#setHeld(false);
    this.#wake?.();
  }

  #setHeld(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    this.#options.onChange?.(held);
  }
}

/** The lock as a check: only the holder may serve, everyone else is a standby. */
export class SingletonLockCheck implements Check {
  readonly key = 'singletonLock:held';
  readonly componentType = 'component';
  readonly #lock: SingletonLock;

  constructor(lock: SingletonLock) {
    this.#lock = lock;
  }

  async run(signal: AbortSignal): Promise<Observation> {
    if (await this.#lock.verify(signal)) return { status: 'pass', observedValue: true };
    return {
      status: 'fail',
      observedValue: false,
      output: `this task does not hold lock '${this.#lock.name}' (${this.#lock.holderInfo || 'not taken yet'})`,
    };
  }
}
