// @module-tag ghost
import { ghostAdminToken } from '@ghost-ha/core';
import { type DatabaseSettings, freePort, type GhostServer, waitFor } from '@ghost-ha/testbed';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../src/Sidecar.js';
import { httpRequest, slowRequest } from './httpRequest.js';
import {
  type ContentVolume,
  GhostTask,
  get,
  INTERVAL_MS,
  sidecarEnv,
  startSidecar,
  TIMEOUT_MS,
} from './sidecarFixture.js';

const ONE_ROUND = INTERVAL_MS + TIMEOUT_MS + 300;

describe('gate and shutdown, in front of a real Ghost on a real MariaDB', () => {
  let task: GhostTask;
  let database: DatabaseSettings;
  let ghost: GhostServer;
  let content: ContentVolume;
  let sidecar: Sidecar;
  const exits: { code: number; lockHeld: boolean }[] = [];

  const gateUrl = (path: string) => `http://127.0.0.1:${sidecar.gatePort}${path}`;
  const siteHost = () => new URL(ghost.url).host;
  const adminHeaders = () => ({
    Host: siteHost(),
    Authorization: `Ghost ${ghostAdminToken(ghost.adminApiKey)}`,
    'Accept-Version': 'v5.0',
    'Content-Type': 'application/json',
  });
  const verdictBecomes = async (status: number) =>
    waitFor(async () => ((await get(sidecar.healthPort, '/health/ready')).status === status ? true : undefined), {
      what: `/health/ready to answer ${status}`,
      timeoutMs: ONE_ROUND * 3,
      intervalMs: 50,
    });

  beforeAll(async () => {
    task = await GhostTask.start('ghost_gate');
    ({ database, ghost, content } = task);
    await ghost.seedPosts(1, { titlePrefix: 'Gate post' });
    sidecar = await startSidecar(sidecarEnv(ghost, database, content.path, { GATE_PORT: String(await freePort()) }), {
      exit: (code) => exits.push({ code, lockHeld: sidecar.lock.held }),
    });
    await verdictBecomes(200);
  });

  afterAll(async () => {
    await sidecar?.close();
    await task?.destroy();
  });

  it('proxies a real Ghost page unchanged', async () => {
    const headers = { Host: siteHost(), 'Accept-Encoding': 'identity' };
    const direct = await httpRequest(`${ghost.url}/`, { headers });
    const gated = await httpRequest(gateUrl('/'), { headers });
    expect(direct.status).toBe(200);
    expect(gated.status).toBe(200);
    expect(gated.body.toString()).toContain('Gate post 1');
    expect(gated.body.equals(direct.body)).toBe(true);
    for (const name of ['content-type', 'cache-control', 'etag', 'x-powered-by']) {
      expect(gated.headers[name], name).toEqual(direct.headers[name]);
    }
  });

  it('forwards an Admin API POST and its answer unchanged', async () => {
    const created = await httpRequest(gateUrl('/ghost/api/admin/posts/'), {
      method: 'POST',
      headers: adminHeaders(),
      body: JSON.stringify({ posts: [{ title: 'Posted through the gate', status: 'draft' }] }),
    });
    expect(created.status).toBe(201);
    const post = (JSON.parse(created.body.toString()) as { posts: { id: string; title: string }[] }).posts[0];
    expect(post?.title).toBe('Posted through the gate');
    const [readBack] = (await ghost.admin.browse('posts', { filter: `id:${post?.id}` })).items;
    expect(readBack?.title).toBe('Posted through the gate');
  });

  it('answers GET with a fast 503 and Retry-After while the verdict is fail, but still forwards writes', async () => {
    await content.setReadOnly(true);
    try {
      await verdictBecomes(503);
      const started = performance.now();
      const refused = await httpRequest(gateUrl('/'), { headers: { Host: siteHost() } });
      const tookMs = performance.now() - started;
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.headers['cache-control']).toBe('no-store');
      expect(tookMs).toBeLessThan(50);
      // Ghost itself is fine: a write still reaches it and Ghost decides.
      const created = await httpRequest(gateUrl('/ghost/api/admin/posts/'), {
        method: 'POST',
        headers: adminHeaders(),
        body: JSON.stringify({ posts: [{ title: 'Written while failing', status: 'draft' }] }),
      });
      expect(created.status).toBe(201);
      const metrics = await (await fetch(`http://127.0.0.1:${sidecar.healthPort}/metrics`)).text();
      expect(metrics).toMatch(/ghost_ha_gate_requests_total\{code="503"\} [1-9]/);
      expect(metrics).toMatch(/ghost_ha_gate_requests_total\{code="201"\} [1-9]/);
    } finally {
      await content.setReadOnly(false);
    }
    await verdictBecomes(200);
  });

  it('answers 502 at once when Ghost refuses connections', async () => {
    await ghost.stop();
    try {
      const started = performance.now();
      const answer = await httpRequest(gateUrl('/ghost/api/admin/posts/'), {
        method: 'POST',
        headers: adminHeaders(),
        body: '{}',
      });
      expect(answer.status).toBe(502);
      expect(answer.body.toString()).toContain('ECONNREFUSED');
      expect(performance.now() - started).toBeLessThan(100);
    } finally {
      await ghost.start();
    }
    await verdictBecomes(200);
  });

  it('on SIGTERM fails readiness at once, drains in-flight requests, and releases the lock only after Ghost stopped', async () => {
    const observer = await mysql.createConnection({ ...database });
    const lockHolder = async () => {
      const [rows] = await observer.query('SELECT IS_USED_LOCK(?) AS holder', [sidecar.lock.name]);
      return (rows as { holder: number | null }[])[0]?.holder ?? null;
    };
    try {
      expect(await lockHolder()).not.toBeNull();
      const body = JSON.stringify({ posts: [{ title: 'In flight during shutdown', status: 'draft' }] });
      const inFlight = slowRequest(gateUrl('/ghost/api/admin/posts/'), {
        method: 'POST',
        headers: { ...adminHeaders(), 'Content-Length': String(Buffer.byteLength(body)) },
        firstPart: body.slice(0, 10),
        rest: body.slice(10),
      });
      await waitFor(
        async () =>
          sidecar.metrics && (await gaugeValue('ghost_ha_gate_requests_in_flight')) === 1 ? true : undefined,
        {
          what: 'the slow request to reach the gate',
          timeoutMs: 5_000,
          intervalMs: 20,
        },
      );

      const shutdown = sidecar.shutdown('SIGTERM');
      const ready = await get(sidecar.healthPort, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.output).toBe('shutting down');
      // The gate takes no new connections, while the request in flight completes normally.
      await expect(httpRequest(gateUrl('/'))).rejects.toThrow(/ECONNREFUSED/);
      const answer = await inFlight.finish();
      expect(answer.status).toBe(201);

      // Drained, but Ghost still runs: the lock stays with this task.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await lockHolder()).not.toBeNull();
      expect(exits).toEqual([]);

      const ghostStopping = Date.now();
      await ghost.stop();
      const ghostStopped = Date.now();
      const released = await waitFor(async () => ((await lockHolder()) === null ? Date.now() : undefined), {
        what: 'the lock to be released',
        timeoutMs: 5_000,
        intervalMs: 20,
      });
      await shutdown;
      expect(released).toBeGreaterThanOrEqual(ghostStopping);
      expect(released - ghostStopped).toBeLessThan(1_000);
      // The lock went before the exit, not with it.
      expect(exits).toEqual([{ code: 0, lockHeld: false }]);
    } finally {
      await observer.end();
    }
  });

  async function gaugeValue(name: string): Promise<number | undefined> {
    const text = await (await fetch(`http://127.0.0.1:${sidecar.healthPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  }
});
