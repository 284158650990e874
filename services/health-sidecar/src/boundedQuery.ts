import type { Connection } from 'mysql2/promise';
import { QueryTimeoutError } from './errors.js';

export interface QueryBounds {
  /** The query fails with `QueryTimeoutError` after this long. */
  timeoutMs: number;
  /** Aborting ends the query the same way as the timeout. */
  signal?: AbortSignal;
}

/**
 * Runs one query that settles within `timeoutMs` whatever the server does. On timeout or abort the
 * connection's socket is destroyed outright: mysql2's own `destroy()` ends the socket politely and
 * leaves a query already sent unsettled for ever when the server hangs; a destroyed stream fails it.
 */
export async function boundedQuery<T>(
  connection: Connection,
  sql: string,
  values: unknown[],
  bounds: QueryBounds,
): Promise<T> {
  const { timeoutMs, signal } = bounds;
  if (signal?.aborted) {
    destroyConnection(connection);
    throw signal.reason;
  }
  const query = connection.query(sql, values).then(([rows]) => rows as T);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<never>((_, reject) => {
    const end = (error: unknown) => {
      destroyConnection(connection);
      reject(error);
    };
    timer = setTimeout(() => end(new QueryTimeoutError(describe(sql), timeoutMs)), timeoutMs);
    onAbort = () => end(signal?.reason ?? new QueryTimeoutError(describe(sql), timeoutMs));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  // The losing side of the race must not surface as an unhandled rejection.
  query.catch(() => undefined);
  try {
    return await Promise.race([query, cut]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** Ends a connection at once: the socket first (so waiting queries fail), then mysql2's own state. */
export function destroyConnection(connection: Connection): void {
  // mysql2/promise keeps the callback connection as `.connection`; its `stream` is the socket.
  const core = (connection as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection;
  core?.stream?.destroy?.();
  connection.destroy();
}

/** The statement's first words, for the error message (never its values). */
function describe(sql: string): string {
  return `query '${sql.split(/\s+/).slice(0, 4).join(' ')}…'`;
}

/**
 * A connection being opened, given up when `signal` aborts (a check's round is over); one that
 * arrives after that is destroyed rather than leaked.
 */
export async function openUntilAborted(opening: Promise<Connection>, signal: AbortSignal): Promise<Connection> {
  if (signal.aborted) {
    void opening.then(destroyConnection, () => undefined);
    throw signal.reason;
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      void opening.then(destroyConnection, () => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([opening, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
