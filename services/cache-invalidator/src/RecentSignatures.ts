/** Far above what one Ghost sends in a signature window (33 deliveries a second for 300 s). */
export const DEFAULT_REPLAY_MEMORY = 10_000;

export interface RecentSignaturesOptions {
  /** How far a signed timestamp may be from now (the signature window): older ones are refused as stale anyway. */
  toleranceMs: number;
  /** At most this many signatures are remembered; past it the one signed earliest is forgotten first. */
  maxEntries: number;
}

/**
 * The signatures of deliveries seen within the signature window, so that a captured delivery sent
 * again before its timestamp goes stale is refused. Ghost signs every delivery afresh (its
 * timestamp is part of the HMAC), so a signature seen twice is a replay, never a new event.
 *
 * Memory is bounded twice: a signature is dropped once its timestamp is outside the window (the
 * signature check refuses it by then), and at most `maxEntries` are kept. Only deliveries with a
 * valid signature are remembered, so only the holder of the secret (Ghost) can fill it.
 */
export class RecentSignatures {
  readonly #options: RecentSignaturesOptions;
  /** Signature hex → signed timestamp (ms), in the order claimed. */
  readonly #seen = new Map<string, number>();

  constructor(options: RecentSignaturesOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#seen.size;
  }

  /**
   * Records `signature` (signed at `timestampMs`) as received; false when it already was (a replay).
   * Call `release` when the delivery is not accepted after all, so that a retry of it is judged afresh.
   */
  claim(signature: string, timestampMs: number, nowMs: number): boolean {
    this.#forgetExpired(nowMs);
    if (this.#seen.has(signature)) return false;
    while (this.#seen.size >= this.#options.maxEntries) this.#forgetEarliest();
    this.#seen.set(signature, timestampMs);
    return true;
  }

  /**
   * Remembers a signature claimed before a restart, unless its timestamp is already outside the
   * window at `nowMs`; the same bound on count applies as to `claim`.
   */
  restore(signature: string, timestampMs: number, nowMs: number): void {
    if (nowMs - timestampMs > this.#options.toleranceMs) return;
    this.#seen.delete(signature);
    this.claim(signature, timestampMs, nowMs);
  }

  release(signature: string): void {
    this.#seen.delete(signature);
  }

  /** Those still within the window at `nowMs`, in the order claimed (what a restart must remember). */
  live(nowMs: number): [signature: string, timestampMs: number][] {
    this.#forgetExpired(nowMs);
    return [...this.#seen];
  }

  /** Claim order is close to timestamp order (each delivery is signed just before it is sent): stop at the first one still inside. */
  #forgetExpired(nowMs: number): void {
    for (const [signature, timestampMs] of this.#seen) {
      if (nowMs - timestampMs <= this.#options.toleranceMs) break;
      this.#seen.delete(signature);
    }
  }

  #forgetEarliest(): void {
    let earliest: [string, number] | undefined;
    for (const entry of this.#seen) {
      if (earliest === undefined || entry[1] < earliest[1]) earliest = entry;
    }
    if (earliest) this.#seen.delete(earliest[0]);
  }
}
