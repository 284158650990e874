import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import { destroyConnection } from './boundedQuery.js';
import type { DatabaseSettings } from './config.js';
import type { DatabaseCredentials, DatabaseLogin } from './DatabaseCredentials.js';
import { QueryTimeoutError } from './errors.js';

/** Opens one MySQL connection; tests and the app pass mysql2's, the seam exists for fault injection. */
export type ConnectDatabase = (options: ConnectionOptions) => Promise<Connection>;

export const connectWithMysql2: ConnectDatabase = (options) => mysql.createConnection(options);

export interface DatabaseConnectorOptions {
  settings: DatabaseSettings;
  connect: ConnectDatabase;
  /** The login for new connections, followed after a refusal. */
  credentials: DatabaseCredentials;
  connectTimeoutMs: number;
  /** Idle time before TCP keepalive probes start, so a peer that vanished without a FIN is noticed. */
  keepAliveInitialDelayMs?: number;
}

/**
 * Opens connections with the settings Ghost uses. A connection the server refuses for its login
 * (ER_ACCESS_DENIED_ERROR, 1045: the password was rotated) is tried once more with the login read
 * again from the secret, when that differs; connections already open are left alone.
 */
export class DatabaseConnector {
  readonly #options: DatabaseConnectorOptions;

  constructor(options: DatabaseConnectorOptions) {
    this.#options = options;
  }

  /**
   * A new connection, or a failure within the connect timeout whatever the server does (twice that
   * and a read of the secret after a refused login). `onError` hears about errors on an idle
   * connection (the server went away); without a listener mysql2 would raise them as an uncaught
   * 'error' event.
   */
  async open(onError: (error: unknown) => void = () => {}): Promise<Connection> {
    const { credentials } = this.#options;
    const login = await credentials.current();
    try {
      return await this.#openAs(login, onError);
    } catch (error) {
      if (!isAccessDenied(error)) throw error;
      const next = await credentials.afterRefusal(login);
      if (!next) throw error;
      return await this.#openAs(next, onError);
    }
  }

  async #openAs(login: DatabaseLogin, onError: (error: unknown) => void): Promise<Connection> {
    const { settings, connect, connectTimeoutMs, keepAliveInitialDelayMs } = this.#options;
    const connecting = connect({
      host: settings.host,
      port: settings.port,
      user: login.user,
      password: login.password,
      database: settings.database,
      ...(settings.ssl === undefined ? {} : { ssl: settings.ssl }),
      connectTimeout: connectTimeoutMs,
      enableKeepAlive: true,
      keepAliveInitialDelay: keepAliveInitialDelayMs ?? connectTimeoutMs,
    });
    const connection = await withDeadline(connecting, connectTimeoutMs);
    connection.on('error', onError);
    return connection;
  }
}

/** The server refused the user and password (MySQL and MariaDB error 1045). */
function isAccessDenied(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'ER_ACCESS_DENIED_ERROR';
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
