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
const CURRENT_VERSION = 'b1a2c3d4-0000-4000-8000-000000000001';

interface Statement {
  sql: string;
  database: string;
  resourceArn: string;
  secretArn: string;
  parameters?: { name: string; value: { stringValue: string } }[];
}

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
"secretsmanager get-secret-value") echo '{"s":"{\\"username\\":\\"ghost_app\\",\\"password\\":\\"${PASSWORD}\\"}","v":"${CURRENT_VERSION}"}' ;;
"rds-data execute-statement")
  for ((i = 1; i <= $#; i++)); do
    if [[ "\${!i}" == --cli-input-json ]]; then next=$((i + 1)); cat "\${!next#file://}" >> "${dir}/statements.log"; echo "\${!next#file://}" >> "${dir}/files.log"; echo >> "${dir}/statements.log"; fi
  done
  # Whether Ghost ran on the database: its migrations table (GHOST_RAN=1) or not.
  if [[ "$*" == *records* ]]; then echo "\${GHOST_RAN:-0}"; fi ;;
"secretsmanager list-secret-version-ids") echo '2026-06-01T10:00:00.000000+00:00' ;;
"ecs list-tasks") echo 'arn:aws:ecs:eu-west-1:123456789012:task/blog/0123456789abcdef' ;;
"ecs describe-tasks") echo "\${TASK_STARTED:-2026-06-02T08:00:00.000000+00:00}" ;;
"secretsmanager put-secret-value")
  for ((i = 1; i <= $#; i++)); do
    if [[ "\${!i}" == --cli-input-json ]]; then next=$((i + 1)); cat "\${!next#file://}" >> "${dir}/secrets.log"; echo "\${!next#file://}" >> "${dir}/files.log"; fi
  done ;;
esac
`,
    );
    await chmod(join(dir, 'aws'), 0o755);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs the script with the recording `aws`; the calls, statements and secret inputs it made. */
  async function runScript(extra: string[] = [], env: Record<string, string> = {}) {
    for (const log of ['argv.log', 'statements.log', 'files.log', 'secrets.log'])
      await rm(join(dir, log), { force: true });
    const { stderr } = await run(
      'bash',
      [join(REPO_ROOT, 'scripts/create-app-db-user.sh'), '--region', 'eu-west-1', '--project', 'blog', ...extra],
      { env: { ...process.env, ...env, PATH: `${dir}:${process.env.PATH ?? ''}` }, cwd: REPO_ROOT },
    );
    const text = (file: string) => readFile(join(dir, file), 'utf8').catch(() => '');
    const statements = (await text('statements.log'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Statement);
    const secretInputs = (await text('secrets.log'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(
        (line) =>
          JSON.parse(line) as {
            SecretId: string;
            ClientRequestToken: string;
            SecretString: string;
            VersionStages: string[];
          },
      );
    const files = (await text('files.log')).trim().split('\n').filter(Boolean);
    return { stderr, argv: await text('argv.log'), statements, secretInputs, files };
  }

  it('never puts the password on a command line, and still sends it in the statements', async () => {
    const { stderr, argv, statements, files } = await runScript();
    expect(argv).toContain('rds-data execute-statement');
    // Every local user can read a process's arguments (ps, /proc/<pid>/cmdline).
    expect(argv).not.toContain(PASSWORD);
    expect(stderr).not.toContain(PASSWORD);
    const sql = statements.map((s) => s.sql);
    expect(sql.slice(0, 4)).toEqual([
      `CREATE USER IF NOT EXISTS 'ghost_app'@'%' IDENTIFIED BY '${PASSWORD}'`,
      `ALTER USER 'ghost_app'@'%' IDENTIFIED BY '${PASSWORD}'`,
      "GRANT ALL PRIVILEGES ON `ghost`.* TO 'ghost_app'@'%'",
      "ALTER USER 'ghost_app'@'%' REQUIRE SSL",
    ]);
    // The statement files are gone once the script ends.
    expect(files.length).toBe(statements.length);
    for (const file of files) await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(statements[0]).toMatchObject({
      database: 'ghost',
      resourceArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:blog',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:blog/database-AbCdEf',
    });
  });

  it("creates the alternating partner (ghost_app_clone) with the same grants and TLS, never changing a partner's password", async () => {
    const { stderr, statements } = await runScript();
    const sql = statements.map((s) => s.sql);
    expect(sql.slice(4, 5)[0]).toMatch(
      /^CREATE USER IF NOT EXISTS 'ghost_app_clone'@'%' IDENTIFIED BY '[A-Za-z0-9]{40}'$/,
    );
    expect(sql.slice(5, 7)).toEqual([
      "GRANT ALL PRIVILEGES ON `ghost`.* TO 'ghost_app_clone'@'%'",
      "ALTER USER 'ghost_app_clone'@'%' REQUIRE SSL",
    ]);
    // A partner that exists may be a running task's login since the last rotation: never altered here.
    expect(sql.filter((s) => s.startsWith("ALTER USER 'ghost_app_clone'@'%' IDENTIFIED"))).toEqual([]);
    const unused = /IDENTIFIED BY '([A-Za-z0-9]{40})'/.exec(sql[4] ?? '')?.[1] ?? '';
    expect(stderr).not.toContain(unused);
  });

  it("writes a released lease row on a database no Ghost ran on, with the sidecar's table and lock name", async () => {
    const { statements } = await runScript([], { GHOST_RAN: '0' });
    // After the two users' statements (4 for the one in use, 3 for its partner).
    const lease = statements.slice(7);
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
    const { statements, stderr } = await runScript([], { GHOST_RAN: '1' });
    expect(statements.map((s) => s.sql).filter((sql) => sql.includes('INSERT'))).toEqual([]);
    expect(stderr).toContain('its lease row is left as it is');
  });

  it("rotates as the rotation functions do: AWSPENDING, the partner's password, then AWSCURRENT moves; no password on a command line", async () => {
    const { stderr, argv, statements, secretInputs, files } = await runScript(['--rotate']);
    expect(secretInputs).toHaveLength(1);
    const pending = secretInputs[0];
    expect(pending).toMatchObject({ SecretId: 'blog/database-app', VersionStages: ['AWSPENDING'] });
    const value = JSON.parse(pending?.SecretString ?? '{}') as { username: string; password: string };
    expect(value.username).toBe('ghost_app_clone');
    expect(value.password).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(value.password).not.toBe(PASSWORD);
    // Only the partner's password changes: the login running tasks were given keeps working.
    expect(statements.map((s) => s.sql)).toEqual([
      `CREATE USER IF NOT EXISTS 'ghost_app_clone'@'%' IDENTIFIED BY '${value.password}'`,
      `ALTER USER 'ghost_app_clone'@'%' IDENTIFIED BY '${value.password}'`,
      "GRANT ALL PRIVILEGES ON `ghost`.* TO 'ghost_app_clone'@'%'",
      "ALTER USER 'ghost_app_clone'@'%' REQUIRE SSL",
    ]);
    const calls = argv.trim().split('\n');
    const order = (prefix: string) => calls.findIndex((call) => call.startsWith(prefix));
    expect(order('secretsmanager put-secret-value')).toBeLessThan(order('rds-data execute-statement'));
    const finish = calls.filter((call) => call.startsWith('secretsmanager update-secret-version-stage'));
    expect(finish).toEqual([
      `secretsmanager update-secret-version-stage --region eu-west-1 --secret-id blog/database-app --version-stage AWSCURRENT --move-to-version-id ${pending?.ClientRequestToken} --remove-from-version-id ${CURRENT_VERSION}`,
      `secretsmanager update-secret-version-stage --region eu-west-1 --secret-id blog/database-app --version-stage AWSPENDING --remove-from-version-id ${pending?.ClientRequestToken}`,
    ]);
    expect(order('secretsmanager update-secret-version-stage')).toBeGreaterThan(
      calls.findLastIndex((call) => call.startsWith('rds-data execute-statement')),
    );
    for (const secret of [PASSWORD, value.password]) {
      expect(argv).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
    for (const file of files) await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to rotate while a running task started before the last rotation (it uses the login this one would change), unless --force', async () => {
    // The task started before the current version was created: it was given the previous login.
    const before = { TASK_STARTED: '2026-05-30T12:00:00.000000+00:00' };
    const refused = runScript(['--rotate'], before);
    await expect(refused).rejects.toMatchObject({ code: 1 });
    await expect(refused).rejects.toMatchObject({
      stderr: expect.stringContaining(
        "1 running task(s) of blog-ghost in eu-west-1 started before the last rotation (2026-06-01T10:00:00.000000+00:00): they still use 'ghost_app_clone'",
      ),
    });
    const argv = await readFile(join(dir, 'argv.log'), 'utf8');
    expect(argv).not.toContain('put-secret-value');
    expect(argv).not.toContain('rds-data');
    const forced = await runScript(['--rotate', '--force'], before);
    expect(forced.secretInputs).toHaveLength(1);
    expect(forced.argv).not.toContain('ecs list-tasks');
  });
});
