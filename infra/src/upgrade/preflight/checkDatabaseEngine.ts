import semver from 'semver';
import type { PreflightFinding } from './PreflightFinding.js';

/**
 * The database server's version (`SELECT VERSION()`) against what the target supports: Ghost 5
 * and 6 support MySQL 8 in production (https://docs.ghost.org/faq/supported-databases); Aurora
 * MySQL 3 reports `8.0.mysql_aurora.3.x`. MariaDB is not supported by Ghost: the test bed's
 * stand-in for Aurora, a warning so that a real deployment on it is told.
 */
export function checkDatabaseEngine(target: string, serverVersion: string): PreflightFinding[] {
  const check = 'database';
  const major = semver.major(target);
  if (/mariadb/i.test(serverVersion)) {
    return [
      {
        check,
        level: 'warning',
        message: `${serverVersion} is MariaDB, which Ghost ${major} does not support in production (MySQL 8 is)`,
      },
    ];
  }
  const version = semver.coerce(serverVersion);
  if (!version) return [{ check, level: 'fatal', message: `'${serverVersion}' is not a MySQL version` }];
  if (major >= 5 && version.major < 8) {
    return [
      { check, level: 'fatal', message: `MySQL ${version.version} is older than the MySQL 8 Ghost ${major} needs` },
    ];
  }
  return [{ check, level: 'ok', message: `MySQL ${serverVersion} is supported by Ghost ${major}` }];
}
