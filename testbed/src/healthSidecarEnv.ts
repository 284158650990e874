import type { Env } from '@ghost-ha/core';
import type { DatabaseSettings } from './MariaDbServer.js';

/** What the health-sidecar under test watches: its Ghost, its content directory and its database. */
export interface HealthSidecarTarget {
  readonly ghostUrl: string;
  readonly contentPath: string;
  readonly database: DatabaseSettings;
}

/**
 * The environment a task definition gives the health-sidecar, pointed at the test bed: ports the
 * system picks, fast check rounds (a verdict changes within a second of what it reflects), and
 * `extra` on top (it may replace any of these).
 */
export function healthSidecarEnv(target: HealthSidecarTarget, extra: Env = {}): Env {
  const { database } = target;
  return {
    HEALTH_PORT: '0',
    GATE_PORT: '0',
    GHOST_URL: target.ghostUrl,
    CONTENT_PATH: target.contentPath,
    database__connection__host: database.host,
    database__connection__port: String(database.port),
    database__connection__user: database.user,
    database__connection__password: database.password,
    database__connection__database: database.database,
    ...(database.ssl ? { database__connection__ssl__ca: database.ssl.ca } : {}),
    CHECK_INTERVAL_MS: '500',
    CHECK_TIMEOUT_MS: '400',
    ...extra,
  };
}
