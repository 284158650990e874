/** A reader's requests while a benchmark runs: latency of each answer, and how many were not 200. */
export interface Probe {
  latencies: number[];
  failures: number;
}

/** Reads `paths` in turn from `siteUrl` for `ms`, pausing `everyMs` between requests. */
export async function probeFor(siteUrl: string, paths: string[], ms: number, everyMs: number): Promise<Probe> {
  const probe: Probe = { latencies: [], failures: 0 };
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    await probeOnce(siteUrl, paths[i % paths.length] ?? '/', probe);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return probe;
}

/** One read, recorded in `probe` (a timeout or an error counts as a failure with its time). */
export async function probeOnce(siteUrl: string, path: string, probe: Probe): Promise<void> {
  const started = performance.now();
  try {
    const response = await fetch(`${siteUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    if (response.status !== 200) probe.failures++;
  } catch {
    probe.failures++;
  }
  probe.latencies.push(performance.now() - started);
}
