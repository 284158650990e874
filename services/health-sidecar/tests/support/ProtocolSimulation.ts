import { createLogger } from '@ghost-ha/core';
import { Registry } from 'prom-client';
import { loadConfig, type SidecarConfig } from '../../src/config.js';
import { SidecarMetrics } from '../../src/SidecarMetrics.js';
import { SingletonLock } from '../../src/SingletonLock.js';
import { SimulatedDatabase } from './SimulatedDatabase.js';
import { Actor, VirtualTime } from './VirtualTime.js';

/**
 * The settings of every simulated task, read by `loadConfig` like the sidecar's own: one check
 * interval is 1 s; the lease 10 intervals (patience 6.5 s), the rest in the task definition's
 * proportions.
 */
export const SIMULATION_ENV = {
  database__connection__host: 'simulated',
  database__connection__user: 'ghost',
  database__connection__database: 'ghost',
  database__connection__password: 'simulated',
  CHECK_INTERVAL_MS: '1000',
  CHECK_TIMEOUT_MS: '400',
  WRITE_PROBE_TIMEOUT_MS: '200',
  LOCK_WAIT_SECONDS: '1',
  LOCK_RETRY_DELAY_MS: '400',
  LEASE_TTL_MS: '10000',
  GHOST_STOP_TIMEOUT_MS: '2500',
  FENCE_MARGIN_MS: '1000',
  STOP_TIMEOUT_MS: '4000',
  GHOST_STOP_WAIT_MS: '3000',
  DRAIN_TIMEOUT_MS: '1000',
};

/**
 * The container health check's verdict on a hung sidecar (today's only fence for a hang): UNHEALTHY
 * after retries × (interval + timeout) of the template (3 × (5 + 3) s against a 5 s check interval),
 * in the simulation's intervals.
 */
export const HUNG_DETECTED_MS = 4_800;
/**
 * How often the container health check runs (the template's 5 s against a 5 s check interval): it
 * also kills the sidecar once the deadline the sidecar last wrote has passed. The fence margin
 * covers this and ECS's reaction to the exit.
 */
export const WATCHDOG_INTERVAL_MS = 500;
/** A DescribeTasks round trip, and the client's time limit when the API is unreachable. */
const ECS_API_RTT_MS = 50;
const ECS_API_TIMEOUT_MS = 400;
/** ECS starts a replacement task this long after one stopped. */
const REPLACEMENT_DELAY_MS = 2_000;
const MAX_TASKS = 6;
const LOCK_NAME = 'ghost-ha:ghost';

export type Fault =
  /** The task's sidecar stops running (SIGSTOP, GC pause, starved CPU) for `ms`; its Ghost runs on. */
  | { kind: 'pause'; task: number; ms: number }
  /** Every database connection of the task is cut (network path, NAT timeout). */
  | { kind: 'dropConnections'; task: number }
  /** An operator (or a tool) KILLs the session that holds the lock on the writer. */
  | { kind: 'killLockHolder' }
  /** The task's sidecar dies; `fin` false: without closing its sockets (the host vanished). ECS replaces the task. */
  | { kind: 'crash'; task: number; fin: boolean }
  /** A clean stop (deployment): Ghost stops, then the sidecar releases the lease. ECS replaces the task. */
  | { kind: 'stop'; task: number }
  /** Aurora failover: the writer is demoted to a reader, a cached endpoint reaches it for `staleMs`. */
  | { kind: 'failover'; staleMs: number }
  | { kind: 'restartServer'; downMs: number }
  | { kind: 'hangServer'; ms: number }
  | { kind: 'blockWrites'; ms: number }
  /** The database clock jumps (NTP), forward or back. */
  | { kind: 'stepClock'; ms: number }
  | { kind: 'deleteRow' }
  | { kind: 'dropTable' };

export interface Schedule {
  /** When each initial task starts. */
  starts: number[];
  /** The database was provisioned (a released lease row, as for a fresh install); else no table at all. */
  provisioned?: boolean;
  rttMs: number;
  faults: { afterMs: number; fault: Fault }[];
  /**
   * What `DescribeTasks` tells a standby about a holder's task; absent: nobody asks (time only).
   * `delayMs`: a task reads `STOPPED` this long after it really stopped (its Ghost gone); ECS is
   * late, never early, so never negative except to show that the simulation catches a lying view.
   * `unreachable`: every call fails (after the client's time limit).
   */
  ecs?: { delayMs: number; unreachable: boolean } | undefined;
}

export interface Violation {
  kind: 'two Ghosts' | 'lost update';
  at: number;
  detail: string;
  /** For a lost update: what the writer was doing (`standby`: a takeover; `holding`/`regaining`: taking it back). */
  writerState?: string;
}

export interface SimulationResult {
  violations: Violation[];
  /** Statements the simulated server does not model (must be none). */
  unmodeled: string[];
  ghostsStarted: number;
  /** When each Ghost started, in order (virtual ms). */
  ghostStarts: number[];
  /** Times ECS answered a standby "stopped" (the evidence path was taken). */
  ecsStoppedAnswers: number;
  events: number;
  /** What happened when, for reading a failing schedule. */
  trace: string[];
}

interface SimulatedTask {
  n: number;
  actor: Actor;
  lock: SingletonLock;
  ghostStart: number | undefined;
  /** When its Ghost is stopped at the latest (known once the task is stopping). */
  ghostEnd: number | undefined;
  exited: boolean;
  exitedAt: number | undefined;
  pauses: number;
}

const silent = createLogger({ service: 'simulation', level: process.env.SIMULATION_LOG_LEVEL ?? 'silent' });
/** One set of metrics for every simulated task (a bare registry: default metrics would sample the real event loop). */
const metrics = new SidecarMetrics(new Registry());

export function simulationConfig(): SidecarConfig {
  return loadConfig(SIMULATION_ENV);
}

/** Runs one schedule against the real `SingletonLock` and `Lease`; returns what broke. */
export async function simulate(schedule: Schedule): Promise<SimulationResult> {
  const config = simulationConfig();
  const { leaseTtlMs, ghostStopTimeoutMs, marginMs } = config.fencing;
  const ecsReactionMs = marginMs - WATCHDOG_INTERVAL_MS;
  const time = new VirtualTime();
  const db = new SimulatedDatabase(time, schedule.rttMs);
  if (schedule.provisioned) db.provision(LOCK_NAME, leaseTtlMs);
  const tasks: SimulatedTask[] = [];
  const violations: Violation[] = [];
  let ghostsStarted = 0;
  const ghostStarts: number[] = [];
  let ecsStoppedAnswers = 0;
  const trace: string[] = [];
  const note = (line: string) => trace.push(`${Math.round(time.now)} ${line}`);
  let created = 0;
  const ecs = schedule.ecs;
  /** ECS's view of a holder's task: `STOPPED` once it really stopped (its Ghost gone) and `delayMs` passed. */
  const ecsSaysStopped = (holder: string): boolean => {
    const task = tasks.find((candidate) => `task${candidate.n}` === holder);
    if (!ecs || !task?.exited || task.exitedAt === undefined) return false;
    const stoppedAt = task.ghostStart === undefined ? task.exitedAt : task.ghostEnd;
    return stoppedAt !== undefined && time.now >= stoppedAt + ecs.delayMs;
  };

  const exit = (task: SimulatedTask, fin = true) => {
    if (task.exited) return;
    task.exited = true;
    task.exitedAt = time.now;
    note(`task${task.n} exits (${task.lock.state}: ${task.lock.holderInfo})`);
    // ECS notices the essential container's exit and stops Ghost: SIGTERM, SIGKILL after its stop
    // timeout. The margin is for the watchdog's interval and this reaction.
    if (task.ghostStart !== undefined) task.ghostEnd ??= time.now + ecsReactionMs + ghostStopTimeoutMs;
    time.kill(task.actor);
    if (fin)
      for (const server of db.servers)
        for (const session of [...server.sessions.values()]) {
          if (session.owner === task.actor)
            time.schedule(undefined, schedule.rttMs, () => session.closeOnServer(false));
        }
    if (created < MAX_TASKS) time.schedule(undefined, REPLACEMENT_DELAY_MS, () => startTask());
  };

  const startTask = () => {
    const n = created++;
    const actor = new Actor(`task${n}`);
    const task: SimulatedTask = {
      n,
      actor,
      lock: undefined as unknown as SingletonLock,
      ghostStart: undefined,
      ghostEnd: undefined,
      exited: false,
      exitedAt: undefined,
      pauses: 0,
    };
    task.lock = new SingletonLock({
      settings: config.lock,
      fencing: config.fencing,
      holder: `task${n}`,
      connector: { open: (onError) => db.connect(actor, onError ?? (() => undefined), config.checks.timeoutMs) },
      checkIntervalMs: config.checks.intervalMs,
      queryTimeoutMs: config.checks.timeoutMs,
      metrics,
      logger: silent,
      now: () => time.now,
      onTakeover: () => {
        if (task.ghostStart !== undefined) return;
        for (const other of tasks) {
          if (other === task || other.ghostStart === undefined) continue;
          if (other.ghostEnd === undefined || other.ghostEnd > time.now) {
            violations.push({
              kind: 'two Ghosts',
              at: time.now,
              detail: `task${n}'s Ghost starts while task${other.n}'s may still run (until ${other.ghostEnd ?? 'ever'})`,
            });
          }
        }
        task.ghostStart = time.now;
        ghostStarts.push(time.now);
        note(`task${n}'s Ghost starts`);
        ghostsStarted++;
      },
      onFenced: () => exit(task),
      holderStopped: ecs
        ? (holder) =>
            new Promise<boolean>((resolve) =>
              time.schedule(actor, ecs.unreachable ? ECS_API_TIMEOUT_MS : ECS_API_RTT_MS, () =>
                resolve(!ecs.unreachable && ecsSaysStopped(holder) && ++ecsStoppedAnswers > 0),
              ),
            )
        : undefined,
    });
    tasks.push(task);
    // The watchdog: outside the sidecar's event loop, it reads the deadline the sidecar last wrote.
    const watchdog = () => {
      if (task.exited) return;
      const deadline = task.lock.deadline;
      if (deadline !== undefined && time.now > deadline) {
        note(`watchdog kills task${n}'s sidecar (deadline ${Math.round(deadline)})`);
        exit(task);
        return;
      }
      time.schedule(undefined, WATCHDOG_INTERVAL_MS, watchdog);
    };
    time.schedule(undefined, WATCHDOG_INTERVAL_MS, watchdog);
    const lock = task.lock;
    const previous = time.current;
    time.current = actor;
    lock.start();
    time.current = previous;
  };

  const live = () => tasks.filter((task) => !task.exited);
  const pick = (index: number): SimulatedTask | undefined => {
    const candidates = live();
    return candidates[index % Math.max(1, candidates.length)];
  };

  const apply = (fault: Fault) => {
    note(`fault ${JSON.stringify(fault)}`);
    switch (fault.kind) {
      case 'pause': {
        const task = pick(fault.task);
        if (!task || task.actor.paused) return;
        time.pause(task.actor);
        const pause = ++task.pauses;
        time.schedule(undefined, fault.ms, () => time.resume(task.actor));
        // The container health check turns UNHEALTHY after HUNG_DETECTED_MS; ECS stops the task.
        time.schedule(undefined, HUNG_DETECTED_MS, () => {
          if (task.actor.paused && task.pauses === pause) exit(task);
        });
        return;
      }
      case 'dropConnections': {
        const task = pick(fault.task);
        if (task) db.dropSessionsOf(task.actor);
        return;
      }
      case 'killLockHolder':
        return db.killLockHolder(LOCK_NAME);
      case 'crash': {
        const task = pick(fault.task);
        if (task) exit(task, fault.fin);
        return;
      }
      case 'stop': {
        const task = pick(fault.task);
        if (!task || task.exited || task.actor.paused) return;
        // SIGTERM: Ghost stops (it has, once the sidecar records it), then the lock goes.
        const stopping = task;
        time.schedule(stopping.actor, 500, () => {
          if (stopping.ghostStart !== undefined) stopping.ghostEnd = Math.min(stopping.ghostEnd ?? time.now, time.now);
          void stopping.lock.release({ ghostStopped: true }).then(() => exit(stopping));
        });
        return;
      }
      case 'failover':
        return db.failover(fault.staleMs);
      case 'restartServer':
        return db.restart(fault.downMs);
      case 'hangServer':
        return db.hang(fault.ms);
      case 'blockWrites':
        return db.blockWrites(fault.ms);
      case 'stepClock':
        return db.stepClock(fault.ms);
      case 'deleteRow':
        return db.deleteRow(LOCK_NAME);
      case 'dropTable':
        return db.dropTable();
    }
  };

  db.describeWriter = (actor) => tasks.find((task) => task.actor === actor)?.lock.state;
  time.install();
  try {
    for (const at of schedule.starts) time.schedule(undefined, at, () => startTask());
    let at = 0;
    for (const { afterMs, fault } of schedule.faults) {
      at += afterMs;
      time.schedule(undefined, at, () => apply(fault));
    }
    await time.runUntil(at + 2.5 * leaseTtlMs);
  } finally {
    time.uninstall();
  }

  // Every change of holder must replace the lease its writer read (a compare-and-set), or it can
  // overwrite a takeover it never saw.
  for (const write of db.writes) {
    if (!write.before || write.before.holder === write.after.holder) continue;
    if (write.writerLastRead === write.before.version) continue;
    violations.push({
      kind: 'lost update',
      at: write.at,
      detail: `${write.writer.name} replaced ${write.before.holder}'s lease without having read it`,
      writerState: write.writerState,
    });
  }
  return {
    violations,
    unmodeled: db.unmodeled,
    ghostsStarted,
    ghostStarts,
    ecsStoppedAnswers,
    events: time.fired,
    trace,
  };
}
