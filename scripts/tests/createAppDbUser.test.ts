// @module-tag integration
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultLockName, leaseTableDdl, provisionLeaseSql } from '@ghost-ha/core';
import { REPO_ROOT } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PASSWORD = 'AppPassw0rdFromTheSecret42';

describe('scripts/create-app-db-user.sh', () => {
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ghost-ha-app-user-'));
    // An `aws` that records each call's arguments and, for the Data API, the statement it was given
    // (the file named by --cli-input-json, read while the call runs).
    await writeFile(
      join(dir, 'aws'),
      `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "${dir}/argv.log"
case "$1 $2" in
"cloudformation describe-stacks") echo arn:aws:rds:eu-west-1:123456789012:cluster:blog ;;
"secretsmanager describe-secret") echo arn:aws:secretsmanager:eu-west-1:123456789012:secret:blog/database-AbCdEf ;;
"secretsmanager get-secret-value") echo '{"username":"ghost_app","password":"${PASSWORD}"}' ;;
"rds-data execute-statement")
  for ((i = 1; i <= $#; i++)); do
    if [[ "\${!i}" == --cli-input-json ]]; then next=$((i + 1)); cat "\${!next#file://}" >> "${dir}/statements.log"; echo "\${!next#file://}" >> "${dir}/files.log"; echo >> "${dir}/statements.log"; fi
  done
  # Whether Ghost ran on the database: its migrations table (GHOST_RAN=1) or not.
  if [[ "$*" == *records* ]]; then echo "\${GHOST_RAN:-0}"; fi ;;
esac
`,
    );
    await chmod(join(dir, 'aws'), 0o755);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const createUser = async (ghostRan: boolean) => {
    await rm(join(dir, 'argv.log'), { force: true });
    await rm(join(dir, 'statements.log'), { force: true });
    await rm(join(dir, 'files.log'), { force: true });
    const { stderr } = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/create-app-db-user.sh'), '--region', 'eu-west-1', '--project', 'blog'],
      {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, GHOST_RAN: ghostRan ? '1' : '0' },
        cwd: REPO_ROOT,
      },
    );
    const statements = (await readFile(join(dir, 'statements.log'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(
        (line) =>
          JSON.parse(line) as {
            sql: string;
            database: string;
            resourceArn: string;
            secretArn: string;
            parameters?: { name: string; value: { stringValue: string } }[];
          },
      );
    return { stderr, statements };
  };

  it('never puts the password on a command line, and still sends it in the statements', async () => {
    const { stderr } = await createUser(false);
    const argv = await readFile(join(dir, 'argv.log'), 'utf8');
    expect(argv).toContain('rds-data execute-statement');
    // Every local user can read a process's arguments (ps, /proc/<pid>/cmdline).
    expect(argv).not.toContain(PASSWORD);
    expect(stderr).not.toContain(PASSWORD);
    const statements = (await readFile(join(dir, 'statements.log'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { sql: string; database: string; resourceArn: string; secretArn: string });
    expect(statements.slice(0, 4).map((s) => s.sql)).toEqual([
      `CREATE USER IF NOT EXISTS 'ghost_app'@'%' IDENTIFIED BY '${PASSWORD}'`,
      `ALTER USER 'ghost_app'@'%' IDENTIFIED BY '${PASSWORD}'`,
      "GRANT ALL PRIVILEGES ON `ghost`.* TO 'ghost_app'@'%'",
      "ALTER USER 'ghost_app'@'%' REQUIRE SSL",
    ]);
    // The statement files are gone once the script ends.
    const files = (await readFile(join(dir, 'files.log'), 'utf8')).trim().split('\n');
    expect(files.length).toBe(statements.length);
    for (const file of files) await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(statements[0]).toMatchObject({
      database: 'ghost',
      resourceArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:blog',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:blog/database-AbCdEf',
    });
  });

  it("writes a released lease row on a database no Ghost ran on, with the sidecar's table and lock name", async () => {
    const { statements } = await createUser(false);
    const lease = statements.slice(4);
    expect(lease[0]?.sql).toBe(leaseTableDdl());
    expect(lease[1]?.sql).toMatch(
      /information_schema\.TABLES WHERE TABLE_SCHEMA = 'ghost' AND TABLE_NAME = 'migrations'/,
    );
    // provisionLeaseSql with the Data API's named parameter for its one placeholder.
    expect(lease[2]?.sql).toBe(provisionLeaseSql().replace('VALUES (?,', 'VALUES (:lock,'));
    expect(lease[2]?.parameters).toEqual([{ name: 'lock', value: { stringValue: defaultLockName('ghost') } }]);
    expect(lease[2]).toMatchObject({ database: 'ghost' });
    expect(lease).toHaveLength(3);
  });

  it('leaves the lease alone on a database Ghost ran on (a row deleted under a running Ghost stays missing)', async () => {
    const { statements, stderr } = await createUser(true);
    expect(statements.map((s) => s.sql).filter((sql) => sql.includes('INSERT'))).toEqual([]);
    expect(stderr).toContain('its lease row is left as it is');
  });
});
