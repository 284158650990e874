import { ConfigError } from '@ghost-ha/core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const minimal = {
  database__connection__host: 'db.internal',
  database__connection__user: 'ghost',
  database__connection__password: 'pw',
  database__connection__database: 'ghost',
};

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('fills in the documented defaults', () => {
    const config = loadConfig(minimal);
    expect(config).toMatchObject({
      healthPort: 9000,
      gate: { port: 8080, retryAfterSeconds: 5, trustedProxies: 2 },
      ghost: { url: 'http://127.0.0.1:2368', host: '127.0.0.1:2368', forwardedProto: 'http', pathPrefix: '' },
      contentPath: '/var/lib/ghost/content',
      database: { host: 'db.internal', port: 3306, user: 'ghost', database: 'ghost', passwordSecretId: undefined },
      lock: { name: 'ghost-ha:ghost', waitSeconds: 5 },
      checks: {
        intervalMs: 5000,
        timeoutMs: 2000,
        startupGraceMs: 180_000,
        diskFreeWarnBytes: 1024 * 1024 * 1024,
        writeTimeoutMs: 1000,
        writeStallFailMs: 60_000,
      },
      shutdown: { drainTimeoutMs: 10_000, ghostStopWaitMs: 20_000, stopTimeoutMs: 30_000 },
      fencing: { leaseTtlMs: 120_000, ghostStopTimeoutMs: 30_000, marginMs: 10_000, patienceMs: 80_000 },
    });
  });

  it("refuses a lease TTL that leaves no patience after Ghost's stop timeout and the margin", () => {
    const message = problems({ ...minimal, LEASE_TTL_MS: '40000', GHOST_STOP_TIMEOUT_MS: '30000' });
    expect(message).toContain(
      "'LEASE_TTL_MS' (40000) must exceed 'GHOST_STOP_TIMEOUT_MS' (30000) + 'FENCE_MARGIN_MS' (10000) by at least two check intervals (10000)",
    );
    expect(loadConfig({ ...minimal, LEASE_TTL_MS: '50000', GHOST_STOP_TIMEOUT_MS: '30000' }).fencing.patienceMs).toBe(
      10_000,
    );
  });

  it('derives the Host, X-Forwarded-Proto and subdirectory Ghost expects from SITE_URL', () => {
    const config = loadConfig({ ...minimal, SITE_URL: 'https://example.com/blog' });
    expect(config.ghost).toMatchObject({ host: 'example.com', forwardedProto: 'https', pathPrefix: '/blog' });
    const explicit = loadConfig({ ...minimal, GHOST_HOST: 'blog.example.org', GHOST_FORWARDED_PROTO: 'https' });
    expect(explicit.ghost).toMatchObject({ host: 'blog.example.org', forwardedProto: 'https' });
  });

  it('counts the proxies in front of the gate from GATE_TRUSTED_PROXIES, naming it when it is bad', () => {
    expect(loadConfig({ ...minimal, GATE_TRUSTED_PROXIES: '0' }).gate?.trustedProxies).toBe(0);
    expect(problems({ ...minimal, GATE_TRUSTED_PROXIES: 'two' })).toContain('GATE_TRUSTED_PROXIES');
  });

  it("reads the database's TLS as Ghost does: mysql2's RDS profile or a CA, naming a bad value", () => {
    expect(loadConfig(minimal).database.ssl).toBeUndefined();
    expect(loadConfig({ ...minimal, database__connection__ssl: 'Amazon RDS' }).database.ssl).toBe('Amazon RDS');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(loadConfig({ ...minimal, database__connection__ssl__ca: pem }).database.ssl).toEqual({
      ca: pem,
      rejectUnauthorized: true,
    });
    expect(problems({ ...minimal, database__connection__ssl: 'true' })).toContain(
      "'database__connection__ssl' must be 'Amazon RDS'",
    );
    expect(problems({ ...minimal, database__connection__ssl__ca: 'not a pem' })).toContain(
      "'database__connection__ssl__ca' must hold PEM certificates",
    );
  });

  it('disables the gate with GATE_PORT=0 and accepts a password from a secret instead', () => {
    const { database__connection__password: _, ...withoutPassword } = minimal;
    const config = loadConfig({ ...withoutPassword, GATE_PORT: '0', DATABASE_PASSWORD_SECRET_ID: 'ghost-ha/database' });
    expect(config.gate).toBeUndefined();
    expect(config.database.passwordSecretId).toBe('ghost-ha/database');
  });

  it('names every bad variable at once, with an example', () => {
    const message = problems({
      HEALTH_PORT: 'nine thousand',
      GHOST_URL: 'ftp://ghost',
      CHECK_INTERVAL_MS: '1000',
      CHECK_TIMEOUT_MS: '1000',
    });
    expect(message).toContain("'HEALTH_PORT' is not a whole number (got 'nine thousand'). E.g. HEALTH_PORT=9000");
    expect(message).toContain("'GHOST_URL' must start with http:// or https://");
    expect(message).toContain("'database__connection__host' is required");
    expect(message).toContain("'database__connection__password' or 'DATABASE_PASSWORD_SECRET_ID' is required");
    expect(message).toContain("'CHECK_TIMEOUT_MS' (1000) must be shorter than 'CHECK_INTERVAL_MS' (1000)");
  });

  it('refuses a drain or a wait for Ghost that does not fit in the stop timeout', () => {
    const message = problems({
      ...minimal,
      DRAIN_TIMEOUT_MS: '40000',
      GHOST_STOP_WAIT_MS: '30000',
      STOP_TIMEOUT_MS: '30000',
    });
    expect(message).toContain("'DRAIN_TIMEOUT_MS' (40000) must leave 1000 ms of 'STOP_TIMEOUT_MS' (30000)");
    expect(message).toContain("'GHOST_STOP_WAIT_MS' (30000) must leave 1000 ms of 'STOP_TIMEOUT_MS' (30000)");
  });

  it('keeps the write probe within the check timeout, and its stall limit 0 (never) or longer than the probe', () => {
    const message = problems({ ...minimal, WRITE_PROBE_TIMEOUT_MS: '2000', WRITE_STALL_FAIL_MS: '1500' });
    expect(message).toContain(
      "'WRITE_PROBE_TIMEOUT_MS' (2000) must be shorter than 'CHECK_TIMEOUT_MS' (2000). E.g. CHECK_TIMEOUT_MS=2000 WRITE_PROBE_TIMEOUT_MS=1000",
    );
    expect(message).toContain(
      "'WRITE_STALL_FAIL_MS' (1500) must be 0 (never fail) or longer than 'WRITE_PROBE_TIMEOUT_MS' (2000). E.g. WRITE_STALL_FAIL_MS=60000",
    );
    expect(problems({ ...minimal, WRITE_STALL_FAIL_MS: 'soon' })).toContain(
      "'WRITE_STALL_FAIL_MS' is not a whole number (got 'soon'). E.g. WRITE_STALL_FAIL_MS=60000 (0: never fail on stalled writes)",
    );
    // The probe's default follows a shorter check timeout; 0 never fails on a stall.
    const short = loadConfig({ ...minimal, CHECK_TIMEOUT_MS: '400', WRITE_STALL_FAIL_MS: '0' });
    expect(short.checks).toMatchObject({ writeTimeoutMs: 200, writeStallFailMs: 0 });
  });

  it('keeps lock names within MySQL’s 64 characters', () => {
    expect(problems({ ...minimal, LOCK_NAME: 'x'.repeat(65) })).toContain("'LOCK_NAME' is longer than 64 characters");
    const long = loadConfig({ ...minimal, database__connection__database: 'd'.repeat(64) });
    expect(long.lock.name.length).toBeLessThanOrEqual(64);
  });
});
