import type { SecretsLoader } from '@ghost-ha/core';
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import { destroyConnection } from './boundedQuery.js';
import type { DatabaseSettings } from './config.js';
import { DatabasePasswordError, QueryTimeoutError } from './errors.js';

/** Opens one MySQL connection; tests and the app pass mysql2's, the seam exists for fault injection. */
export type ConnectDatabase = (options: ConnectionOptions) => Promise<Connection>;

export const connectWithMysql2: ConnectDatabase = (options) => mysql.createConnection(options);

export interface DatabaseConnectorOptions {
  settings: DatabaseSettings;
  connect: ConnectDatabase;
  /** Needed when the password comes from `DATABASE_PASSWORD_SECRET_ID`. */
  secrets: SecretsLoader | undefined;
  connectTimeoutMs: number;
  /** Idle time before TCP keepalive probes start, so a peer that vanished without a FIN is noticed. */
  keepAliveInitialDelayMs?: number;
}

/**
 * Opens connections with the settings Ghost uses. A password from Secrets Manager is read through
 * the loader's cache, and re-read after the server refused it (the secret may have been rotated).
 */
export class DatabaseConnector {
  readonly #options: DatabaseConnectorOptions;

  constructor(options: DatabaseConnectorOptions) {
    this.#options = options;
  }

  /**
   * A new connection, or a failure within the connect timeout whatever the server does. `onError`
   * hears about errors on an idle connection (the server went away); without a listener mysql2
   * would raise them as an uncaught 'error' event.
   */
  async open(onError: (error: unknown) => void = () => {}): Promise<Connection> {
    const { settings, connect, connectTimeoutMs, keepAliveInitialDelayMs } = this.#options;
    try {
      const connecting = connect({
        host: settings.host,
        port: settings.port,
        user: settings.user,
        password: await this.#password(),
        database: settings.database,
        ...(settings.ssl === undefined ? {} : { ssl: settings.ssl }),
        connectTimeout: connectTimeoutMs,
        enableKeepAlive: true,
        keepAliveInitialDelay: keepAliveInitialDelayMs ?? connectTimeoutMs,
      });
      const connection = await withDeadline(connecting, connectTimeoutMs);
      connection.on('error', onError);
      return connection;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ER_ACCESS_DENIED_ERROR' && settings.passwordSecretId) {
        this.#options.secrets?.invalidate(settings.passwordSecretId);
      }
      throw error;
    }
  }

  async #password(): Promise<string> {
    const { settings, secrets } = this.#options;
    if (settings.passwordSecretId === undefined) return settings.password ?? '';
    if (!secrets)
      throw new DatabasePasswordError('DATABASE_PASSWORD_SECRET_ID is set but no Secrets Manager client was given');
    return passwordFromSecret(settings.passwordSecretId, await secrets.getString(settings.passwordSecretId));
  }
}

/**
 * mysql2's connect timeout covers the handshake; this is the same bound kept by us, so a connection
 * that never completes cannot hold up a caller. A connection that arrives too late is destroyed.
 */
async function withDeadline(connecting: Promise<Connection>, timeoutMs: number): Promise<Connection> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new QueryTimeoutError('connecting to the database', timeoutMs));
    }, timeoutMs + 100);
  });
  connecting.then(
    (connection) => {
      if (late) destroyConnection(connection);
    },
    () => undefined,
  );
  try {
    return await Promise.race([connecting, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The secret is the password itself, or JSON with a `password` key (RDS-managed secrets look like that). */
export function passwordFromSecret(secretId: string, value: string): string {
  if (!value.trimStart().startsWith('{')) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new DatabasePasswordError(
      `Secret '${secretId}' starts like JSON but is not valid JSON. E.g. {"password":"…"}`,
    );
  }
  const password = (parsed as { password?: unknown }).password;
  if (typeof password !== 'string' || password === '') {
    throw new DatabasePasswordError(
      `Secret '${secretId}' is JSON without a string 'password' key. E.g. {"password":"…"}`,
    );
  }
  return password;
}
