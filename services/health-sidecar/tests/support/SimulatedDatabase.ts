import type { Connection } from 'mysql2/promise';
import type { Actor, VirtualTime } from './VirtualTime.js';

/** A MySQL error as mysql2 raises it: `code` and `errno` are what the code under test reads. */
export class SimulatedSqlError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(code: string, errno: number, message: string) {
    super(message);
    this.name = 'SimulatedSqlError';
    this.code = code;
    this.errno = errno;
  }
}

const readOnlyError = () =>
  new SimulatedSqlError(
    'ER_OPTION_PREVENTS_STATEMENT',
    1290,
    'The MariaDB server is running with the --read-only option so it cannot execute this statement',
  );
const goneError = () =>
  new SimulatedSqlError('PROTOCOL_CONNECTION_LOST', 0, 'Connection lost: The server closed the connection.');

/** One lease row, times on the database clock (ms). Columns a version of the code does not know stay undefined. */
export interface SimulatedLeaseRow {
  holder: string;
  heartbeatAt: number;
  takenAt: number;
  ttlMs: number;
  ghostMayRun: number;
  epoch?: number;
  lockConnection?: number;
  /** Bumped by every write; not a column: what the simulation's own bookkeeping compares. */
  version: number;
}

/** A lease write as the simulation saw it, for the invariants. */
export interface LeaseWrite {
  at: number;
  writer: Actor;
  /** The row before and after. */
  before: SimulatedLeaseRow | undefined;
  after: SimulatedLeaseRow;
  /** The version of the row the writer last read (any connection), undefined if it never read one. */
  writerLastRead: number | undefined;
  /** What the writer was doing when the write ran (`describeWriter`). */
  writerState: string | undefined;
}

interface Pending {
  settled: boolean;
  /** What the sender was doing when it sent the statement. */
  senderState: string | undefined;
  resolve: (value: [unknown, unknown]) => void;
  reject: (error: unknown) => void;
}

/**
 * One database server: its own named locks and sessions (an Aurora instance), the shared table
 * storage is the cluster's. `readOnly` is what `@@read_only`/`@@innodb_read_only` say on a reader.
 */
export class SimulatedServer {
  readonly id: number;
  readOnly = false;
  down = false;
  /** Answers nothing (queries and connects wait) until then. */
  hungUntil = 0;
  readonly locks = new Map<string, SimulatedConnection>();
  readonly waiters = new Map<string, { connection: SimulatedConnection; grant: () => void }[]>();
  readonly sessions = new Map<number, SimulatedConnection>();
  #nextSession = 1;

  constructor(id: number) {
    this.id = id;
  }

  nextSessionId(): number {
    return this.#nextSession++;
  }
}

/**
 * An Aurora-like cluster for the lock protocol: servers (a writer, maybe an old writer demoted to
 * reader that a stale endpoint still reaches), one table storage they share, one database clock
 * that can be stepped. It answers exactly the statements the sidecar's lock and lease send; any
 * other statement is recorded in `unmodeled` (the simulation then fails: a stand-in must not guess).
 */
export class SimulatedDatabase {
  readonly time: VirtualTime;
  readonly rttMs: number;
  servers: SimulatedServer[] = [];
  writer: SimulatedServer;
  /** New connections reach this server instead of the writer until `staleUntil` (a cached endpoint). */
  staleServer: SimulatedServer | undefined;
  staleUntil = 0;
  clockOffsetMs = 0;
  tableExists = false;
  readonly columns = new Set<string>();
  readonly rows = new Map<string, SimulatedLeaseRow>();
  writesBlockedUntil = 0;
  readonly writes: LeaseWrite[] = [];
  readonly unmodeled: string[] = [];
  readonly lastRead = new Map<Actor, number>();
  /** Names what a writer was doing when it sent a write (the simulation asks its lock). */
  describeWriter: (actor: Actor) => string | undefined = () => undefined;
  #version = 0;
  #serverIds = 0;
  readonly #blockedWrites: (() => void)[] = [];

  constructor(time: VirtualTime, rttMs: number) {
    this.time = time;
    this.rttMs = rttMs;
    this.writer = this.#newServer();
  }

  /** `UTC_TIMESTAMP(6)`, in ms. */
  get dbNow(): number {
    return this.time.now + this.clockOffsetMs;
  }

  /** Opens a connection for `owner`, as `DatabaseConnector.open` would (bounded by `timeoutMs`). */
  connect(owner: Actor, onError: (error: unknown) => void, timeoutMs: number): Promise<Connection> {
    const server = this.time.now < this.staleUntil && this.staleServer ? this.staleServer : this.writer;
    return new Promise((resolve, reject) => {
      if (server.down) {
        this.time.schedule(owner, this.rttMs, () =>
          reject(new SimulatedSqlError('ECONNREFUSED', 0, 'connect ECONNREFUSED')),
        );
        return;
      }
      const hung = server.hungUntil > this.time.now + this.rttMs;
      if (hung && server.hungUntil > this.time.now + timeoutMs) {
        this.time.schedule(owner, timeoutMs + 100, () =>
          reject(new Error('connecting to the database did not answer')),
        );
        return;
      }
      const delay = (hung ? server.hungUntil - this.time.now : 0) + this.rttMs;
      this.time.schedule(owner, delay, () => {
        if (server.down || !this.servers.includes(server)) {
          reject(new SimulatedSqlError('ECONNREFUSED', 0, 'connect ECONNREFUSED'));
          return;
        }
        const connection = new SimulatedConnection(this, server, owner, onError);
        server.sessions.set(connection.id, connection);
        resolve(connection as unknown as Connection);
      });
    });
  }

  /** The table of today's schema with a released row and no holder (what `Lease.provision` writes). */
  provision(name: string, ttlMs: number): void {
    this.tableExists = true;
    for (const column of [
      'name',
      'holder',
      'heartbeat_at',
      'taken_at',
      'ttl_ms',
      'ghost_may_run',
      'epoch',
      'lock_connection',
    ])
      this.columns.add(column);
    this.rows.set(name, {
      holder: '',
      heartbeatAt: this.dbNow,
      takenAt: this.dbNow,
      ttlMs,
      ghostMayRun: 0,
      epoch: 0,
      lockConnection: 0,
      version: this.bumpVersion(),
    });
  }

  // --- faults -------------------------------------------------------------------------------

  /** The writer is demoted (its sessions and locks gone, read-only from now on) and a fresh writer promoted; a cached endpoint reaches the old one for `staleMs`. */
  failover(staleMs: number): void {
    const old = this.writer;
    this.#dropSessions(old);
    old.readOnly = true;
    this.writer = this.#newServer();
    this.staleServer = old;
    this.staleUntil = this.time.now + staleMs;
  }

  /** The writer restarts: every session and lock gone, connections refused for `downMs`. */
  restart(downMs: number): void {
    const server = this.writer;
    this.#dropSessions(server);
    server.down = true;
    this.time.schedule(undefined, downMs, () => {
      server.down = false;
    });
  }

  hang(ms: number): void {
    const server = this.writer;
    server.hungUntil = Math.max(server.hungUntil, this.time.now + ms);
    this.time.schedule(undefined, ms, () => {
      for (const connection of server.sessions.values()) connection.drain();
    });
  }

  blockWrites(ms: number): void {
    this.writesBlockedUntil = Math.max(this.writesBlockedUntil, this.time.now + ms);
    this.time.schedule(undefined, ms, () => {
      if (this.time.now < this.writesBlockedUntil) return;
      for (const release of this.#blockedWrites.splice(0)) release();
    });
  }

  stepClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  deleteRow(name: string): void {
    this.rows.delete(name);
  }

  dropTable(): void {
    this.tableExists = false;
    this.columns.clear();
    this.rows.clear();
  }

  /** `KILL` by an operator (or another tool) of whichever session holds `lock` on the writer. */
  killLockHolder(lock: string): void {
    this.writer.locks.get(lock)?.closeOnServer();
  }

  /** Every session of `owner`'s process ends at once on the server side (the network dropped them). */
  dropSessionsOf(owner: Actor): void {
    for (const server of this.servers)
      for (const connection of [...server.sessions.values()])
        if (connection.owner === owner) connection.closeOnServer();
  }

  // --- what the connections call -----------------------------------------------------------

  /**
   * A write while writes are blocked waits for the block to end, or fails after the session's
   * `lock_wait_timeout`. It is not given up when its client goes away: the server finishes it.
   */
  waitForWrites(release: () => void, waitS: number, timedOut: () => void): boolean {
    if (this.time.now >= this.writesBlockedUntil) return false;
    let done = false;
    this.#blockedWrites.push(() => {
      if (done) return;
      done = true;
      release();
    });
    this.time.schedule(undefined, waitS * 1000, () => {
      if (done) return;
      done = true;
      timedOut();
    });
    return true;
  }

  bumpVersion(): number {
    this.#version += 1;
    return this.#version;
  }

  recordWrite(
    writer: Actor,
    writerState: string | undefined,
    before: SimulatedLeaseRow | undefined,
    after: SimulatedLeaseRow,
  ): void {
    this.writes.push({
      at: this.time.now,
      writer,
      before: before ? { ...before } : undefined,
      after: { ...after },
      writerLastRead: this.lastRead.get(writer),
      writerState,
    });
  }

  #newServer(): SimulatedServer {
    this.#serverIds += 1;
    const server = new SimulatedServer(this.#serverIds);
    this.servers.push(server);
    return server;
  }

  #dropSessions(server: SimulatedServer): void {
    for (const connection of [...server.sessions.values()]) connection.closeOnServer();
    server.locks.clear();
    server.waiters.clear();
  }
}

/**
 * One session, as mysql2/promise's `Connection` is used by the code (`query`, `end`, `destroy`;
 * the `error` listener is given to `connect`). A statement is executed by the server when it is
 * sent (or when a hung server resumes); its answer reaches the client one round trip later, on the
 * client's own timers, so a paused client sees it only once it resumes.
 */
export class SimulatedConnection {
  readonly id: number;
  readonly server: SimulatedServer;
  readonly owner: Actor;
  readonly #db: SimulatedDatabase;
  readonly #onError: (error: unknown) => void;
  #clientOpen = true;
  #serverOpen = true;
  readonly #pending = new Set<Pending>();
  readonly #queued: (() => void)[] = [];
  waitTimeoutS = 28_800;
  /** MariaDB's default `lock_wait_timeout` (one day). */
  lockWaitS = 86_400;
  lastActiveAt: number;
  #idleCheck = 0;

  constructor(db: SimulatedDatabase, server: SimulatedServer, owner: Actor, onError: (error: unknown) => void) {
    this.#db = db;
    this.server = server;
    this.owner = owner;
    this.#onError = onError;
    this.id = server.nextSessionId();
    this.lastActiveAt = db.time.now;
  }

  get open(): boolean {
    return this.#serverOpen;
  }

  /** What `information_schema.PROCESSLIST` says: `Sleep` while no statement runs, for how long. */
  get idle(): boolean {
    return this.#pending.size === 0;
  }

  query(sql: string, values: unknown[] = []): Promise<[unknown, unknown]> {
    if (!this.#clientOpen) return Promise.reject(new Error("Can't add new command when connection is in closed state"));
    return new Promise((resolve, reject) => {
      const pending: Pending = { settled: false, senderState: this.#db.describeWriter(this.owner), resolve, reject };
      this.#pending.add(pending);
      const run = () => this.#execute(sql.replace(/\s+/g, ' ').trim(), values, pending);
      if (this.server.hungUntil > this.#db.time.now) this.#queued.push(run);
      else run();
    });
  }

  /** A hung server resumed: what was sent meanwhile runs now. */
  drain(): void {
    for (const run of this.#queued.splice(0)) run();
  }

  async end(): Promise<void> {
    this.destroy();
  }

  /** Closed by the client: pending statements fail now, the server frees the session a round trip later. */
  destroy(): void {
    if (!this.#clientOpen) return;
    this.#clientOpen = false;
    for (const pending of this.#pending) this.#settle(pending, undefined, goneError(), false);
    this.#db.time.schedule(undefined, this.#db.rttMs, () => this.closeOnServer(false));
  }

  /** Closed on the server side (KILL, restart, a dropped network path, wait_timeout). */
  closeOnServer(tellClient = true): void {
    if (!this.#serverOpen) return;
    this.#serverOpen = false;
    const server = this.server;
    server.sessions.delete(this.id);
    for (const [name, holder] of [...server.locks]) if (holder === this) this.#releaseLock(name);
    for (const [name, list] of server.waiters) {
      const kept = list.filter((waiter) => waiter.connection !== this);
      server.waiters.set(name, kept);
    }
    if (!tellClient || !this.#clientOpen) return;
    // The client learns of it on its own timers: a paused client later.
    this.#db.time.schedule(this.owner, 0, () => {
      if (!this.#clientOpen) return;
      this.#clientOpen = false;
      const hadPending = this.#pending.size > 0;
      for (const pending of this.#pending) this.#settle(pending, undefined, goneError(), false);
      if (!hadPending) this.#onError(goneError());
    });
  }

  #answer(pending: Pending, rows: unknown, error?: unknown): undefined {
    this.lastActiveAt = this.#db.time.now;
    this.#armIdleCheck();
    this.#db.time.schedule(this.owner, this.#db.rttMs, () => this.#settle(pending, rows, error, true));
    return undefined;
  }

  #settle(pending: Pending, rows: unknown, error: unknown, fromServer: boolean): void {
    if (pending.settled) return;
    if (fromServer && !this.#clientOpen) return;
    pending.settled = true;
    this.#pending.delete(pending);
    if (error) pending.reject(error);
    else pending.resolve([rows, undefined]);
  }

  /** The server ends a session idle for longer than its `wait_timeout`. */
  #armIdleCheck(): void {
    const check = ++this.#idleCheck;
    this.#db.time.schedule(undefined, this.waitTimeoutS * 1000, () => {
      if (check === this.#idleCheck && this.#serverOpen && this.#pending.size === 0) this.closeOnServer();
    });
  }

  #releaseLock(name: string): void {
    const server = this.server;
    server.locks.delete(name);
    const next = server.waiters.get(name)?.shift();
    if (next) next.grant();
  }

  #execute(sql: string, values: unknown[], pending: Pending): undefined {
    if (!this.#serverOpen) return;
    const db = this.#db;
    const server = this.server;
    const ok = (rows: unknown): undefined => this.#answer(pending, rows);
    const fail = (error: unknown): undefined => this.#answer(pending, undefined, error);
    const waitTimeout = sql.match(/^SET SESSION wait_timeout = (\d+)$/);
    const lockWait = sql.match(/^SET SESSION lock_wait_timeout = (\d+), innodb_lock_wait_timeout = \d+$/);
    const kill = sql.match(/^KILL (\d+)$/);
    if (waitTimeout) {
      this.waitTimeoutS = Number(waitTimeout[1]);
      return ok({ affectedRows: 0 });
    }
    if (lockWait) {
      this.lockWaitS = Number(lockWait[1]);
      return ok({ affectedRows: 0 });
    }
    if (sql === 'SELECT GET_LOCK(?, ?) AS got') {
      const name = String(values[0]);
      const holder = server.locks.get(name);
      if (!holder || holder === this) {
        server.locks.set(name, this);
        return ok([{ got: 1 }]);
      }
      const waitMs = Number(values[1]) * 1000;
      let done = false;
      const list = server.waiters.get(name) ?? [];
      const waiter = {
        connection: this,
        grant: () => {
          if (done || !this.#serverOpen) return;
          done = true;
          server.locks.set(name, this);
          ok([{ got: 1 }]);
        },
      };
      list.push(waiter);
      server.waiters.set(name, list);
      db.time.schedule(undefined, waitMs, () => {
        if (done) return;
        done = true;
        server.waiters.set(
          name,
          (server.waiters.get(name) ?? []).filter((w) => w !== waiter),
        );
        if (this.#serverOpen) ok([{ got: 0 }]);
      });
      return;
    }
    if (sql === 'SELECT IS_USED_LOCK(?) AS holder, CONNECTION_ID() AS me') {
      return ok([{ holder: server.locks.get(String(values[0]))?.id ?? null, me: this.id }]);
    }
    if (sql === 'SELECT IS_USED_LOCK(?) AS holder') {
      return ok([{ holder: server.locks.get(String(values[0]))?.id ?? null }]);
    }
    if (sql === 'SELECT CONNECTION_ID() AS me, @@read_only AS readOnly, @@innodb_read_only AS innodbReadOnly') {
      const flag = server.readOnly ? 1 : 0;
      return ok([{ me: this.id, readOnly: flag, innodbReadOnly: flag }]);
    }
    if (sql === 'SELECT RELEASE_LOCK(?)') {
      const name = String(values[0]);
      const holder = server.locks.get(name);
      if (holder === this) {
        this.#releaseLock(name);
        return ok([{ 'RELEASE_LOCK(?)': 1 }]);
      }
      return ok([{ 'RELEASE_LOCK(?)': holder ? 0 : null }]);
    }
    if (kill) {
      const target = server.sessions.get(Number(kill[1]));
      if (!target) return fail(new SimulatedSqlError('ER_NO_SUCH_THREAD', 1094, `Unknown thread id: ${kill[1]}`));
      target.closeOnServer();
      return ok({ affectedRows: 0 });
    }
    if (sql.startsWith('SELECT COMMAND AS command, TIME AS idleS FROM information_schema.PROCESSLIST WHERE ID = ?')) {
      const target = server.sessions.get(Number(values[0]));
      if (!target) return ok([]);
      return ok([
        {
          command: target.idle ? 'Sleep' : 'Query',
          idleS: target.idle ? Math.floor((db.time.now - target.lastActiveAt) / 1000) : 0,
        },
      ]);
    }
    if (sql.includes('ghost_ha_lease')) return this.#lease(sql, values, pending, ok, fail);
    db.unmodeled.push(sql);
    return fail(new Error(`statement not modeled by the simulation: ${sql}`));
  }

  #lease(
    sql: string,
    values: unknown[],
    pending: Pending,
    ok: (rows: unknown) => undefined,
    fail: (error: unknown) => undefined,
  ): undefined {
    const db = this.#db;
    const isWrite = !sql.startsWith('SELECT');
    if (isWrite && this.server.readOnly) return fail(readOnlyError());
    if (isWrite && !sql.startsWith('CREATE') && !sql.startsWith('ALTER')) {
      const waiting = db.waitForWrites(
        () => this.#lease(sql, values, pending, ok, fail),
        this.lockWaitS,
        () =>
          fail(
            new SimulatedSqlError(
              'ER_LOCK_WAIT_TIMEOUT',
              1205,
              'Lock wait timeout exceeded; try restarting transaction',
            ),
          ),
      );
      if (waiting) return;
    }
    const noTable = () =>
      fail(new SimulatedSqlError('ER_NO_SUCH_TABLE', 1146, "Table 'ghost.ghost_ha_lease' doesn't exist"));
    const statement = LEASE_STATEMENTS.find((candidate) => candidate.pattern.test(sql));
    if (!statement) {
      db.unmodeled.push(sql);
      return fail(new Error(`statement not modeled by the simulation: ${sql}`));
    }
    if (statement.kind !== 'create' && statement.kind !== 'schema' && !db.tableExists) return noTable();
    const unknown = statement.columns?.find((column) => !db.columns.has(column));
    if (unknown)
      return fail(new SimulatedSqlError('ER_BAD_FIELD_ERROR', 1054, `Unknown column '${unknown}' in 'field list'`));
    statement.run({ db, connection: this, sql, values, senderState: pending.senderState, ok, fail });
  }
}

interface LeaseStatementContext {
  db: SimulatedDatabase;
  connection: SimulatedConnection;
  sql: string;
  values: unknown[];
  senderState: string | undefined;
  ok: (rows: unknown) => undefined;
  fail: (error: unknown) => undefined;
}

interface LeaseStatement {
  kind: 'create' | 'schema' | 'read' | 'write';
  pattern: RegExp;
  /** Columns it needs beyond the first version's. */
  columns?: string[];
  run: (context: LeaseStatementContext) => undefined;
}

/** `IS_USED_LOCK(name) = id` on the server that runs the statement (locks are per server). */
function lockHeldBy(context: LeaseStatementContext, name: string, id: number): boolean {
  return context.connection.server.locks.get(name)?.id === id;
}

/** Writes a row and records the write for the invariants; answers like MySQL's affected rows. */
function writeRow(
  context: LeaseStatementContext,
  name: string,
  change: (row: SimulatedLeaseRow | undefined) => SimulatedLeaseRow | undefined,
): number {
  const { db, connection } = context;
  const before = db.rows.get(name);
  const after = change(before ? { ...before } : undefined);
  if (!after) return 0;
  after.version = db.bumpVersion();
  db.rows.set(name, after);
  db.recordWrite(connection.owner, context.senderState, before, after);
  return before ? 2 : 1;
}

/**
 * The lease statements `Lease` sends, one pattern each; a statement the table's columns cannot
 * serve (an older table, not yet migrated) fails like MySQL's "Unknown column".
 */
export const LEASE_STATEMENTS: LeaseStatement[] = [
  {
    kind: 'create',
    pattern: /^CREATE TABLE IF NOT EXISTS ghost_ha_lease \(/,
    run: ({ db, sql, ok }) => {
      if (!db.tableExists) {
        db.tableExists = true;
        for (const column of ['name', 'holder', 'heartbeat_at', 'taken_at', 'ttl_ms', 'ghost_may_run'])
          db.columns.add(column);
        for (const column of ['epoch', 'lock_connection'])
          if (new RegExp(`\\b${column}\\b`).test(sql)) db.columns.add(column);
      }
      ok({ affectedRows: 0 });
    },
  },
  {
    kind: 'schema',
    pattern:
      /^SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE\(\) AND TABLE_NAME = 'ghost_ha_lease'$/,
    run: ({ db, ok }) => ok(db.tableExists ? [...db.columns].map((name) => ({ name })) : []),
  },
  {
    kind: 'write',
    pattern: /^ALTER TABLE ghost_ha_lease ADD COLUMN (epoch|lock_connection) BIGINT UNSIGNED NOT NULL DEFAULT 0$/,
    run: ({ db, sql, ok, fail }) => {
      const column = sql.split(' ')[5] ?? '';
      if (db.columns.has(column))
        return fail(new SimulatedSqlError('ER_DUP_FIELDNAME', 1060, `Duplicate column name '${column}'`));
      db.columns.add(column);
      for (const row of db.rows.values()) {
        if (column === 'epoch') row.epoch = 0;
        else row.lockConnection = 0;
      }
      ok({ affectedRows: 0 });
    },
  },
  {
    kind: 'read',
    columns: ['epoch', 'lock_connection'],
    pattern:
      /^SELECT holder, TIMESTAMPDIFF\(MICROSECOND, heartbeat_at, UTC_TIMESTAMP\(6\)\) AS ageUs, ttl_ms AS ttlMs, ghost_may_run AS ghostMayRun, epoch, lock_connection AS lockConnection, TIMESTAMPDIFF\(MICROSECOND, '2000-01-01', heartbeat_at\) AS heartbeatUs FROM ghost_ha_lease WHERE name = \?$/,
    run: ({ db, connection, values, ok }) => {
      const row = db.rows.get(String(values[0]));
      db.lastRead.set(connection.owner, row?.version ?? 0);
      if (!row) return ok([]);
      ok([
        {
          holder: row.holder,
          ageUs: Math.round((db.dbNow - row.heartbeatAt) * 1000),
          ttlMs: row.ttlMs,
          ghostMayRun: row.ghostMayRun,
          epoch: row.epoch ?? 0,
          lockConnection: row.lockConnection ?? 0,
          heartbeatUs: Math.round(row.heartbeatAt * 1000),
        },
      ]);
    },
  },
  {
    // take() over a row read: compare-and-set on holder and epoch, while our session holds the lock here.
    kind: 'write',
    columns: ['epoch', 'lock_connection'],
    pattern:
      /^UPDATE ghost_ha_lease SET holder = \?, epoch = epoch \+ 1, lock_connection = \?, heartbeat_at = UTC_TIMESTAMP\(6\), taken_at = UTC_TIMESTAMP\(6\), ttl_ms = \?, ghost_may_run = 1 WHERE name = \? AND holder = \? AND epoch = \? AND IS_USED_LOCK\(\?\) = \? AND \(holder = \? OR ghost_may_run = 0 OR TIMESTAMPDIFF\(MICROSECOND, heartbeat_at, UTC_TIMESTAMP\(6\)\) > ttl_ms \* 1000\)$/,
    run: (context) => {
      const { db, values, ok } = context;
      const [holder, lockConnection, ttlMs, name, previousHolder, epoch, lockName, lockId, me] = values.map(String);
      const now = db.dbNow;
      const affected = writeRow(context, String(name), (row) =>
        row &&
        row.holder === previousHolder &&
        (row.epoch ?? 0) === Number(epoch) &&
        lockHeldBy(context, String(lockName), Number(lockId)) &&
        (row.holder === me || row.ghostMayRun === 0 || db.dbNow - row.heartbeatAt > row.ttlMs)
          ? {
              ...row,
              holder: String(holder),
              epoch: (row.epoch ?? 0) + 1,
              lockConnection: Number(lockConnection),
              heartbeatAt: now,
              takenAt: now,
              ttlMs: Number(ttlMs),
              ghostMayRun: 1,
            }
          : undefined,
      );
      ok({ affectedRows: affected ? 1 : 0 });
    },
  },
  {
    // take() of a row whose holder's task ECS reported stopped: compare-and-set on holder and epoch
    // only, while our session holds the lock here.
    kind: 'write',
    columns: ['epoch', 'lock_connection'],
    pattern:
      /^UPDATE ghost_ha_lease SET holder = \?, epoch = epoch \+ 1, lock_connection = \?, heartbeat_at = UTC_TIMESTAMP\(6\), taken_at = UTC_TIMESTAMP\(6\), ttl_ms = \?, ghost_may_run = 1 WHERE name = \? AND holder = \? AND epoch = \? AND IS_USED_LOCK\(\?\) = \?$/,
    run: (context) => {
      const { db, values, ok } = context;
      const [holder, lockConnection, ttlMs, name, previousHolder, epoch, lockName, lockId] = values.map(String);
      const now = db.dbNow;
      const affected = writeRow(context, String(name), (row) =>
        row &&
        row.holder === previousHolder &&
        (row.epoch ?? 0) === Number(epoch) &&
        lockHeldBy(context, String(lockName), Number(lockId))
          ? {
              ...row,
              holder: String(holder),
              epoch: (row.epoch ?? 0) + 1,
              lockConnection: Number(lockConnection),
              heartbeatAt: now,
              takenAt: now,
              ttlMs: Number(ttlMs),
              ghostMayRun: 1,
            }
          : undefined,
      );
      ok({ affectedRows: affected ? 1 : 0 });
    },
  },
  {
    // take() of a missing row: a plain insert (a duplicate fails), while our session holds the lock here.
    kind: 'write',
    columns: ['epoch', 'lock_connection'],
    pattern:
      /^INSERT INTO ghost_ha_lease \(name, holder, heartbeat_at, taken_at, ttl_ms, ghost_may_run, epoch, lock_connection\) SELECT \?, \?, UTC_TIMESTAMP\(6\), UTC_TIMESTAMP\(6\), \?, 1, \?, \? FROM DUAL WHERE IS_USED_LOCK\(\?\) = \?$/,
    run: (context) => {
      const { db, values, ok, fail } = context;
      const [name, holder, ttlMs, epoch, lockConnection, lockName, lockId] = values.map(String);
      if (!lockHeldBy(context, String(lockName), Number(lockId))) return ok({ affectedRows: 0 });
      if (db.rows.has(String(name)))
        return fail(new SimulatedSqlError('ER_DUP_ENTRY', 1062, `Duplicate entry '${name}' for key 'PRIMARY'`));
      const now = db.dbNow;
      writeRow(context, String(name), () => ({
        holder: String(holder),
        heartbeatAt: now,
        takenAt: now,
        ttlMs: Number(ttlMs),
        ghostMayRun: 1,
        epoch: Number(epoch),
        lockConnection: Number(lockConnection),
        version: 0,
      }));
      ok({ affectedRows: 1 });
    },
  },
  {
    kind: 'write',
    columns: ['epoch', 'lock_connection'],
    pattern:
      /^UPDATE ghost_ha_lease SET heartbeat_at = UTC_TIMESTAMP\(6\), ttl_ms = \? WHERE name = \? AND holder = \? AND epoch = \? AND lock_connection = \? AND IS_USED_LOCK\(\?\) = \?$/,
    run: (context) => {
      const { db, values, ok } = context;
      const [ttlMs, name, holder, epoch, lockConnection, lockName, lockId] = values.map(String);
      const now = db.dbNow;
      const affected = writeRow(context, String(name), (row) =>
        row &&
        row.holder === holder &&
        (row.epoch ?? 0) === Number(epoch) &&
        (row.lockConnection ?? 0) === Number(lockConnection) &&
        lockHeldBy(context, String(lockName), Number(lockId))
          ? { ...row, heartbeatAt: now, ttlMs: Number(ttlMs) }
          : undefined,
      );
      ok({ affectedRows: affected ? 1 : 0 });
    },
  },
  {
    kind: 'write',
    columns: ['epoch', 'lock_connection'],
    pattern:
      /^UPDATE ghost_ha_lease SET lock_connection = \?, heartbeat_at = UTC_TIMESTAMP\(6\), ttl_ms = \? WHERE name = \? AND holder = \? AND epoch = \? AND IS_USED_LOCK\(\?\) = \?$/,
    run: (context) => {
      const { db, values, ok } = context;
      const [lockConnection, ttlMs, name, holder, epoch, lockName, lockId] = values.map(String);
      const now = db.dbNow;
      const affected = writeRow(context, String(name), (row) =>
        row &&
        row.holder === holder &&
        (row.epoch ?? 0) === Number(epoch) &&
        lockHeldBy(context, String(lockName), Number(lockId))
          ? { ...row, lockConnection: Number(lockConnection), heartbeatAt: now, ttlMs: Number(ttlMs) }
          : undefined,
      );
      ok({ affectedRows: affected ? 1 : 0 });
    },
  },
  {
    kind: 'write',
    columns: ['epoch'],
    pattern:
      /^UPDATE ghost_ha_lease SET ghost_may_run = 0, heartbeat_at = UTC_TIMESTAMP\(6\) WHERE name = \? AND holder = \? AND epoch = \? AND IS_USED_LOCK\(\?\) = \?$/,
    run: (context) => {
      const { db, values, ok } = context;
      const [name, holder, epoch, lockName, lockId] = values.map(String);
      const now = db.dbNow;
      const affected = writeRow(context, String(name), (row) =>
        row &&
        row.holder === holder &&
        (row.epoch ?? 0) === Number(epoch) &&
        lockHeldBy(context, String(lockName), Number(lockId))
          ? { ...row, ghostMayRun: 0, heartbeatAt: now }
          : undefined,
      );
      ok({ affectedRows: affected ? 1 : 0 });
    },
  },
];
