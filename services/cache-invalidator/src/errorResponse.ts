import { type Logger, summarizeError } from '@ghost-ha/core';
import { JournalWriteError, RequestRejectedError } from './errors.js';
import { INVALIDATOR_LOG } from './signals.js';

export interface ErrorResponse {
  status: number;
  body: { error: string; message: string };
}

/** The answer for a failed request: a clear 4xx for bad input, 503 when nothing could be stored; never 410, never a stack. */
export function errorResponse(
  error: unknown,
  context: { path: string; maxBodyBytes: number; log: Logger },
): ErrorResponse {
  const { path, log } = context;
  if (error instanceof RequestRejectedError) {
    log.warn({ path, reason: error.reason, status: error.status }, error.message);
    return { status: error.status, body: { error: error.reason, message: error.message } };
  }
  const parserType = (error as { type?: unknown } | undefined)?.type;
  if (parserType === 'entity.too.large') {
    log.warn({ path }, INVALIDATOR_LOG.bodyTooLarge);
    return {
      status: 413,
      body: { error: 'too_large', message: `the body is larger than ${context.maxBodyBytes} bytes` },
    };
  }
  if (typeof parserType === 'string' && (error as { status?: number }).status === 400) {
    return { status: 400, body: { error: 'bad_body', message: 'the body could not be read as JSON' } };
  }
  if (error instanceof JournalWriteError) {
    log.error({ error: summarizeError(error), path }, INVALIDATOR_LOG.requestNotJournaled);
    return {
      status: 503,
      body: { error: 'journal_unavailable', message: 'the request could not be stored; nothing was accepted' },
    };
  }
  log.error({ error: summarizeError(error), path }, INVALIDATOR_LOG.requestFailed);
  return { status: 500, body: { error: 'internal', message: 'internal error; nothing was accepted' } };
}
