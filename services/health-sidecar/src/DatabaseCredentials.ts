import { type Logger, type SecretsLoader, summarizeError } from '@ghost-ha/core';
import { DatabasePasswordError } from './errors.js';
import { SIDECAR_LOG } from './signals.js';

/** A user and password the server may accept. */
export interface DatabaseLogin {
  readonly user: string;
  readonly password: string;
}

export interface DatabaseCredentialsOptions {
  /** The login injected at task start (`database__connection__user` and `..._password`); undefined: the secret's. */
  injected: DatabaseLogin | undefined;
  /** The configured user, for a secret that holds only a password. */
  user: string;
  /** `DATABASE_PASSWORD_SECRET_ID`; undefined: the injected login is the only one. */
  secretId: string | undefined;
  secrets: SecretsLoader | undefined;
  /** Least time between two reads of the secret (a refused login, or a failed read, waits this long). */
  rereadIntervalMs: number;
  /** One read of the secret gives up after this long. */
  timeoutMs: number;
  now: () => number;
  logger: Logger;
}

/**
 * The login new database connections use. The injected one first; when the server refuses it (a
 * rotation changed the password, or, with alternating users, the secret moved on to the other user and
 * this one's password changed at the next rotation), the secret's `AWSCURRENT` version is read again,
 * at most once per `rereadIntervalMs` and one read at a time, and used from then on if it differs.
 * Connections already open are never touched: MySQL and MariaDB keep a session authenticated under the
 * old password (the password is checked at connect only).
 */
export class DatabaseCredentials {
  readonly #options: DatabaseCredentialsOptions;
  readonly #log: Logger;
  #login: DatabaseLogin | undefined;
  #lastReadAt: number | undefined;
  #lastReadError: DatabasePasswordError | undefined;
  #reading: Promise<DatabaseLogin | undefined> | undefined;

  constructor(options: DatabaseCredentialsOptions) {
    this.#options = options;
    this.#log = options.logger.child({ module: 'DatabaseCredentials' });
    this.#login = options.injected;
  }

  /** The login for the next connection; without an injected one, the secret is read first. */
  async current(): Promise<DatabaseLogin> {
    if (this.#login) return this.#login;
    const login = await this.#read('the first connection');
    if (!login) throw this.#lastReadError ?? new DatabasePasswordError('the database secret could not be read');
    return login;
  }

  /**
   * The server refused `refused`: the login to try instead, or undefined without a secret. With one,
   * and no other login in it (it still holds the refused one, it was read too recently, or it could
   * not be read), a DatabasePasswordError says which, for the health output.
   */
  async afterRefusal(refused: DatabaseLogin): Promise<DatabaseLogin | undefined> {
    const { secretId, rereadIntervalMs } = this.#options;
    if (secretId === undefined) return undefined;
    // Another connection already moved on while this one was being refused.
    if (this.#login && !sameLogin(this.#login, refused)) return this.#login;
    const login = await this.#read('a refused login');
    if (login && !sameLogin(login, refused)) return login;
    const refusal = `the server refused user '${refused.user}' (ER_ACCESS_DENIED_ERROR: the password rotated?)`;
    if (!login && this.#lastReadError)
      throw new DatabasePasswordError(`${refusal} and ${this.#lastReadError.message}`, {
        cause: this.#lastReadError,
      });
    const agoS = Math.round((this.#options.now() - (this.#lastReadAt ?? 0)) / 1000);
    throw new DatabasePasswordError(
      `${refusal} and the secret '${secretId}' holds that same login (read ${agoS} s ago, again at most every ${Math.round(rereadIntervalMs / 1000)} s)`,
    );
  }

  /** One read at a time, at most one per interval; resolves undefined when none was made or it failed. */
  #read(why: string): Promise<DatabaseLogin | undefined> {
    if (this.#reading) return this.#reading;
    const now = this.#options.now();
    if (this.#lastReadAt !== undefined && now - this.#lastReadAt < this.#options.rereadIntervalMs) {
      if (this.#lastReadError) return Promise.resolve(undefined);
      return Promise.resolve(this.#login);
    }
    this.#lastReadAt = now;
    this.#reading = this.#fetch(why).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #fetch(why: string): Promise<DatabaseLogin | undefined> {
    const { secretId, secrets, timeoutMs, user } = this.#options;
    if (secretId === undefined) return this.#login;
    try {
      if (!secrets) throw new Error('DATABASE_PASSWORD_SECRET_ID is set but no Secrets Manager client was given');
      const version = await withTimeout(secrets.getVersion(secretId, 'AWSCURRENT'), timeoutMs, secretId);
      if (!version) throw new Error(`secret '${secretId}' has no AWSCURRENT version`);
      const login = loginFromSecret(secretId, version.value, user);
      const changed = this.#login === undefined || !sameLogin(login, this.#login);
      if (changed && this.#login !== undefined)
        this.#log.info({ user: login.user, versionId: version.versionId, why }, SIDECAR_LOG.databaseLoginReread);
      else if (!changed)
        this.#log.warn({ user: login.user, versionId: version.versionId }, SIDECAR_LOG.databaseLoginUnchanged);
      this.#login = login;
      this.#lastReadError = undefined;
      return login;
    } catch (error) {
      this.#lastReadError =
        error instanceof DatabasePasswordError
          ? error
          : new DatabasePasswordError(
              `the database secret '${secretId}' could not be read (${summarizeError(error).message}); new connections keep the last login, open ones stay`,
              { cause: error },
            );
      this.#log.warn({ error: summarizeError(this.#lastReadError), why }, SIDECAR_LOG.databaseSecretUnreadable);
      return undefined;
    }
  }
}

function sameLogin(a: DatabaseLogin, b: DatabaseLogin): boolean {
  return a.user === b.user && a.password === b.password;
}

/**
 * The secret is the password itself, or JSON with a `password` key and optionally `username` (RDS
 * and Secrets Manager's rotation functions write `username`: with alternating users it names the
 * user now current).
 */
export function loginFromSecret(secretId: string, value: string, user: string): DatabaseLogin {
  if (!value.trimStart().startsWith('{')) return { user, password: value };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new DatabasePasswordError(
      `Secret '${secretId}' starts like JSON but is not valid JSON. E.g. {"password":"…"}`,
    );
  }
  const { password, username } = parsed as { password?: unknown; username?: unknown };
  if (typeof password !== 'string' || password === '') {
    throw new DatabasePasswordError(
      `Secret '${secretId}' is JSON without a string 'password' key. E.g. {"password":"…"}`,
    );
  }
  if (username !== undefined && (typeof username !== 'string' || username === '')) {
    throw new DatabasePasswordError(
      `Secret '${secretId}' has a 'username' that is not a non-empty string. E.g. {"username":"ghost_app","password":"…"}`,
    );
  }
  return { user: username ?? user, password };
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, secretId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`reading secret '${secretId}' did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
