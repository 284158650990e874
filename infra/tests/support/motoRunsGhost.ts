import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { LocalUpgradeSite, MotoServer } from '@ghost-ha/testbed';
import type { AwsCall } from '../../src/switch/AwsCall.js';
import type { BackupPoint } from '../../src/upgrade/UpgradeSite.js';

export interface MotoRunsGhostOptions {
  readonly site: LocalUpgradeSite;
  /** The release Ghost runs now. */
  readonly running: string;
  readonly moto: MotoServer;
  readonly region: string;
  readonly cluster: string;
  readonly service: string;
  readonly bootTimeoutMs: number;
  /** Called each time Ghost has stopped, before anything else is done (e.g. to look at the load balancer). */
  readonly whileStopped?: () => Promise<void>;
}

const GHOST_IMAGE = /(?:^|\/)ghost:(\d+\.\d+\.\d+)(?:@sha256:[0-9a-f]{64})?$/;

/**
 * What AWS does for the upgrade's calls, played on a real Ghost. moto records the calls and runs
 * nothing; for each call that starts or stops Ghost's task, snapshots its database or restores
 * one, this does it on the test bed's site (Ghost on MariaDB), in the order the calls were sent,
 * and tells the extended moto what the service's tasks did, as ECS would: running once Ghost
 * answers, none once it has stopped, the rollout FAILED when the release exits while booting (the
 * circuit breaker). Every cluster, a restored one included, is the site's one MariaDB database.
 */
export class MotoRunsGhost {
  /** What was done, in order (`stop <version>`, `snapshot <id>`, `start <version> failed: …`). */
  readonly log: string[] = [];
  #queue: Promise<void> = Promise.resolve();
  #running: string | undefined;
  readonly #points = new Map<string, BackupPoint>();
  readonly #options: MotoRunsGhostOptions;
  readonly #ecs: ECSClient;

  private constructor(options: MotoRunsGhostOptions) {
    this.#options = options;
    this.#running = options.running;
    this.#ecs = new ECSClient({ region: options.region });
  }

  /** Takes over the service: from now on its tasks run only as reported here. */
  static async start(options: MotoRunsGhostOptions): Promise<MotoRunsGhost> {
    const runner = new MotoRunsGhost(options);
    await runner.#report(1, 'COMPLETED');
    return runner;
  }

  /** The release that runs, undefined while none does. */
  get running(): string | undefined {
    return this.#running;
  }

  /** Sees each call before it is sent (AwsClients' onCall). */
  readonly observe = (call: AwsCall): void => {
    switch (call.operation) {
      case 'ecs:UpdateService': {
        const { desiredCount, taskDefinition } = call.input;
        if (desiredCount === 0) this.#enqueue(() => this.#stop());
        if (desiredCount === 1) this.#enqueue(() => this.#start(taskDefinition));
        return;
      }
      case 'rds:CreateDBClusterSnapshot': {
        const id = call.input.DBClusterSnapshotIdentifier ?? '';
        this.#enqueue(async () => {
          this.#points.set(id, await this.#options.site.backup(id, this.#running ?? 'none'));
          this.log.push(`snapshot ${id}`);
        });
        return;
      }
      case 'rds:RestoreDBClusterFromSnapshot': {
        const id = call.input.SnapshotIdentifier ?? '';
        this.#enqueue(async () => {
          const point = this.#points.get(id);
          if (!point) throw new Error(`no snapshot ${id} was taken here`);
          await this.#options.site.restore(point);
          this.log.push(`restore ${id}`);
        });
        return;
      }
      default:
        return;
    }
  };

  /** Resolves once everything asked so far is done. */
  settled(): Promise<void> {
    return this.#queue;
  }

  close(): void {
    this.#ecs.destroy();
  }

  #enqueue(work: () => Promise<void>): void {
    this.#queue = this.#queue.then(work).catch((error: unknown) => {
      this.log.push(`failed: ${(error as Error).message.split('\n')[0]}`);
    });
  }

  async #stop(): Promise<void> {
    if (this.#running !== undefined) {
      await this.#options.site.stopGhost();
      this.log.push(`stop ${this.#running}`);
      this.#running = undefined;
    }
    await this.#report(0, 'COMPLETED');
    await this.#options.whileStopped?.();
  }

  async #start(taskDefinition: string | undefined): Promise<void> {
    const version = await this.#versionOf(taskDefinition);
    if (this.#running === version) return this.#report(1, 'COMPLETED');
    if (this.#running !== undefined) await this.#stop();
    try {
      await this.#options.site.startGhost(version, this.#options.bootTimeoutMs);
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? '';
      this.log.push(`start ${version} failed: ${reason}`);
      return this.#report(0, 'FAILED', `tasks failed to start: Ghost ${version} exited (${reason})`);
    }
    this.#running = version;
    this.log.push(`start ${version}`);
    await this.#report(1, 'COMPLETED');
  }

  /** The Ghost release of a task definition (the service's current one when none is named). */
  async #versionOf(taskDefinition: string | undefined): Promise<string> {
    const { cluster, service } = this.#options;
    const named =
      taskDefinition ??
      (await this.#ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))).services?.[0]
        ?.taskDefinition;
    const { taskDefinition: definition } = await this.#ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: named }),
    );
    const image = definition?.containerDefinitions?.find((c) => c.name === 'ghost')?.image ?? '';
    const version = GHOST_IMAGE.exec(image)?.[1];
    if (!version) throw new Error(`task definition ${named} runs no Ghost release this test bed has (${image})`);
    return version;
  }

  #report(running: number, rolloutState: 'COMPLETED' | 'FAILED', reason?: string): Promise<void> {
    const { moto, region, cluster, service } = this.#options;
    return moto.reportServiceTasks(region, cluster, service, {
      running,
      rolloutState,
      ...(reason ? { reason } : {}),
    });
  }
}
