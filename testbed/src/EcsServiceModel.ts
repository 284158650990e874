import { EcsTaskModel, type EcsTaskModelOptions } from './EcsTaskModel.js';

export interface EcsServiceModelOptions extends Omit<EcsTaskModelOptions, 'name' | 'onChange'> {
  /** Tasks the service keeps running. */
  desiredCount: number;
  name?: string;
  /** How often the scheduler looks at its tasks; ECS's reaction time is of the order of seconds. */
  reconcileIntervalMs?: number;
}

export interface ServiceEvent {
  at: number;
  message: string;
}

/**
 * An ECS service's scheduler over EcsTaskModel tasks: it keeps `desiredCount` tasks PENDING or
 * RUNNING, starts a replacement as soon as one stops or starts stopping (a task in STOPPING does
 * not count, which is how ECS can overlap an old and a new task), and stops a task whose essential
 * container turned UNHEALTHY. Nothing else: no load balancer, no deployments of new revisions
 * (`startTask` and `EcsTaskModel.stop` play those).
 */
export class EcsServiceModel {
  readonly tasks: EcsTaskModel[] = [];
  readonly events: ServiceEvent[] = [];
  desiredCount: number;
  readonly #options: EcsServiceModelOptions;
  #timer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #counter = 0;
  #closed = false;

  private constructor(options: EcsServiceModelOptions) {
    this.#options = options;
    this.desiredCount = options.desiredCount;
  }

  /** Starts the service's first tasks (resolves once they run) and its scheduler. */
  static async start(options: EcsServiceModelOptions): Promise<EcsServiceModel> {
    const service = new EcsServiceModel(options);
    await service.#reconcile();
    service.#timer = setInterval(() => {
      service.#reconciling ??= service.#reconcile().finally(() => {
        service.#reconciling = undefined;
      });
    }, options.reconcileIntervalMs ?? 1_000);
    return service;
  }

  /** Tasks PENDING or RUNNING (the ones counted against the desired count). */
  get active(): EcsTaskModel[] {
    return this.tasks.filter((task) => task.status === 'PENDING' || task.status === 'RUNNING');
  }

  /** Tasks not yet STOPPED (STOPPING ones included: their containers may still run). */
  get live(): EcsTaskModel[] {
    return this.tasks.filter((task) => task.status !== 'STOPPED');
  }

  /** Starts one more task outside the desired count, as a deployment's new task. */
  async startTask(): Promise<EcsTaskModel> {
    const task = await EcsTaskModel.start({
      ...this.#options,
      name: `${this.#options.name ?? 'task'}${++this.#counter}`,
    });
    this.tasks.push(task);
    this.#event(`started task ${task.id}`);
    return task;
  }

  /** Stops the scheduler and every task, and removes the tasks' directories. */
  async destroy(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#reconciling;
    await Promise.all(this.tasks.map((task) => task.destroy()));
  }

  async #reconcile(): Promise<void> {
    for (const task of this.active) {
      if (task.unhealthy) {
        this.#event(`task ${task.id} failed container health checks; stopping it`);
        void task.stop('Task failed container health checks');
      }
    }
    for (const task of this.tasks) {
      if (task.status !== 'RUNNING' && task.stoppedReason && !this.#reported.has(task)) {
        this.#reported.add(task);
        this.#event(`task ${task.id} stopping: ${task.stoppedReason}`);
      }
    }
    while (!this.#closed && this.active.length < this.desiredCount) {
      await this.startTask();
    }
  }

  readonly #reported = new Set<EcsTaskModel>();

  #event(message: string): void {
    this.events.push({ at: Date.now(), message });
  }
}
