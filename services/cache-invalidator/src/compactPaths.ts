export interface CompactionLimits {
  /** `/*` or `/blog/*`: what the batch becomes when it is too large. */
  everything: string;
  /** This many paths under one directory (other than the site root) become `<directory>*`. */
  wildcardThreshold: number;
  /** A batch with more paths than this becomes `everything`. */
  maxPaths: number;
  /** A batch with more wildcard paths than this becomes `everything` (CloudFront allows 15 in progress). */
  maxWildcards: number;
}

/**
 * Turns the paths of a batch into the fewest CloudFront paths that still cover them: duplicates
 * and paths under a wildcard go, crowded directories become one wildcard, and a batch past the
 * limits becomes a purge of everything (billed as one path).
 */
export function compactPaths(input: Iterable<string>, limits: CompactionLimits): string[] {
  let paths = withoutCovered(new Set(input));
  if (paths.includes(limits.everything)) return [limits.everything];
  const root = limits.everything.slice(0, -1);
  for (;;) {
    const crowded = crowdedDirectory(paths, root, limits.wildcardThreshold);
    if (crowded === undefined) break;
    paths = withoutCovered(new Set([...paths, `${crowded}*`]));
  }
  const wildcards = paths.filter((path) => path.endsWith('*')).length;
  if (paths.length > limits.maxPaths || wildcards > limits.maxWildcards) return [limits.everything];
  return paths;
}

/** Sorted, without any path that a wildcard in the set already covers. */
function withoutCovered(paths: Set<string>): string[] {
  const prefixes = [...paths].filter((path) => path.endsWith('*')).map((path) => path.slice(0, -1));
  return [...paths]
    .filter((path) => !prefixes.some((prefix) => path !== `${prefix}*` && path.startsWith(prefix)))
    .sort();
}

/** The deepest directory (below the site root) holding at least `threshold` paths, if any. */
function crowdedDirectory(paths: readonly string[], root: string, threshold: number): string | undefined {
  const counts = new Map<string, number>();
  for (const path of paths) {
    const directory = parentDirectory(path);
    if (directory === undefined || directory.length <= root.length) continue;
    counts.set(directory, (counts.get(directory) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [directory, count] of counts) {
    if (count >= threshold && (best === undefined || directory.length > best.length)) best = directory;
  }
  return best;
}

/** `/tag/news/*` → `/tag/`, `/a/b/` → `/a/`, `/a/b.xml` → `/a/`, `/` → undefined. */
function parentDirectory(path: string): string | undefined {
  const trimmed = path.endsWith('/*') ? path.slice(0, -2) : path.endsWith('/') ? path.slice(0, -1) : path;
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 || trimmed === '' ? undefined : trimmed.slice(0, slash + 1);
}
