// @module-tag ghost

import { ghostAdminToken, type HealthStatus } from '@ghost-ha/core';
import { type DatabaseSettings, freePort, type GhostServer, waitFor } from '@ghost-ha/testbed';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../src/Sidecar.js';
import { HangingProxy } from './HangingProxy.js';
import { httpRequest, type RawResponse, slowRequest } from './httpRequest.js';
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
/** The gate's response-header timeout in these tests: longer than a round, so a hang is seen first. */
const RESPONSE_TIMEOUT_MS = 3_000;
/** How long the hang lasts: longer than CloudFront's 30 s origin read timeout. */
const HANG_MS = 40_000;

/** Sends a request and notes when its answer arrived (performance.now()). */
async function timed(sending: Promise<RawResponse>): Promise<RawResponse & { at: number }> {
  const answer = await sending;
  return { ...answer, at: performance.now() };
}

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
    waitFor(
      async () => {
        const ready = await get(sidecar.healthPort, '/health/ready');
        if (ready.status === status) return true;
        throw new Error(`it answers ${ready.status}: ${String(ready.body.output)}`);
      },
      { what: `/health/ready to answer ${status}`, timeoutMs: ONE_ROUND * 3, intervalMs: 50 },
    );

  beforeAll(async () => {
    task = await GhostTask.start('ghost_gate');
    ({ database, ghost, content } = task);
    await ghost.seedPosts(1, { titlePrefix: 'Gate post' });
    const gateEnv = { GATE_PORT: String(await freePort()), GATE_RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS) };
    sidecar = await startSidecar(sidecarEnv(ghost, database, content.path, gateEnv), {
      exit: (code) => exits.push({ code, lockHeld: sidecar.lock.held }),
    });
    await verdictBecomes(200);
  });

  afterAll(async () => {
    await sidecar?.close();
    await task?.destroy();
  });

  it('proxies a real Ghost page unchanged, but for the stale directives on its Cache-Control', async () => {
    const headers = { Host: siteHost(), 'Accept-Encoding': 'identity' };
    const direct = await httpRequest(`${ghost.url}/`, { headers });
    const gated = await httpRequest(gateUrl('/'), { headers });
    expect(direct.status).toBe(200);
    expect(gated.status).toBe(200);
    expect(gated.body.toString()).toContain('Gate post 1');
    expect(gated.body.equals(direct.body)).toBe(true);
    for (const name of ['content-type', 'etag', 'x-powered-by']) {
      expect(gated.headers[name], name).toEqual(direct.headers[name]);
    }
    // CloudFront may then serve its cached copy while Ghost errs (defaults: 60 s and one day).
    expect(gated.headers['cache-control']).toBe(
      `${direct.headers['cache-control']}, stale-while-revalidate=60, stale-if-error=86400`,
    );
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

  it("lets Ghost's sign-in brute-force limit bite on 20 attempts that each claim another X-Forwarded-For", async () => {
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 20; attempt++) {
      const signIn = await httpRequest(gateUrl('/ghost/api/admin/session/'), {
        method: 'POST',
        headers: {
          Host: siteHost(),
          Origin: ghost.url,
          'Content-Type': 'application/json',
          // As CloudFront and the ALB deliver it: the viewer's own claim, then the viewer address
          // CloudFront appended, then CloudFront's address appended by the ALB.
          'X-Forwarded-For': `198.18.${attempt}.${attempt}, 203.0.113.7, 130.176.0.9`,
        },
        body: JSON.stringify({ username: 'nobody@example.com', password: `wrong-${attempt}` }),
      });
      statuses.push(signIn.status);
    }
    // Ghost's `spam.user_login` (per client address, 4 free retries): five attempts reach the sign-in
    // (404: no such user), every later one is refused 429 as the same client. Without the gate's
    // rewrite each attempt was a new client to Ghost and all 20 were answered 404.
    expect(statuses.join(' ')).toBe([...Array(5).fill(404), ...Array(15).fill(429)].join(' '));
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

  it('answers a GET waiting on a hung Ghost with 503 as the verdict turns fail, lets a POST wait for the timeout, and recovers after SIGCONT', async () => {
    const flips: { status: HealthStatus; at: number }[] = [];
    const unsubscribe = sidecar.monitor.onVerdictChange((status) => flips.push({ status, at: performance.now() }));
    const title = `Sent to a stopped Ghost ${Date.now()}`;
    ghost.signal('SIGSTOP');
    const stoppedAt = performance.now();
    try {
      const waitingGet = timed(httpRequest(gateUrl('/'), { headers: { Host: siteHost() } }));
      const postSentAt = performance.now();
      const waitingPost = timed(
        httpRequest(gateUrl('/ghost/api/admin/posts/'), {
          method: 'POST',
          headers: adminHeaders(),
          body: JSON.stringify({ posts: [{ title, status: 'draft' }] }),
        }),
      );

      const get = await waitingGet;
      const failed = flips.find((flip) => flip.status === 'fail');
      expect(get.status).toBe(503);
      expect(get.headers['retry-after']).toBe('5');
      expect(failed).toBeDefined();
      // Held until the verdict turned, then answered at once.
      expect(get.at).toBeGreaterThanOrEqual(failed?.at ?? Number.POSITIVE_INFINITY);
      expect(get.at - (failed?.at ?? 0)).toBeLessThan(INTERVAL_MS);

      // A write is never answered 503 (CloudFront would not fail it over) nor sent twice: it waits
      // for Ghost up to the response timeout.
      const post = await waitingPost;
      expect(post.status).toBe(504);
      expect(post.at - postSentAt).toBeGreaterThanOrEqual(RESPONSE_TIMEOUT_MS - 5);
      expect(post.at - postSentAt).toBeLessThan(RESPONSE_TIMEOUT_MS + 500);

      await new Promise((resolve) => setTimeout(resolve, HANG_MS - (performance.now() - stoppedAt)));
      const started = performance.now();
      const meanwhile = await httpRequest(gateUrl('/'), { headers: { Host: siteHost() } });
      expect(meanwhile.status).toBe(503);
      expect(performance.now() - started).toBeLessThan(50);
    } finally {
      ghost.signal('SIGCONT');
    }
    // Ghost works through what queued up while it was stopped: on a busy machine a round or two may
    // still time out before pages flow again.
    const page = await waitFor(
      async () => {
        const answer = await httpRequest(gateUrl('/'), { headers: { Host: siteHost() } });
        return answer.status === 200 ? answer : undefined;
      },
      { what: 'the gate to serve pages again', timeoutMs: ONE_ROUND * 10, intervalMs: 100 },
    );
    unsubscribe();
    expect(page.body.toString()).toContain('Gate post 1');
    expect(flips.slice(0, 2).map((flip) => flip.status)).toEqual(['fail', 'pass']);
    // Ghost may still read the POST from its socket after SIGCONT; the gate never sent it twice.
    const { items } = await ghost.admin.browse('posts', { filter: `title:'${title}'`, limit: 100 });
    expect(items.length).toBeLessThanOrEqual(1);
  }, 120_000);

  it('answers 504 at the response timeout when Ghost accepts a request and never answers, and recovers', async () => {
    const proxy = await HangingProxy.start(ghost.url);
    // A second sidecar whose Ghost is reached through the proxy: its health check still passes
    // while the pages the test picks hang.
    const hung = await startSidecar(
      sidecarEnv(ghost, database, content.path, {
        GHOST_URL: proxy.url,
        GATE_PORT: String(await freePort()),
        GATE_RESPONSE_TIMEOUT_MS: String(RESPONSE_TIMEOUT_MS),
        LOCK_NAME: 'ghost-ha:hung-origin-test',
        // Unhurried rounds: on a busy machine a 400 ms check timeout could fail the verdict, and
        // this test is about the gate's timeout while the verdict passes.
        CHECK_INTERVAL_MS: '2500',
        CHECK_TIMEOUT_MS: '2000',
      }),
    );
    const hungGate = (path: string) => `http://127.0.0.1:${hung.gatePort}${path}`;
    try {
      await waitFor(async () => ((await get(hung.healthPort, '/health/ready')).status === 200 ? true : undefined), {
        what: 'the second sidecar to pass',
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      proxy.hangs = (req) => req.url === '/' || req.url === '/ghost/api/admin/posts/';

      const started = performance.now();
      const [page, write] = await Promise.all([
        timed(httpRequest(hungGate('/'), { headers: { Host: siteHost() } })),
        timed(
          httpRequest(hungGate('/ghost/api/admin/posts/'), {
            method: 'POST',
            headers: adminHeaders(),
            body: JSON.stringify({ posts: [{ title: 'Never answered', status: 'draft' }] }),
          }),
        ),
      ]);
      const report = async () => JSON.stringify((await get(hung.healthPort, '/health')).body);
      for (const answer of [page, write]) {
        expect(answer.status, await report()).toBe(504);
        expect(answer.headers['cache-control']).toBe('no-store');
        expect(answer.at - started).toBeGreaterThanOrEqual(RESPONSE_TIMEOUT_MS - 5);
        expect(answer.at - started).toBeLessThan(RESPONSE_TIMEOUT_MS + 500);
      }
      // Each reached Ghost once: nothing is retried.
      expect(proxy.seen('GET', '/')).toBe(1);
      expect(proxy.seen('POST', '/ghost/api/admin/posts/')).toBe(1);
      // The verdict stayed pass: this was the timeout, not the 503 of a failing verdict.
      expect((await get(hung.healthPort, '/health/ready')).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${hung.healthPort}/metrics`)).text();
      expect(metrics).toMatch(/ghost_ha_gate_requests_total\{code="504"\} 2/);

      proxy.hangs = () => false;
      const recovered = await httpRequest(hungGate('/'), { headers: { Host: siteHost() } });
      expect(recovered.status).toBe(200);
      expect(recovered.body.toString()).toContain('Gate post 1');
    } finally {
      await hung.close();
      await proxy.close();
    }
  });

  it('lets a GET in flight at SIGTERM finish: the shutdown fail is no reason to refuse it', async () => {
    const leaving = await startSidecar(
      sidecarEnv(ghost, database, content.path, {
        GATE_PORT: String(await freePort()),
        LOCK_NAME: 'ghost-ha:draining-test',
        // Rounds slower than the pause below: only the shutdown turns this verdict.
        CHECK_INTERVAL_MS: '2500',
        CHECK_TIMEOUT_MS: '2000',
        GHOST_STOP_WAIT_MS: '0',
      }),
    );
    try {
      await waitFor(async () => ((await get(leaving.healthPort, '/health/ready')).status === 200 ? true : undefined), {
        what: 'the second sidecar to pass',
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      // Ghost paused for a moment, so the GET is still waiting when SIGTERM comes.
      ghost.signal('SIGSTOP');
      let inFlight: Promise<RawResponse>;
      try {
        inFlight = httpRequest(`http://127.0.0.1:${leaving.gatePort}/`, { headers: { Host: siteHost() } });
        await new Promise((resolve) => setTimeout(resolve, 100));
        void leaving.shutdown('SIGTERM');
        expect((await get(leaving.healthPort, '/health/ready')).status).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        ghost.signal('SIGCONT');
      }
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body.toString()).toContain('Gate post 1');
    } finally {
      ghost.signal('SIGCONT');
      // Idempotent: the shutdown already begun, or one for this test's end.
      await leaving.shutdown('SIGTERM');
    }
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
