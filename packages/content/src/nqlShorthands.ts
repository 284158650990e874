import { InvalidEventError } from './errors.js';

/**
 * The event's `tag` / `author` shorthands as NQL: a slug or a list of slugs becomes `tag:[a,b]`,
 * combined with any `filter` by `+` (and). Slugs are quoted, so a slug can never widen the filter.
 */
export function nqlShorthands(fields: { filter?: string; tag?: unknown; author?: unknown }): string | undefined {
  const parts: string[] = [];
  if (fields.filter !== undefined) parts.push(`(${fields.filter})`);
  for (const key of ['tag', 'author'] as const) {
    const value = fields[key];
    if (value === undefined) continue;
    const slugs = Array.isArray(value) ? value : [value];
    if (slugs.length === 0 || slugs.some((slug) => typeof slug !== 'string' || slug.trim() === '')) {
      throw new InvalidEventError(
        `'${key}' must be a ${key} slug or a list of slugs, e.g. "old-news" or ["old-news", "archive"].`,
      );
    }
    const quoted = (slugs as string[]).map((slug) => quoteNql(slug.trim()));
    parts.push(quoted.length === 1 ? `${key}:${quoted[0]}` : `${key}:[${quoted.join(',')}]`);
  }
  if (parts.length === 0) return undefined;
  // A lone filter stays as written.
  if (parts.length === 1 && fields.filter !== undefined) return fields.filter;
  return parts.join('+');
}

/** NQL string literal: single quotes, with quotes and backslashes escaped. */
export function quoteNql(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
