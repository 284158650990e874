import { InvalidEventError } from './errors.js';

/**
 * The invocation event as a record of known keys. Unknown keys are rejected, so that a typo
 * (`confirmsite`) cannot silently change what runs.
 */
export function eventFields(event: unknown, knownKeys: readonly string[], example: string): Record<string, unknown> {
  const body = event ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidEventError(`the event must be a JSON object. ${example}`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !knownKeys.includes(key));
  if (unknown.length > 0) {
    throw new InvalidEventError(
      `unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')}; allowed: ${knownKeys.join(', ')}. ${example}`,
    );
  }
  return fields;
}

/** `dryRun`, true unless the event says `false`. */
export function dryRunField(value: unknown, example: string): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new InvalidEventError(`'dryRun' must be true or false. ${example}`);
  return value;
}

/** `confirmSite` as given, trimmed; undefined when absent. */
export function confirmSiteField(value: unknown, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidEventError(`'confirmSite' must be the site's host, e.g. "blog.example.com". ${example}`);
  }
  return value.trim();
}
