import { type Check, type Observation, summarizeError } from '@ghost-ha/core';

/** What the check needs of the journal: whether its directory takes writes now. */
export interface JournalHealth {
  readonly dir: string;
  health(): Promise<Error | undefined>;
}

/**
 * `journal:writable`: `fail` while the journal's writes fail (and when its directory stopped taking
 * writes before any did), because a webhook is answered 2xx only once journaled.
 */
export class JournalCheck implements Check {
  readonly key = 'journal:writable';
  readonly componentType = 'datastore';
  readonly #journal: JournalHealth;

  constructor(journal: JournalHealth) {
    this.#journal = journal;
  }

  async run(): Promise<Observation> {
    const error = await this.#journal.health();
    if (!error) return { status: 'pass', observedValue: this.#journal.dir };
    const summary = summarizeError(error);
    return { status: 'fail', observedValue: this.#journal.dir, output: `${summary.name}: ${summary.message}` };
  }
}
