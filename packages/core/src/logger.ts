import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line. Pino's redaction works on paths, so the common places
 * a secret can sit are listed: headers of requests and responses, and well-known field names one
 * or two levels deep.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-ghost-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-ghost-signature"]',
  ...['password', 'secret', 'token', 'apiKey', 'adminApiKey', 'adminKey', 'webhookSecret', 'authorization'].flatMap(
    (field) => [field, `*.${field}`, `*.*.${field}`],
  ),
];

export interface LoggerSettings {
  /** The deployable's name, set on every line as `service`. */
  service: string;
  level?: string;
  /** Where lines go; stdout unless given (tests pass a stream to read them back). */
  destination?: DestinationStream;
}

/** The one root logger of a deployable: JSON lines, ISO time, secrets redacted. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: settings.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

export interface ErrorSummary {
  name: string;
  message: string;
  code?: string;
  status?: number;
}

/**
 * What of an error is safe to log. SDK and HTTP client errors carry request objects with headers
 * (tokens, signatures); only the name, message, code and status are kept, and the cause chain is
 * summarised the same way.
 */
export function summarizeError(error: unknown): ErrorSummary & { cause?: ErrorSummary } {
  const summary = summarizeOne(error);
  if (error instanceof Error && error.cause !== undefined) {
    return { ...summary, cause: summarizeOne(error.cause) };
  }
  return summary;
}

/** An error in one line for a health output or a reason: `ER_LOCK_WAIT_TIMEOUT: Lock wait timeout exceeded…`. */
export function errorReason(summary: ErrorSummary): string {
  return `${summary.code ?? summary.name}: ${summary.message}`;
}

function summarizeOne(error: unknown): ErrorSummary {
  if (!(error instanceof Error)) return { name: 'NonError', message: String(error) };
  const summary: ErrorSummary = { name: error.name, message: error.message };
  const record = error as unknown as Record<string, unknown>;
  if (typeof record.code === 'string') summary.code = record.code;
  const metadata = record.$metadata as { httpStatusCode?: unknown } | undefined;
  const status = record.status ?? record.statusCode ?? metadata?.httpStatusCode;
  if (typeof status === 'number') summary.status = status;
  return summary;
}
