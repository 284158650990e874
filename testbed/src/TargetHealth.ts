import { httpStatus } from './httpStatus.js';
import { matchesStatus, type TargetHealthCheck } from './ServiceDefinition.js';

export type TargetState = 'initial' | 'healthy' | 'unhealthy';

/**
 * One target's health as an Application Load Balancer sees it: a GET every interval (from the start
 * of the previous one, as a load balancer probes on a fixed schedule), failed by a
 * timeout or a status outside the matcher; `healthy` after `healthyThreshold` passes in a row,
 * `unhealthy` after `unhealthyThreshold` failures in a row; `initial` until either.
 */
export class TargetHealth {
  state: TargetState = 'initial';
  lastStatus: number | string = '';
  readonly #check: TargetHealthCheck;
  readonly #url: string;
  #passes = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(check: TargetHealthCheck, baseUrl: string) {
    this.#check = check;
    this.#url = new URL(check.path, baseUrl).toString();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#probe(), this.#check.intervalSeconds * 1000);
  }

  async #probe(): Promise<void> {
    this.#schedule();
    const status = await httpStatus(this.#url, { timeoutMs: this.#check.timeoutSeconds * 1000 });
    this.lastStatus = status;
    const ok = typeof status === 'number' && matchesStatus(this.#check.matcher, status);
    if (this.#stopped) return;
    if (ok) {
      this.#failures = 0;
      this.#passes += 1;
      if (this.#passes >= this.#check.healthyThreshold) this.state = 'healthy';
    } else {
      this.#passes = 0;
      this.#failures += 1;
      if (this.#failures >= this.#check.unhealthyThreshold) this.state = 'unhealthy';
    }
  }
}
