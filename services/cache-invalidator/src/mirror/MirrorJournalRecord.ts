/** One refresh of the mirror: the paths of an invalidation batch, or everything (a full build). */
export interface RefreshJob {
  /** The batch id (its CallerReference) for a batch, `build-<time>` for a full build. */
  id: string;
  /** When the change the job reflects happened (the batch's first event), for the freshness metric. */
  changedAt: number;
  /** Viewer paths; a trailing `*` covers what the mirror holds under it and what listings lead to. */
  paths: string[];
  /** Crawl the whole site from its sitemaps, and re-check everything the mirror holds. */
  everything: boolean;
  /** `retry`: the parked paths, tried again; `recheck`: a batch's paths Ghost answered 404 for, fetched once more. */
  source: 'batch' | 'build' | 'retry' | 'recheck';
}

export type MirrorJournalRecord =
  | ({ type: 'job' } & RefreshJob)
  /** `path` is in the mirror as Ghost serves it now (or removed); `found` are the paths it led to. */
  | { type: 'done'; jobId: string; path: string; found: string[] }
  | { type: 'finished'; jobId: string; at: number }
  /** A path that kept failing while the site answered: set aside, tried again later. */
  | { type: 'parked'; path: string; since: number; reason: string }
  | { type: 'unparked'; path: string };
