import { parse as parseYaml } from 'yaml';

/** Largest redirects download read from Ghost. */
export const MAX_REDIRECTS_DOWNLOAD_BYTES = 1024 * 1024;
/** Most rules the mirror keeps (the edge function reads at most 2,000 per status). */
export const MAX_REDIRECT_RULES = 2000;
/** Largest table written (the edge function ignores a file of 900,000 characters or more). */
export const MAX_EDGE_REDIRECTS_BYTES = 800_000;
const MAX_RULE_CHARACTERS = 2000;

/** What the edge's page function reads at `/.ghost-redirects.json`: status → regular expression → target. */
export interface EdgeRedirects {
  '301': Record<string, string>;
  '302': Record<string, string>;
}

/** Ghost's redirects could not be turned into the edge's table: nothing is written, the mirror's copy stays. */
export class RedirectsShapeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedirectsShapeError';
  }
}

interface GhostRedirect {
  from: string;
  to: string;
  permanent: boolean;
}

/**
 * Ghost's redirects as its Admin API downloads them (Ghost 6: YAML `301:`/`302:` mappings; Ghost 5:
 * the file as uploaded, a JSON array of `{ from, to, permanent }` or that YAML) → the edge's table.
 * Each `from` becomes the expression Ghost itself matches (its DynamicRedirectManager: a `from` that
 * is not an expression is URI-encoded, `/…/i` means case-insensitive, a trailing `/` is dropped and
 * `/?$` appended unless it ends in `$`). The edge sees lower-case paths only (its viewer function
 * redirects the rest first), so a case-insensitive rule is lower-cased; one whose escapes make that
 * unsafe (`\D`, `\uABCD`) is left out and named in `skipped`. Refuses (RedirectsShapeError) anything
 * else, more than MAX_REDIRECT_RULES rules, or a table over MAX_EDGE_REDIRECTS_BYTES.
 */
export function edgeRedirectsOf(text: string): { table: EdgeRedirects; rules: number; skipped: string[] } {
  const rules = ghostRules(parsed(text));
  if (rules.length > MAX_REDIRECT_RULES) {
    throw new RedirectsShapeError(`${rules.length} redirects, more than the ${MAX_REDIRECT_RULES} the edge reads`);
  }
  const table: EdgeRedirects = { '301': {}, '302': {} };
  const skipped: string[] = [];
  let count = 0;
  for (const rule of rules) {
    const pattern = edgePattern(rule.from);
    if (pattern === undefined) {
      skipped.push(rule.from);
      continue;
    }
    const section = table[rule.permanent ? '301' : '302'];
    // Ghost answers the first rule that matches: a later duplicate never applies.
    if (Object.hasOwn(section, pattern) || Object.hasOwn(table[rule.permanent ? '302' : '301'], pattern)) continue;
    section[pattern] = rule.to;
    count++;
  }
  const bytes = Buffer.byteLength(JSON.stringify(table));
  if (bytes > MAX_EDGE_REDIRECTS_BYTES) {
    throw new RedirectsShapeError(
      `the redirects take ${bytes} bytes, more than the ${MAX_EDGE_REDIRECTS_BYTES} the edge reads`,
    );
  }
  return { table, rules: count, skipped };
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    try {
      return parseYaml(text, { maxAliasCount: 0 });
    } catch (error) {
      throw new RedirectsShapeError('the redirects are neither JSON nor YAML', { cause: error });
    }
  }
}

function ghostRules(value: unknown): GhostRedirect[] {
  const rules: GhostRedirect[] = [];
  const take = (from: unknown, to: unknown, permanent: boolean) => {
    if (typeof from !== 'string' || typeof to !== 'string' || from.trim() === '' || to.trim() === '') {
      throw new RedirectsShapeError('a redirect lacks a non-empty string from or to');
    }
    if (from.length > MAX_RULE_CHARACTERS || to.length > MAX_RULE_CHARACTERS) {
      throw new RedirectsShapeError(`a redirect is longer than ${MAX_RULE_CHARACTERS} characters`);
    }
    if (rules.length >= MAX_REDIRECT_RULES) {
      throw new RedirectsShapeError(`more than the ${MAX_REDIRECT_RULES} redirects the edge reads`);
    }
    rules.push({ from, to, permanent });
  };
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (typeof entry !== 'object' || entry === null) throw new RedirectsShapeError('a redirect is not an object');
      const { from, to, permanent } = entry as Record<string, unknown>;
      take(from, to, permanent === true);
    }
    return rules;
  }
  if (value === null || value === undefined) return rules;
  if (typeof value !== 'object') throw new RedirectsShapeError('the redirects are not a list or a 301/302 mapping');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== '301' && key !== '302') throw new RedirectsShapeError(`unknown section '${key.slice(0, 20)}'`);
  }
  // Ghost reads the 302 section before the 301 section.
  for (const status of ['302', '301'] as const) {
    const section = record[status];
    if (section === undefined || section === null) continue;
    if (typeof section !== 'object' || Array.isArray(section)) {
      throw new RedirectsShapeError(`section ${status} is not a mapping`);
    }
    for (const [from, to] of Object.entries(section)) take(from, to, status === '301');
  }
  return rules;
}

/** The expression Ghost builds for a `from`, as the edge (lower-case paths, no flags) can apply it. */
function edgePattern(from: string): string | undefined {
  let source = from;
  try {
    new RegExp(source);
  } catch {
    source = encodeURI(source);
  }
  let insensitive = false;
  if (source.startsWith('/') && source.endsWith('/i')) {
    source = source.slice(1, -2);
    insensitive = true;
  }
  if (source.endsWith('/')) source = source.slice(0, -1);
  if (!source.endsWith('$')) source += '/?$';
  if (insensitive && /[A-Z]/.test(source)) {
    if (/\\[A-Za-z]/.test(source)) return undefined;
    source = source.toLowerCase();
  }
  try {
    new RegExp(source);
  } catch {
    return undefined;
  }
  return source;
}
