import { ECSClient } from '@aws-sdk/client-ecs';
import {
  type Check,
  createRegistry,
  HealthMonitor,
  type Logger,
  type SecretsLoader,
  summarizeError,
} from '@ghost-ha/core';
import { ContentVolumeCheck } from './ContentVolumeCheck.js';
import { EXIT_MARGIN_MS, type SidecarConfig } from './config.js';
import { DatabaseCheck } from './DatabaseCheck.js';
import { type ConnectDatabase, connectWithMysql2, DatabaseConnector } from './DatabaseConnector.js';
import { DatabaseCredentials } from './DatabaseCredentials.js';
import { DiskSpaceCheck } from './DiskSpaceCheck.js';
import { Gate } from './Gate.js';
import { GhostCheck } from './GhostCheck.js';
import { HealthServer } from './HealthServer.js';
import { HeartbeatWriteCheck } from './HeartbeatWriteCheck.js';
import { HolderTaskStatus } from './HolderTaskStatus.js';
import { resolveHolderId } from './holderId.js';
import { SidecarMetrics } from './SidecarMetrics.js';
import { SingletonLock, SingletonLockCheck } from './SingletonLock.js';
import { SIDECAR_LOG } from './signals.js';
import { Watchdog } from './Watchdog.js';
import { waitForGhostToStop } from './waitForGhostToStop.js';

/** Side effects, passed in so tests run the real thing and swap only these. */
export interface SidecarDependencies {
  logger: Logger;
  now?: () => number;
  /** Opens MySQL connections; mysql2 unless given. */
  connect?: ConnectDatabase;
  /** Needed when the password comes from a Secrets Manager secret. */
  secrets?: SecretsLoader;
  /** Ends the process after shutdown (code 0) or when the stop timeout is reached (code 1). */
  exit?: (code: number) => void;
  /** Where to listen; all interfaces unless given. */
  host?: string;
  /** Names this process as a lease holder; from the ECS task metadata unless given. */
  holder?: string;
  /**
   * Asks ECS whether a lease holder's task has stopped; by default an ECS client (its endpoint
   * from the SDK's configuration, e.g. `AWS_ENDPOINT_URL_ECS`) in the cluster the task metadata names.
   */
  holderStopped?: (holder: string) => Promise<boolean>;
}

/**
 * Exit code when the sidecar fences its task (another holder took over, or the lease could not be
 * renewed in time). The container is essential, so ECS stops the task and Ghost with it.
 */
export const FENCED_EXIT_CODE = 75;

/** Everything in the task's sidecar: checks, the lock, the health port and the gate. */
export class Sidecar {
  readonly config: SidecarConfig;
  readonly monitor: HealthMonitor;
  readonly lock: SingletonLock;
  readonly metrics: SidecarMetrics;
  readonly #log: Logger;
  readonly #exit: (code: number) => void;
  readonly #databaseCheck: DatabaseCheck;
  readonly #writeCheck: HeartbeatWriteCheck;
  readonly #healthServer: HealthServer;
  readonly #gate: Gate | undefined;
  readonly #watchdog: Watchdog | undefined;
  #healthPort = 0;
  #gatePort: number | undefined;
  #shutdown: Promise<void> | undefined;

  private constructor(
    config: SidecarConfig,
    deps: SidecarDependencies,
    holder: string,
    holderStopped: ((holder: string) => Promise<boolean>) | undefined,
  ) {
    const now = deps.now ?? Date.now;
    this.config = config;
    this.#log = deps.logger.child({ module: 'Sidecar' });
    this.#exit = deps.exit ?? (() => undefined);
    this.metrics = new SidecarMetrics(createRegistry());
    const { user, password, passwordSecretId, secretRereadMs } = config.database;
    const credentials = new DatabaseCredentials({
      injected: password === undefined ? undefined : { user, password },
      user,
      secretId: passwordSecretId,
      secrets: deps.secrets,
      rereadIntervalMs: secretRereadMs,
      timeoutMs: config.checks.timeoutMs,
      now,
      logger: deps.logger,
    });
    const connector = new DatabaseConnector({
      settings: config.database,
      connect: deps.connect ?? connectWithMysql2,
      credentials,
      connectTimeoutMs: config.checks.timeoutMs,
      keepAliveInitialDelayMs: config.checks.intervalMs,
    });
    const ghostCheck = new GhostCheck({ ghost: config.ghost, startupGraceMs: config.checks.startupGraceMs, now });
    const monotonic = () => performance.now();
    this.#watchdog = config.fencing.watchdogFile
      ? new Watchdog({ path: config.fencing.watchdogFile, now: monotonic })
      : undefined;
    // Before anything else: a file left by an earlier process of this container must not fire.
    this.#writeWatchdog(undefined);
    this.lock = new SingletonLock({
      now: monotonic,
      onDeadline: (deadline) => this.#writeWatchdog(deadline),
      settings: config.lock,
      fencing: config.fencing,
      holder,
      connector,
      checkIntervalMs: config.checks.intervalMs,
      queryTimeoutMs: config.checks.timeoutMs,
      metrics: this.metrics,
      logger: deps.logger,
      // Ghost starts once its sidecar holds the lease: its boot gets the grace period from now.
      onTakeover: () => ghostCheck.startGrace(),
      holderStopped,
      onFenced: (error) => this.#fenced(error),
    });
    this.#databaseCheck = new DatabaseCheck({ connector, now, timeoutMs: config.checks.timeoutMs });
    this.#writeCheck = new HeartbeatWriteCheck({
      connector,
      holder,
      timeoutMs: config.checks.writeTimeoutMs,
      stallFailMs: config.checks.writeStallFailMs,
      intervalMs: config.checks.intervalMs,
      queryTimeoutMs: config.checks.timeoutMs,
      now,
      metrics: this.metrics,
      logger: deps.logger,
    });
    const checks: Check[] = [
      ghostCheck,
      this.#databaseCheck,
      this.#writeCheck,
      new ContentVolumeCheck({ contentPath: config.contentPath, now }),
      new DiskSpaceCheck({ contentPath: config.contentPath, warnBelowBytes: config.checks.diskFreeWarnBytes }),
      new SingletonLockCheck(this.lock),
    ];
    this.monitor = new HealthMonitor({
      checks,
      intervalMs: config.checks.intervalMs,
      timeoutMs: config.checks.timeoutMs,
      now,
      description: 'Ghost task deep health (ghost-ha health-sidecar)',
      observer: this.metrics.health,
      logger: deps.logger,
    });
    this.#healthServer = new HealthServer({
      report: () => this.monitor.current,
      // The ECS container health check: Ghost may start (dependsOn HEALTHY) or keep running here.
      lockHeld: () => this.lock.mayRunGhost,
      metrics: this.metrics,
      logger: deps.logger,
    });
    this.#gate = config.gate
      ? new Gate({
          ghostUrl: config.ghost.url,
          forwarding: {
            host: config.ghost.host,
            proto: config.ghost.forwardedProto,
            trustedProxies: config.gate.trustedProxies,
          },
          retryAfterSeconds: config.gate.retryAfterSeconds,
          responseTimeoutMs: config.gate.responseTimeoutMs,
          stale: config.gate.stale,
          verdict: () => this.monitor.current.report.status,
          onVerdictChange: (listener) => this.monitor.onVerdictChange(listener),
          metrics: this.metrics,
          logger: deps.logger,
          now,
        })
      : undefined;
  }

  /** Listens on the health port (and the gate's), starts the checks and starts taking the lock. */
  static async start(config: SidecarConfig, deps: SidecarDependencies): Promise<Sidecar> {
    let holder = deps.holder;
    let holderStopped = deps.holderStopped;
    if (holder === undefined) {
      const resolved = await resolveHolderId(config.fencing.metadataUri);
      holder = resolved.holder;
      if (config.fencing.metadataUri && !resolved.fromMetadata)
        deps.logger.warn(
          { holder },
          'ECS task metadata did not answer with a task ARN; naming the lease holder by host',
        );
      if (holderStopped === undefined && resolved.cluster && config.fencing.ecsDescribeTimeoutMs > 0) {
        const status = new HolderTaskStatus({
          // One attempt per question: the standby asks again next interval, and the TTL backs it.
          client: new ECSClient({ maxAttempts: 1 }),
          cluster: resolved.cluster,
          timeoutMs: config.fencing.ecsDescribeTimeoutMs,
          logger: deps.logger,
        });
        holderStopped = async (other) => (await status.verdict(other)) === 'stopped';
      }
    }
    const sidecar = new Sidecar(config, deps, holder, holderStopped);
    sidecar.#healthPort = await sidecar.#healthServer.listen(config.healthPort, deps.host);
    if (sidecar.#gate && config.gate) {
      try {
        sidecar.#gatePort = await sidecar.#gate.listen(config.gate.port, deps.host);
      } catch (error) {
        await sidecar.#healthServer.close();
        throw error;
      }
    }
    sidecar.lock.start();
    sidecar.monitor.start();
    sidecar.#log.info(
      {
        healthPort: sidecar.#healthPort,
        gatePort: sidecar.#gatePort,
        lock: config.lock.name,
        holder,
        leaseTtlMs: config.fencing.leaseTtlMs,
        patienceMs: config.fencing.patienceMs,
      },
      'health-sidecar started',
    );
    return sidecar;
  }

  get healthPort(): number {
    return this.#healthPort;
  }

  /** Undefined when the gate is disabled. */
  get gatePort(): number | undefined {
    return this.#gatePort;
  }

  /**
   * SIGTERM: readiness fails at once; the gate finishes in-flight requests while Ghost is given
   * time to stop; the lock goes last, so no other task starts a Ghost while this one still runs;
   * then exit, within the stop timeout whatever happens.
   */
  shutdown(reason: string): Promise<void> {
    this.#shutdown ??= this.#runShutdown(reason);
    return this.#shutdown;
  }

  async #runShutdown(reason: string): Promise<void> {
    const { drainTimeoutMs, ghostStopWaitMs, stopTimeoutMs } = this.config.shutdown;
    const started = Date.now();
    const hardStop = setTimeout(
      () => {
        this.#log.error({ stopTimeoutMs }, SIDECAR_LOG.shutdownOverran);
        this.#exit(1);
      },
      stopTimeoutMs - EXIT_MARGIN_MS / 2,
    );
    hardStop.unref();
    this.monitor.setDraining();
    this.#log.info({ reason, drainTimeoutMs, ghostStopWaitMs }, SIDECAR_LOG.shuttingDown);
    try {
      const [cut, ghostStopped] = await Promise.all([
        this.#gate?.drain(drainTimeoutMs) ?? Promise.resolve(0),
        waitForGhostToStop(this.config.ghost.url, ghostStopWaitMs, { metadataUri: this.config.fencing.metadataUri }),
      ]);
      this.#log.info({ cut, ghostStopped }, 'gate drained; Ghost %s', ghostStopped ? 'has stopped' : 'still listens');
      await this.monitor.stop();
      // Only a Ghost seen stopped is recorded as such; otherwise the next holder waits out the lease.
      await this.lock.release({ ghostStopped });
      this.#closeCheckConnections();
      await this.#healthServer.close();
      this.#log.info({ ms: Date.now() - started }, SIDECAR_LOG.shutdownComplete);
      clearTimeout(hardStop);
      this.#exit(0);
    } catch (error) {
      this.#log.error({ error: summarizeError(error) }, 'shutdown failed');
      clearTimeout(hardStop);
      this.#exit(1);
    }
  }

  /**
   * Another holder took over, or the lease could not be renewed in time: this task's Ghost must stop.
   * Exiting does it: the sidecar is essential, so ECS stops the task (SIGTERM to Ghost, SIGKILL after
   * its stop timeout). No drain: every second Ghost keeps running counts against the lease TTL.
   */
  #fenced(error: Error): void {
    if (this.#shutdown) return;
    this.monitor.setDraining(error.message);
    this.#closeCheckConnections();
    this.#shutdown = this.monitor.stop();
    this.#exit(FENCED_EXIT_CODE);
  }

  /** Stops everything without the shutdown sequence (tests, failed start-up). */
  async close(): Promise<void> {
    await this.monitor.stop();
    await this.#gate?.drain(0);
    await this.lock.release();
    this.#closeCheckConnections();
    await this.#healthServer.close();
  }

  #writeWatchdog(deadline: number | undefined): void {
    try {
      this.#watchdog?.write(deadline);
    } catch (error) {
      // A deadline not written stays the last one written: the watchdog acts early, never late.
      this.#log.warn({ error: summarizeError(error) }, 'could not write the watchdog file');
    }
  }

  /** The read and write checks each hold a database connection of their own. */
  #closeCheckConnections(): void {
    this.#databaseCheck.close();
    this.#writeCheck.close();
  }
}
