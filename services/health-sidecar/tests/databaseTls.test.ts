// @module-tag integration
import { healthSidecarEnv, MariaDbServer } from '@ghost-ha/testbed';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { connectWithMysql2, DatabaseConnector } from '../src/DatabaseConnector.js';

/**
 * Aurora takes the app user's connections over TLS only (scripts/create-app-db-user.sh makes it
 * `REQUIRE SSL`); here a MariaDB with a certificate from its own CA, the user made the same.
 */
describe('the sidecar reaches a database that requires TLS of its user', () => {
  let mariadb: MariaDbServer;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    mariadb = await MariaDbServer.start({ tls: true });
    const database = await mariadb.database('ghost_tls');
    for (const host of ['%', 'localhost']) await mariadb.rootQuery(`ALTER USER 'ghost'@'${host}' REQUIRE SSL`);
    env = { ...healthSidecarEnv({ ghostUrl: 'http://127.0.0.1:2368', contentPath: '/tmp', database }) };
  });

  afterAll(async () => {
    await mariadb?.destroy();
  });

  const open = (extra: Record<string, string>) =>
    new DatabaseConnector({
      settings: loadConfig({ ...env, ...extra }).database,
      connect: connectWithMysql2,
      secrets: undefined,
      connectTimeoutMs: 5_000,
    }).open();

  it('connects over TLS, verifying the server against database__connection__ssl__ca', async () => {
    const connection = await open({ database__connection__ssl__ca: mariadb.caPem });
    try {
      const [rows] = await connection.query<RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
      expect(String(rows[0]?.Value)).not.toBe('');
    } finally {
      connection.destroy();
    }
  });

  it('is refused without TLS, and refuses a server its CA did not sign', async () => {
    await expect(open({})).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    // mysql2's RDS bundle does not hold this server's CA: the certificate is checked, not just used.
    await expect(open({ database__connection__ssl: 'Amazon RDS' })).rejects.toThrow(/certificate/i);
  });
});
