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
  // Over a limit: fold the fullest directory into one wildcard (e.g. twelve tag archives into
  // `/tag/*`) before giving up on targeting and purging everything.
  while (overLimits(paths, limits)) {
    const fullest = crowdedDirectory(paths, root, 2);
    if (fullest === undefined) return [limits.everything];
    paths = withoutCovered(new Set([...paths, `${fullest}*`]));
  }
  return paths;
}

function overLimits(paths: readonly string[], limits: CompactionLimits): boolean {
  const wildcards = paths.filter((path) => path.endsWith('*')).length;
  return paths.length > limits.maxPaths || wildcards > limits.maxWildcards;
}

/** Sorted, without any path that a wildcard in the set already covers. */
function withoutCovered(paths: Set<string>): string[] {
  const prefixes = [...paths].filter((path) => path.endsWith('*')).map((path) => path.slice(0, -1));
  return [...paths]
    .filter((path) => !prefixes.some((prefix) => path !== `${prefix}*` && path.startsWith(prefix)))
    .sort();
}

/** The directory (below the site root) holding the most paths, at least `threshold`; the deepest on a tie. */
function crowdedDirectory(paths: readonly string[], root: string, threshold: number): string | undefined {
  const counts = new Map<string, number>();
  for (const path of paths) {
    const directory = parentDirectory(path);
    if (directory === undefined || directory.length <= root.length) continue;
    counts.set(directory, (counts.get(directory) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [directory, count] of counts) {
    const bestCount = best === undefined ? 0 : (counts.get(best) ?? 0);
    if (count >= threshold && (count > bestCount || (count === bestCount && directory.length > (best?.length ?? 0)))) {
      best = directory;
    }
  }
  return best;
}

/** `/tag/news/*` → `/tag/`, `/a/b/` → `/a/`, `/a/b.xml` → `/a/`, `/` → undefined. */
function parentDirectory(path: string): string | undefined {
  const trimmed = path.endsWith('/*') ? path.slice(0, -2) : path.endsWith('/') ? path.slice(0, -1) : path;
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 || trimmed === '' ? undefined : trimmed.slice(0, slash + 1);
}
