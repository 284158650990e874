// @module-tag integration
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseSettings, MariaDbServer } from '../src/MariaDbServer.js';

describe('MariaDbServer (Debian mariadb-server, own datadir and port)', () => {
  let server: MariaDbServer;
  let settings: DatabaseSettings;

  beforeAll(async () => {
    server = await MariaDbServer.start();
    settings = await server.database('testbed');
  });

  afterAll(async () => {
    await server?.destroy();
  });

  const connect = () => mysql.createConnection({ ...settings, connectTimeout: 2_000 });

  it('accepts the application user over TCP on its own port', async () => {
    expect(settings.port).not.toBe(3306);
    const connection = await connect();
    const [rows] = await connection.query('SELECT 1 + 1 AS two');
    expect(rows).toEqual([{ two: 2 }]);
    await connection.end();
  });

  it('refuses writes by the application user while read-only, and accepts them again after', async () => {
    const connection = await connect();
    await connection.query('CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)');
    await server.setReadOnly(true);
    await expect(connection.query('INSERT INTO t VALUES (1)')).rejects.toThrow(/read-only|READ.ONLY/i);
    await server.setReadOnly(false);
    await connection.query('INSERT INTO t VALUES (1)');
    await connection.end();
  });

  it('can be stopped (connections refused) and started again with its data', async () => {
    await server.stop();
    await expect(connect()).rejects.toThrow();
    await server.start();
    const connection = await connect();
    const [rows] = await connection.query('SELECT COUNT(*) AS n FROM t');
    expect(rows).toEqual([{ n: 1 }]);
    await connection.end();
  });
});
