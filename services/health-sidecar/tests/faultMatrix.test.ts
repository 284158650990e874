// @module-tag integration
// The fault matrix of "one Ghost, ever": the app template's task definition run by the ECS task
// model, two tasks on one MariaDB (the holder, and a standby whose sidecar waits on the lock: the
// worst case, a replacement or deployment task that takes the lock the moment it is free), with the
// template's own timings, and the test bed's ECS API (DescribeTasks, reporting a stopped task a few
// seconds late) for the standby's takeover on evidence. Each fault asserts that no sample (every
// 100 ms, no gap longer than MAX_SAMPLE_GAP_MS) ever saw two Ghosts alive at once (connected to the
// database or not), and that afterwards exactly one Ghost serves and its readiness is back to pass,
// nothing restarted by hand; it prints how close each handover came (the smallest margin between
// the last sample of the old Ghost and the first of the new one). Long: minutes per fault.
import { appendFileSync } from 'node:fs';
import { LEASE_TABLE } from '@ghost-ha/core';
import { type EcsTaskModel, GhostProcessSampler, httpStatus, LocalStack, waitFor } from '@ghost-ha/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HEALTH_PORT = 9000;
const GHOST_PORT = 2368;
/** Longest a fault may take to heal, after it is lifted (ECS replaces an unhealthy task after start period + retries × interval). */
const RECOVERY_BOUND_MS = 5 * 60_000;
const LOCK_NAME = 'ghost-ha:ghost';
/** A probe slower than this counts as not serving (two cores shared by many processes: not tighter). */
const PROBE_TIMEOUT_MS = 2_000;
/**
 * The sampler runs every 100 ms; a longer gap is a blind spot in which an overlap could hide. On a
 * loaded two-core machine the event loop stalls now and then: not tighter, and each fault checks
 * that its handover margin exceeds it.
 */
const MAX_SAMPLE_GAP_MS = 2_000;
/**
 * Holder SIGKILL with ECS's answer: from the old Ghost's last sign of life to the new Ghost's process
 * (ECS's reaction, its report delay, the standby's poll, the health check that starts Ghost). On time
 * alone it is about the TTL (120 s).
 */
const EVIDENCE_HANDOVER_BOUND_MS = 25_000;
/**
 * Holder SIGKILL with ECS's answer: no Ghost serving, less the new Ghost's own boot (which depends on
 * the machine: 15-40 s on two shared cores beside a booting replacement task, not the protocol's).
 */
const EVIDENCE_OUTAGE_BOUND_MS = 35_000;

interface FaultFigures {
  fault: string;
  overlaps: number;
  aliveOverlaps: number;
  longestOutageMs: number;
  recoverMs: number;
  faultMs: number;
  /** The task that served before the fault serves after it (its Ghost was never stopped). */
  holderKept: boolean;
  /** The longest time between two samples of the Ghost processes, from the fault to recovery. */
  maxSampleGapMs: number;
  /** The smallest time between the old Ghost's last sample and a new Ghost's first (undefined: no handover). */
  marginMs: number | undefined;
  /** From the new Ghost's process to its first answer (Ghost's boot; undefined: no new Ghost). */
  bootMs: number | undefined;
}

const figures: FaultFigures[] = [];

/** Progress while the file runs (Vitest shows a test's output only once it ends): FAULT_MATRIX_PROGRESS=<file>. */
function progress(line: string): void {
  const file = process.env.FAULT_MATRIX_PROGRESS;
  if (file) appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
}
let stack: LocalStack;
let sampler: GhostProcessSampler;
let serving: ServingProbe;

/** Every 250 ms: which tasks' Ghosts answer their home page (directly, with the site's Host). */
class ServingProbe {
  readonly samples: { at: number; serving: string[] }[] = [];
  #running = true;
  #loop: Promise<void> | undefined;

  start(): void {
    this.#loop = (async () => {
      while (this.#running) {
        const tick = Date.now();
        const answers = await Promise.all(
          stack.service.live.map(async (task) => ((await ghostServes(task)) ? task.id : '')),
        );
        this.samples.push({ at: Date.now(), serving: answers.filter(Boolean) });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 250 - (Date.now() - tick))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** The longest stretch between `from` and `to` in which no Ghost served. */
  longestOutage(from: number, to: number): number {
    let longest = 0;
    let downSince: number | undefined;
    for (const sample of this.samples) {
      if (sample.at < from || sample.at > to) continue;
      if (sample.serving.length === 0) downSince ??= sample.at;
      else if (downSince !== undefined) {
        longest = Math.max(longest, sample.at - downSince);
        downSince = undefined;
      }
    }
    if (downSince !== undefined) longest = Math.max(longest, to - downSince);
    return longest;
  }
}

async function ghostServes(task: EcsTaskModel): Promise<boolean> {
  const ghost = task.containers.find((container) => container.name === 'ghost');
  if (ghost?.status !== 'RUNNING') return false;
  const headers = { Host: new URL(stack.siteUrl).host };
  return (await httpStatus(`${task.url(GHOST_PORT)}/`, { headers, timeoutMs: PROBE_TIMEOUT_MS })) === 200;
}

async function ready(task: EcsTaskModel): Promise<boolean> {
  return (await httpStatus(`${task.url(HEALTH_PORT)}/health/ready`, { timeoutMs: PROBE_TIMEOUT_MS })) === 200;
}

/**
 * Exactly one Ghost alive and serving, its sidecar ready, and the service at its desired count;
 * `longRunning` (before a fault): also its task past the grace period with a healthy target.
 */
async function steady(longRunning = false): Promise<EcsTaskModel | undefined> {
  const latest = sampler.sample();
  if (latest.alive.length !== 1) return undefined;
  const servingTasks: EcsTaskModel[] = [];
  for (const task of stack.service.live) if (await ghostServes(task)) servingTasks.push(task);
  const [holder] = servingTasks;
  if (servingTasks.length !== 1 || !holder || !(await ready(holder))) return undefined;
  if (stack.service.active.length < stack.service.desiredCount) return undefined;
  if (!longRunning) return holder;
  // As a long-running holder: past the service's grace period, its load balancer target healthy.
  const graceMs = stack.serviceDefinition.healthCheckGracePeriodSeconds * 1000;
  if (Date.now() - (holder.runningAt ?? Date.now()) < graceMs) return undefined;
  if (stack.service.targetHealth(holder)?.state !== 'healthy') return undefined;
  return holder;
}

async function waitSteady(what: string, timeoutMs = RECOVERY_BOUND_MS, longRunning = false): Promise<EcsTaskModel> {
  return waitFor(() => steady(longRunning), { what, timeoutMs, intervalMs: 250 });
}

/** A standby task whose sidecar runs (waiting on the lock) besides the holder. */
async function standbyRunning(holder: EcsTaskModel): Promise<EcsTaskModel> {
  return waitFor(
    async () =>
      stack.service.active.find(
        (task) =>
          task !== holder &&
          task.container('health-sidecar').status === 'RUNNING' &&
          Date.now() - (task.container('health-sidecar').startedAt ?? 0) > 5_000,
      ),
    { what: 'a standby task with its sidecar running', timeoutMs: 120_000, intervalMs: 250 },
  );
}

/**
 * Runs one fault: waits for a steady state with a standby, injects the fault, lifts it, waits for
 * recovery and records the figures. `inject` returns when the fault is lifted.
 */
async function runFault(fault: string, inject: (holder: EcsTaskModel) => Promise<void>): Promise<FaultFigures> {
  progress(`${fault}: waiting for a steady state`);
  const holder = await waitSteady(`a steady state before '${fault}'`, RECOVERY_BOUND_MS, true);
  await standbyRunning(holder);
  const startedAt = Date.now();
  progress(`${fault}: injecting (holder ${holder.id})`);
  await inject(holder);
  const liftedAt = Date.now();
  progress(`${fault}: lifted; waiting for recovery`);
  let recoveredAt = liftedAt;
  let failure: unknown;
  let after: EcsTaskModel | undefined;
  try {
    after = await waitSteady(`recovery from '${fault}'`);
    recoveredAt = Date.now();
  } catch (error) {
    failure = error;
    recoveredAt = Date.now();
  }
  const events = stack.service.events
    .filter((event) => event.at >= startedAt)
    .map((event) => `    +${((event.at - startedAt) / 1000).toFixed(1)} s ${event.message}`);
  const result: FaultFigures = {
    fault,
    overlaps: sampler.overlaps(startedAt).length,
    aliveOverlaps: sampler.aliveOverlaps(startedAt).length,
    longestOutageMs: serving.longestOutage(startedAt, recoveredAt),
    recoverMs: recoveredAt - liftedAt,
    faultMs: liftedAt - startedAt,
    holderKept: after === holder,
    maxSampleGapMs: sampler.maxGap(startedAt, recoveredAt),
    marginMs: sampler.smallestMargin(startedAt),
    bootMs: after === holder ? undefined : bootTime(after, startedAt),
  };
  figures.push(result);
  // biome-ignore lint/suspicious/noConsole: the figures per fault are this file's output.
  console.log(
    `[fault matrix] ${fault}: samples with two Ghosts alive and connected ${result.overlaps} (alive at all: ${result.aliveOverlaps}); ` +
      `longest time with no Ghost serving ${(result.longestOutageMs / 1000).toFixed(1)} s; ` +
      `recovered ${(result.recoverMs / 1000).toFixed(1)} s after the fault was lifted (fault lasted ${(result.faultMs / 1000).toFixed(1)} s)` +
      (result.holderKept ? '; the holder kept its Ghost' : '; the holder was replaced') +
      `; handover margin ${result.marginMs === undefined ? 'none (no handover)' : `${(result.marginMs / 1000).toFixed(1)} s`}` +
      `; longest gap between samples ${result.maxSampleGapMs} ms` +
      (result.bootMs === undefined ? '' : `; the new Ghost booted in ${(result.bootMs / 1000).toFixed(1)} s`) +
      (failure ? `; NOT RECOVERED: ${(failure as Error).message}` : '') +
      (events.length > 0 ? `\n  service events:\n${events.join('\n')}` : ''),
  );
  progress(
    `${fault}: overlaps ${result.overlaps}, outage ${result.longestOutageMs} ms, recovery ${result.recoverMs} ms${failure ? ' NOT RECOVERED' : ''}`,
  );
  expect(result.overlaps, `${fault}: samples with two Ghosts alive and connected to the database`).toBe(0);
  expect(result.aliveOverlaps, `${fault}: samples with two Ghosts alive at once`).toBe(0);
  expect(result.maxSampleGapMs, `${fault}: the sampling had no blind spot`).toBeLessThanOrEqual(MAX_SAMPLE_GAP_MS);
  if (result.marginMs !== undefined)
    expect(result.marginMs, `${fault}: the handover margin exceeds the sampling's longest gap`).toBeGreaterThan(
      result.maxSampleGapMs,
    );
  if (failure) throw failure;
  return result;
}

function sidecarEnv(): Readonly<Record<string, string>> {
  return stack.definition.containers.find((container) => container.name === 'health-sidecar')?.environment ?? {};
}

/** The sidecar's patience from the task definition: LEASE_TTL_MS − GHOST_STOP_TIMEOUT_MS − FENCE_MARGIN_MS. */
function patienceMs(): number {
  const env = sidecarEnv();
  return Number(env.LEASE_TTL_MS) - Number(env.GHOST_STOP_TIMEOUT_MS) - Number(env.FENCE_MARGIN_MS);
}

/** From `task`'s Ghost process first seen alive (after `since`) to its first answer. */
function bootTime(task: EcsTaskModel | undefined, since: number): number | undefined {
  if (!task) return undefined;
  const alive = sampler.samples.find((sample) => sample.at >= since && sample.alive.includes(task.id))?.at;
  const answered = serving.samples.find((sample) => sample.at >= since && sample.serving.includes(task.id))?.at;
  return alive === undefined || answered === undefined ? undefined : answered - alive;
}

function leaseTtlMs(): number {
  return Number(sidecarEnv().LEASE_TTL_MS);
}

function smallestMargin(): string {
  const margins = figures.flatMap((f) => (f.marginMs === undefined ? [] : [{ fault: f.fault, ms: f.marginMs }]));
  const smallest = margins.sort((a, b) => a.ms - b.ms)[0];
  return smallest ? `${(smallest.ms / 1000).toFixed(1)} s (${smallest.fault})` : 'no handover';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault matrix: two tasks of the task definition on one MariaDB', () => {
  beforeAll(async () => {
    stack = await LocalStack.start({ desiredCount: 2 });
    sampler = new GhostProcessSampler({
      databasePort: stack.mariadb.port,
      processes: () =>
        stack.service.tasks.flatMap((task) => {
          const pid = task.container('ghost').pid;
          return pid === undefined ? [] : [{ label: task.id, pid }];
        }),
    });
    sampler.start();
    serving = new ServingProbe();
    serving.start();
    await waitSteady('the first Ghost to serve', 300_000);
  }, 360_000);

  afterAll(async () => {
    sampler?.stop();
    await serving?.stop();
    if (figures.length > 0) {
      // biome-ignore lint/suspicious/noConsole: the figures per fault are this file's output.
      console.log(
        [
          '[fault matrix] summary',
          ...figures.map(
            (f) =>
              `  ${f.fault}: overlaps ${f.overlaps} (alive ${f.aliveOverlaps}), longest outage ${(f.longestOutageMs / 1000).toFixed(1)} s, recovery ${(f.recoverMs / 1000).toFixed(1)} s, margin ${f.marginMs === undefined ? '-' : `${(f.marginMs / 1000).toFixed(1)} s`}, max sample gap ${f.maxSampleGapMs} ms`,
          ),
          `  smallest handover margin seen: ${smallestMargin()}`,
        ].join('\n'),
      );
    }
    await stack?.destroy();
  }, 300_000);

  it('MariaDB hangs (SIGSTOP) for 40 s, then continues', async () => {
    const result = await runFault('MariaDB SIGSTOP 40 s, SIGCONT', async () => {
      stack.mariadb.signal('SIGSTOP');
      await sleep(40_000);
      stack.mariadb.signal('SIGCONT');
    });
    // A database outage shorter than the holder's patience is ridden out: the same task keeps its
    // Ghost (a database failover must not become a site outage).
    expect(40_000, 'the hang is shorter than the patience').toBeLessThan(patienceMs());
    expect(result.holderKept, 'the holder kept its Ghost through a database hang within its patience').toBe(true);
  }, 900_000);

  it('MariaDB hangs (SIGSTOP), then is killed and restarted', async () => {
    const result = await runFault('MariaDB SIGSTOP, kill, restart', async () => {
      stack.mariadb.signal('SIGSTOP');
      await sleep(10_000);
      await stack.mariadb.kill();
      await stack.mariadb.start();
    });
    expect(result.holderKept, 'the holder kept its Ghost through a database restart within its patience').toBe(true);
  }, 900_000);

  it("the lock holder's sidecar hangs (SIGSTOP) for 60 s", async () => {
    await runFault("holder's sidecar SIGSTOP 60 s, SIGCONT", async (holder) => {
      const sidecar = holder.process('health-sidecar');
      sidecar?.signal('SIGSTOP');
      await sleep(60_000);
      sidecar?.signal('SIGCONT');
    });
  }, 900_000);

  it("the lock holder's sidecar is killed (SIGKILL): the standby takes over once ECS reports the task stopped", async () => {
    const callsBefore = stack.ecsApi.calls;
    const result = await runFault("holder's sidecar SIGKILL", async (holder) => {
      await holder.process('health-sidecar')?.kill();
    });
    expect(stack.ecsApi.calls, 'the standby asked ECS').toBeGreaterThan(callsBefore);
    expect(result.marginMs, 'from the old Ghost gone to the new one started').toBeLessThanOrEqual(
      EVIDENCE_HANDOVER_BOUND_MS,
    );
    expect(result.bootMs, 'the new Ghost was seen booting').toBeDefined();
    expect(
      result.longestOutageMs - (result.bootMs ?? 0),
      'no Ghost serving (less its boot), with ECS as evidence',
    ).toBeLessThanOrEqual(EVIDENCE_OUTAGE_BOUND_MS);
    expect(result.longestOutageMs, 'far less than the TTL alone').toBeLessThan(leaseTtlMs());
  }, 900_000);

  it("the holder's renewals fail for 70 s (its lease table locked), then its sidecar stalls (SIGSTOP): its Ghost is gone before the lease could pass", async () => {
    const blockedFor = 70_000;
    let blockedAt = 0;
    let holderId = '';
    const result = await runFault("holder's renewals blocked 70 s, then its sidecar SIGSTOP", async (holder) => {
      holderId = holder.id;
      const blocker = await stack.mariadb.rootConnection(stack.databaseName);
      const sidecar = holder.process('health-sidecar');
      try {
        // Every renewal now waits on the table lock and fails at its own time limit; Ghost's tables are untouched.
        await blocker.query(`LOCK TABLES ${LEASE_TABLE} WRITE`);
        blockedAt = Date.now();
        await sleep(blockedFor);
        // Then the sidecar hangs, too late to stop its Ghost itself: only the watchdog is left.
        sidecar?.signal('SIGSTOP');
      } finally {
        await blocker.query('UNLOCK TABLES');
        await blocker.end();
      }
      // Resumed a full TTL after the block began, should the watchdog not have killed it by then.
      await sleep(Math.max(0, blockedAt + leaseTtlMs() + 5_000 - Date.now()));
      sidecar?.signal('SIGCONT');
    });
    // The lease's last renewal was before the block: its Ghost must be gone before that renewal + TTL.
    const lastAlive = sampler.samples.filter((sample) => sample.alive.includes(holderId)).at(-1)?.at ?? 0;
    const ghostGoneAfterMs = lastAlive - blockedAt;
    // biome-ignore lint/suspicious/noConsole: the figure is this fault's output.
    console.log(
      `[fault matrix] renewals blocked, then a stall: the holder's Ghost last seen ${(ghostGoneAfterMs / 1000).toFixed(1)} s after the block began (lease TTL ${leaseTtlMs() / 1000} s, patience ${patienceMs() / 1000} s)`,
    );
    expect(result.holderKept, 'the stalled holder was replaced').toBe(false);
    expect(ghostGoneAfterMs, "the holder's Ghost was gone before its lease could pass").toBeLessThan(leaseTtlMs());
  }, 900_000);

  it("the lock holder's sidecar is killed (SIGKILL) while the ECS API is unreachable: the lease's TTL rules", async () => {
    stack.ecsApi.setUnreachable(true);
    try {
      const result = await runFault("holder's sidecar SIGKILL, ECS API unreachable", async (holder) => {
        await holder.process('health-sidecar')?.kill();
      });
      // No evidence: the standby waits out the TTL from the last renewal (less one check interval).
      expect(result.longestOutageMs, 'the takeover waited for the TTL').toBeGreaterThan(leaseTtlMs() - 10_000);
      expect(result.marginMs, 'the next Ghost started a TTL after the last renewal').toBeGreaterThan(
        leaseTtlMs() - 10_000,
      );
    } finally {
      stack.ecsApi.setUnreachable(false);
    }
  }, 900_000);

  it('the lock connection is killed from the server side', async () => {
    await runFault('lock connection KILLed by the server', async () => {
      const rows = (await stack.mariadb.rootQuery('SELECT IS_USED_LOCK(?) AS holder', [LOCK_NAME])) as {
        holder: number | null;
      }[];
      const connection = rows[0]?.holder;
      expect(connection, `a connection holds '${LOCK_NAME}'`).toBeTruthy();
      await stack.mariadb.rootQuery(`KILL ${Number(connection)}`);
    });
  }, 900_000);

  it('a deployment overlaps: a new task starts while the old one runs, then the old one gets SIGTERM', async () => {
    await runFault('deployment overlap (new task, then SIGTERM to the old)', async (holder) => {
      const next = await stack.service.startTask();
      await waitFor(async () => (next.container('health-sidecar').status === 'RUNNING' ? true : undefined), {
        what: "the new task's sidecar",
        timeoutMs: 60_000,
      });
      await sleep(5_000);
      void holder.stop('Deployment: replaced by a new task');
    });
  }, 900_000);
});
