/**
 * The day's invalidated paths (what CloudFront bills, summed over distributions; a wildcard is one
 * path) against a daily budget, by UTC day. Over the budget nothing is dropped (a stale page is worse
 * than the bill): the metric and its alarm tell an operator, who finds the cause in the batch log.
 */
export class PathBudget {
  readonly budget: number;
  readonly #now: () => number;
  #day = '';
  #paths = 0;

  constructor(budget: number, now: () => number) {
    this.budget = budget;
    this.#now = now;
  }

  /** Counts accepted paths; true when this call took the day over the budget. */
  record(paths: number): boolean {
    const before = this.pathsToday;
    this.#paths += paths;
    return before <= this.budget && this.#paths > this.budget;
  }

  get pathsToday(): number {
    const day = new Date(this.#now()).toISOString().slice(0, 10);
    if (day !== this.#day) {
      this.#day = day;
      this.#paths = 0;
    }
    return this.#paths;
  }

  get exceeded(): boolean {
    return this.pathsToday > this.budget;
  }
}
