import { EcsTaskModel, type EcsTaskModelOptions } from './EcsTaskModel.js';
import type { ServiceDefinition } from './ServiceDefinition.js';
import { TargetHealth } from './TargetHealth.js';

export interface EcsServiceModelOptions extends Omit<EcsTaskModelOptions, 'name' | 'onChange'> {
  /** Tasks the service keeps running. */
  desiredCount: number;
  /** The service's health settings from the template (grace period, load balancer target health). */
  service?: ServiceDefinition;
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
 * not count, which is how ECS can overlap an old and a new task), and, once a task is past the
 * health check grace period, stops it when an essential container turned UNHEALTHY or its load
 * balancer target turned unhealthy (the target group's health check, run here against the task
 * from the moment it is RUNNING, i.e. every container started).
 * Nothing else: no deployments of new revisions (`startTask` and `EcsTaskModel.stop` play those).
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

  /** The load balancer's view of a task's target, if the service has a load balancer. */
  targetHealth(task: EcsTaskModel): TargetHealth | undefined {
    return this.#targets.get(task);
  }

  /** Stops the scheduler and every task, and removes the tasks' directories. */
  async destroy(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#reconciling;
    for (const target of this.#targets.values()) target.stop();
    await Promise.all(this.tasks.map((task) => task.destroy()));
  }

  async #reconcile(): Promise<void> {
    const graceMs = (this.#options.service?.healthCheckGracePeriodSeconds ?? 0) * 1000;
    const target = this.#options.service?.loadBalancer;
    for (const task of this.active) {
      // Registered with the target group once RUNNING (every container started).
      if (target && task.status === 'RUNNING' && !this.#targets.has(task)) {
        this.#targets.set(task, new TargetHealth(target.healthCheck, task.url(target.healthCheck.port)));
      }
      if (Date.now() - (task.runningAt ?? task.createdAt) < graceMs) continue;
      if (task.unhealthy) {
        this.#event(`task ${task.id} failed container health checks; stopping it`);
        void task.stop('Task failed container health checks');
      } else if (this.#targets.get(task)?.state === 'unhealthy') {
        this.#event(`task ${task.id} failed ELB health checks; stopping it`);
        void task.stop('Task failed ELB health checks');
      }
    }
    for (const [task, target] of this.#targets) {
      if (task.status === 'STOPPING' || task.status === 'STOPPED') {
        target.stop();
        this.#targets.delete(task);
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
  readonly #targets = new Map<EcsTaskModel, TargetHealth>();

  #event(message: string): void {
    this.events.push({ at: Date.now(), message });
  }
}
