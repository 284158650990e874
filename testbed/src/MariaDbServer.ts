import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultLockName, LEASE_TABLE, leaseTableDdl, provisionLeaseSql } from '@ghost-ha/core';
import mysql from 'mysql2/promise';
import { freePort } from './freePort.js';
import { ManagedProcess } from './ManagedProcess.js';
import { mariadbBin } from './tools.js';
import { waitFor } from './waitFor.js';

const run = promisify(execFile);

export interface MariaDbServerOptions {
  /**
   * Where to listen: default 127.0.0.1 on a free port. Another loopback address (127.0.0.0/8) lets
   * the server take a fixed port such as 3306 without clashing with anything else on the machine.
   */
  host?: string;
  port?: number;
  /**
   * Serve TLS with a certificate for `host` from a CA of its own (`caPem`), as Aurora serves its
   * endpoint's. Clients still choose: a user made to `REQUIRE SSL` is refused over plain TCP.
   */
  tls?: boolean;
}

export interface DatabaseSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** With a TLS server: the CA its certificate chains to, for the clients to verify it. */
  ssl?: { ca: string };
}

/**
 * A MariaDB server of the test bed's own: its own data directory under /tmp and a free port, so a
 * system database is never touched. One application user (`ghost`) for `%` and `localhost`, since
 * MariaDB's anonymous localhost user would otherwise shadow it.
 */
export class MariaDbServer {
  host = '127.0.0.1';
  port = 0;
  readonly user = 'ghost';
  readonly password = 'ghost-test-password';
  /** The CA that signed the server's certificate (PEM), with `tls`; otherwise ''. */
  caPem = '';
  #dir = '';
  #tlsArgs: string[] = [];
  #process: ManagedProcess | undefined;

  static async start(options: MariaDbServerOptions = {}): Promise<MariaDbServer> {
    const server = new MariaDbServer();
    try {
      if (options.host) server.host = options.host;
      await server.#init(options.port);
      if (options.tls) await server.#createCertificates();
      await server.start();
      await server.#createUser();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** Settings for a database of this server, created if missing. */
  async database(name: string): Promise<DatabaseSettings> {
    checkDatabaseName(name);
    await this.rootQuery(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`);
    // A fresh database, as the deployment's database step leaves it: no Ghost ran here, so its lease
    // is released (a missing lease row never counts as free: the sidecar would wait out a full TTL).
    await this.rootQuery(leaseTableDdl(`\`${name}\`.${LEASE_TABLE}`));
    await this.rootQuery(provisionLeaseSql(`\`${name}\`.${LEASE_TABLE}`), [defaultLockName(name)]);
    const settings = { host: this.host, port: this.port, user: this.user, password: this.password, database: name };
    return this.caPem ? { ...settings, ssl: { ca: this.caPem } } : settings;
  }

  /** The server's data directory: a database's tables are files in its subdirectory of that name. */
  get dataDirectory(): string {
    return join(this.#dir, 'data');
  }

  get isRunning(): boolean {
    return this.#process?.isRunning ?? false;
  }

  async start(): Promise<void> {
    const bin = mariadbBin();
    this.#process = new ManagedProcess({
      name: 'mariadbd',
      command: join(bin, 'mariadbd'),
      args: [
        '--no-defaults',
        `--datadir=${join(this.#dir, 'data')}`,
        `--socket=${join(this.#dir, 'mysqld.sock')}`,
        `--pid-file=${join(this.#dir, 'mysqld.pid')}`,
        `--port=${this.port}`,
        // Its own temporary directory: servers of parallel tests must not share /tmp's temp tables.
        `--tmpdir=${this.#dir}`,
        `--bind-address=${this.host}`,
        '--user=root',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=16M',
        '--max-connections=200',
        ...this.#tlsArgs,
      ],
      logFile: join(this.#dir, 'mariadbd.log'),
    });
    this.#process.start();
    const managed = this.#process;
    await waitFor(async () => ((await this.#ping()) ? true : undefined), {
      what: 'MariaDB to accept connections',
      timeoutMs: 30_000,
      abortIf: () => (managed.isRunning ? undefined : `mariadbd exited:\n${managed.tail()}`),
    });
  }

  /** A clean shutdown. */
  async stop(): Promise<void> {
    await this.#process?.stop(20_000);
  }

  /** SIGKILL, as a crashed or vanished database. */
  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Sends a signal to mariadbd: SIGSTOP and SIGCONT make a hung database. */
  signal(signal: NodeJS.Signals): void {
    this.#process?.signal(signal);
  }

  /** `read_only` as on an Aurora secondary: writes by non-admin users fail. */
  async setReadOnly(readOnly: boolean): Promise<void> {
    await this.rootQuery(`SET GLOBAL read_only = ${readOnly ? 'ON' : 'OFF'}`);
  }

  /** Runs one statement as root over the socket. */
  async rootQuery(sql: string, values?: unknown[]): Promise<unknown> {
    const connection = await mysql.createConnection({ socketPath: join(this.#dir, 'mysqld.sock'), user: 'root' });
    try {
      const [rows] = await connection.query(sql, values);
      return rows;
    } finally {
      await connection.end();
    }
  }

  /** A root session over the socket that stays open, e.g. to hold `LOCK TABLES`; the caller ends it. */
  rootConnection(database?: string): Promise<mysql.Connection> {
    return mysql.createConnection({ socketPath: join(this.#dir, 'mysqld.sock'), user: 'root', database });
  }

  /**
   * Dumps one database to a file with mariadb-dump (one transaction: a consistent copy while Ghost
   * writes), as root over the socket.
   */
  async dumpDatabase(name: string, file: string): Promise<void> {
    checkDatabaseName(name);
    await this.#pipe('mariadb-dump', ['--single-transaction', '--routines', '--triggers', '--hex-blob', name], {
      to: file,
    });
  }

  /** Replaces database `name` by the dump in `file`: dropped, created empty, then loaded. */
  async loadDatabase(name: string, file: string): Promise<void> {
    checkDatabaseName(name);
    await this.rootQuery(`DROP DATABASE IF EXISTS \`${name}\``);
    await this.rootQuery(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    await this.#pipe('mariadb', [name], { from: file });
  }

  async dropDatabase(name: string): Promise<void> {
    checkDatabaseName(name);
    await this.rootQuery(`DROP DATABASE IF EXISTS \`${name}\``);
  }

  /** Runs a MariaDB client as root over the socket, its output to a file or its input from one. */
  async #pipe(command: string, args: string[], file: { to?: string; from?: string }): Promise<void> {
    const child = spawn(
      command,
      ['--no-defaults', `--socket=${join(this.#dir, 'mysqld.sock')}`, '-u', 'root', ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    if (file.to) child.stdout.pipe(createWriteStream(file.to));
    else child.stdout.resume();
    if (file.from) createReadStream(file.from).pipe(child.stdin);
    else child.stdin.end();
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
  }

  /** Stops the server and removes its data directory. */
  async destroy(): Promise<void> {
    await this.kill();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }

  async #init(port: number | undefined): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'ghost-ha-mariadb-'));
    this.port = port ?? (await freePort());
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${join(this.#dir, 'data')}`,
        '--user=root',
        '--auth-root-authentication-method=socket',
        '--skip-test-db',
      ],
      // Its temporary tables in a directory of its own, as the server's (--tmpdir): not among the
      // other processes' files in a shared TMPDIR.
      { timeout: 120_000, env: { ...process.env, TMPDIR: this.#dir } },
    );
  }

  /** A CA and a server certificate for `host` (its IP address as subjectAltName), with openssl. */
  async #createCertificates(): Promise<void> {
    const file = (name: string) => join(this.#dir, name);
    const openssl = (args: string[]) => run('openssl', args, { timeout: 60_000 });
    await openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=ghost-ha test CA'].concat([
        '-keyout',
        file('ca-key.pem'),
        '-out',
        file('ca.pem'),
      ]),
    );
    await openssl(
      ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${this.host}`].concat([
        '-keyout',
        file('server-key.pem'),
        '-out',
        file('server.csr'),
      ]),
    );
    await writeFile(file('server.ext'), `subjectAltName=IP:${this.host}\n`);
    await openssl(
      ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem')].concat([
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        file('server.ext'),
        '-out',
        file('server.pem'),
      ]),
    );
    this.caPem = await readFile(file('ca.pem'), 'utf8');
    this.#tlsArgs = [
      `--ssl-ca=${file('ca.pem')}`,
      `--ssl-cert=${file('server.pem')}`,
      `--ssl-key=${file('server-key.pem')}`,
    ];
  }

  async #createUser(): Promise<void> {
    for (const host of ['%', 'localhost']) {
      await this.rootQuery(`CREATE USER IF NOT EXISTS '${this.user}'@'${host}' IDENTIFIED BY '${this.password}'`);
      await this.rootQuery(`GRANT ALL PRIVILEGES ON *.* TO '${this.user}'@'${host}'`);
    }
    // Without SUPER, the application user is subject to read_only, as Ghost is on an Aurora reader.
    for (const host of ['%', 'localhost']) {
      await this.rootQuery(`REVOKE SUPER, READ_ONLY ADMIN ON *.* FROM '${this.user}'@'${host}'`).catch(() => undefined);
    }
  }

  async #ping(): Promise<boolean> {
    try {
      await this.rootQuery('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}

function checkDatabaseName(name: string): void {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name '${name}' must match [a-z0-9_]+`);
}
