/** One admin request's content change, which explains at most one `site.changed`. */
interface ContentChange {
  key: string;
  /** `unpublished`, `deleted`, both, or '' for other events. */
  action: string;
  firstAt: number;
  lastAt: number;
}

/**
 * Decides which `site.changed` webhooks are echoes. Ghost sends one `site.changed` per admin request
 * that changes the site, and one handled content event per request, except a delete of a published
 * post or page (`unpublished` and `deleted`): those two are one change. Each content change
 * explains the nearest unexplained `site.changed` within the echo window, whichever came first;
 * a `site.changed` nothing explains stands alone (settings, theme, bulk delete).
 * Pairs are made as events arrive, so the bookkeeping stays as small as the unpaired remainder.
 */
export class SiteChangeEchoes {
  readonly #windowMs: number;
  readonly #horizonMs: number;
  #unexplained: ContentChange[] = [];
  readonly #lastByKey = new Map<string, ContentChange>();
  readonly #waiting = new Map<string, number>();
  readonly #echoes = new Set<string>();
  #pruneAt = 256;

  /** `horizonMs`: how long an unexplained change is kept for a late `site.changed`. */
  constructor(windowMs: number, horizonMs: number) {
    this.#windowMs = windowMs;
    this.#horizonMs = horizonMs;
  }

  noteContentChange(key: string, event: string, at: number): void {
    const action = event.endsWith('.deleted') ? 'deleted' : event.endsWith('.unpublished') ? 'unpublished' : '';
    const partner = action === 'deleted' ? 'unpublished' : action === 'unpublished' ? 'deleted' : undefined;
    const last = this.#lastByKey.get(key);
    if (partner && last?.action === partner && Math.abs(at - last.lastAt) <= this.#windowMs) {
      last.action = 'unpublished+deleted';
      last.firstAt = Math.min(last.firstAt, at);
      last.lastAt = Math.max(last.lastAt, at);
      return;
    }
    const change: ContentChange = { key, action, firstAt: at, lastAt: at };
    this.#lastByKey.set(key, change);
    for (const [id, siteChangedAt] of this.#waiting) {
      if (Math.abs(siteChangedAt - at) <= this.#windowMs) {
        this.#waiting.delete(id);
        this.#echoes.add(id);
        this.#prune(at);
        return;
      }
    }
    this.#unexplained.push(change);
    this.#prune(at);
  }

  noteSiteChanged(id: string, at: number): void {
    const index = this.#unexplained.findIndex(
      (change) => at >= change.firstAt - this.#windowMs && at <= change.lastAt + this.#windowMs,
    );
    if (index >= 0) {
      this.#unexplained.splice(index, 1);
      this.#echoes.add(id);
    } else {
      this.#waiting.set(id, at);
    }
  }

  /** When the latest `site.changed` still waiting for its content change arrived, if any. */
  latestWaitingAt(): number | undefined {
    let latest: number | undefined;
    for (const at of this.#waiting.values()) latest = Math.max(latest ?? at, at);
    return latest;
  }

  /** True once for a `site.changed` that a content change explained; forgets it either way. */
  takeIsEcho(id: string): boolean {
    this.#waiting.delete(id);
    return this.#echoes.delete(id);
  }

  /** Drops what can no longer pair; runs when the lists doubled since the last time (amortised O(1)). */
  #prune(now: number): void {
    if (this.#unexplained.length + this.#lastByKey.size <= this.#pruneAt) return;
    this.#unexplained = this.#unexplained.filter((change) => change.lastAt >= now - this.#horizonMs);
    for (const [key, change] of this.#lastByKey) {
      if (change.lastAt < now - this.#windowMs) this.#lastByKey.delete(key);
    }
    this.#pruneAt = Math.max(256, 2 * (this.#unexplained.length + this.#lastByKey.size));
  }
}
