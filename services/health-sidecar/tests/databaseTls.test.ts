// @module-tag ghost
import { type DatabaseSettings, GhostServer, healthSidecarEnv, MariaDbServer } from '@ghost-ha/testbed';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { connectWithMysql2, DatabaseConnector } from '../src/DatabaseConnector.js';
import { fixedCredentials } from './sidecarFixture.js';

/**
 * Aurora takes the app user's connections over TLS only (scripts/create-app-db-user.sh makes it
 * `REQUIRE SSL`); here a MariaDB with a certificate from its own CA, the user made the same.
 */
describe('Ghost and the sidecar on a database that requires TLS of their user', () => {
  let mariadb: MariaDbServer;
  let database: DatabaseSettings;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    mariadb = await MariaDbServer.start({ tls: true });
    database = await mariadb.database('ghost_tls');
    for (const host of ['%', 'localhost']) await mariadb.rootQuery(`ALTER USER 'ghost'@'${host}' REQUIRE SSL`);
    env = { ...healthSidecarEnv({ ghostUrl: 'http://127.0.0.1:2368', contentPath: '/tmp', database }) };
  });

  afterAll(async () => {
    await mariadb?.destroy();
  });

  const open = (extra: Record<string, string>) => {
    const settings = loadConfig({ ...env, ...extra }).database;
    return new DatabaseConnector({
      settings,
      connect: connectWithMysql2,
      credentials: fixedCredentials(settings),
      connectTimeoutMs: 5_000,
    }).open();
  };

  it('the sidecar connects over TLS, verifying the server against database__connection__ssl__ca', async () => {
    expect(env.database__connection__ssl__ca).toContain('-----BEGIN CERTIFICATE-----');
    const connection = await open({});
    try {
      const [rows] = await connection.query<RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
      expect(String(rows[0]?.Value)).not.toBe('');
    } finally {
      connection.destroy();
    }
  });

  it('the sidecar is refused without TLS, and refuses a server its CA did not sign', async () => {
    await expect(open({ database__connection__ssl__ca: '' })).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    // mysql2's RDS bundle does not hold this server's CA: the certificate is checked, not just used.
    await expect(open({ database__connection__ssl: 'Amazon RDS', database__connection__ssl__ca: '' })).rejects.toThrow(
      /certificate/i,
    );
  });

  it('Ghost boots, is set up and serves its admin API over the same TLS connection settings', async () => {
    // `database__connection__ssl` as the task gives it, with the test CA in place of the RDS bundle.
    const ghost = await GhostServer.start({ database });
    try {
      // The user is REQUIRE SSL: every query Ghost ran for its setup and this post went over TLS.
      await ghost.seedPosts(1, { titlePrefix: 'Over TLS' });
      const { items } = await ghost.admin.browse('posts', { filter: "title:'Over TLS 1'" });
      expect(items.map((post) => post.title)).toEqual(['Over TLS 1']);
    } finally {
      await ghost.destroy();
    }
  });
});
