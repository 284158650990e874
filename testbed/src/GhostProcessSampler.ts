import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A Ghost process to watch, labelled (e.g. by its task). */
export interface WatchedProcess {
  label: string;
  pid: number;
}

export interface GhostSample {
  at: number;
  /** Ghosts that exist and are not stopped (state not T, not a zombie). */
  alive: string[];
  /** Of those, the ones with an established TCP connection to the database. */
  connected: string[];
}

export interface GhostProcessSamplerOptions {
  /** The Ghost processes that exist now (every one ever started may be listed; gone ones are skipped). */
  processes: () => readonly WatchedProcess[];
  /** The database's TCP port (connections to it count as "connected"). */
  databasePort: number;
  intervalMs?: number;
}

/**
 * Every `intervalMs` (100 ms), records which Ghost processes are alive and connected to the
 * database, from /proc alone, so that it answers while the database or the sidecar hangs:
 * alive = /proc/<pid>/stat exists with the start time first seen (no reused pid) and a state other
 * than stopped (T), zombie or dead; connected = one of the process's socket inodes is an
 * ESTABLISHED TCP connection to the database port in /proc/net/tcp{,6}.
 */
export class GhostProcessSampler {
  readonly samples: GhostSample[] = [];
  readonly #options: GhostProcessSamplerOptions;
  /**
   * The start time first seen per task label and pid. Keyed by both: pids wrap (pid_max can be
   * 32768) and a new Ghost of another task may get a pid an earlier Ghost had; keyed by pid alone
   * it would never count as alive, and an overlap with it would go unseen.
   */
  readonly #startTimes = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: GhostProcessSamplerOptions) {
    this.#options = options;
  }

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#options.intervalMs ?? 100);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Takes one sample now. */
  sample(): GhostSample {
    const databaseSockets = establishedTo(this.#options.databasePort);
    const alive: string[] = [];
    const connected: string[] = [];
    for (const { label, pid } of this.#options.processes()) {
      if (!this.#isAlive(label, pid)) continue;
      alive.push(label);
      if (socketInodes(pid).some((inode) => databaseSockets.has(inode))) connected.push(label);
    }
    const sample = { at: Date.now(), alive, connected };
    this.samples.push(sample);
    return sample;
  }

  /** Samples (from `since`) in which two or more Ghosts were alive and connected to the database. */
  overlaps(since = 0): GhostSample[] {
    return this.samples.filter((sample) => sample.at >= since && sample.connected.length > 1);
  }

  /** Samples (from `since`) in which two or more Ghosts were alive, connected or not. */
  aliveOverlaps(since = 0): GhostSample[] {
    return this.samples.filter((sample) => sample.at >= since && sample.alive.length > 1);
  }

  /** The longest time between two consecutive samples in [from, to] (the sampling's worst blind spot). */
  maxGap(from = 0, to = Number.POSITIVE_INFINITY): number {
    let longest = 0;
    let previous: number | undefined;
    for (const sample of this.samples) {
      if (sample.at < from || sample.at > to) continue;
      if (previous !== undefined) longest = Math.max(longest, sample.at - previous);
      previous = sample.at;
    }
    return longest;
  }

  /**
   * How close each handover (from `since`) came to an overlap: for every Ghost first seen alive
   * then, the time from the last sample in which another Ghost was alive to its first sample
   * (0 or less: they overlapped). Undefined when no Ghost started after another had run.
   */
  smallestMargin(since = 0): number | undefined {
    const firstAlive = new Map<string, number>();
    for (const sample of this.samples)
      for (const label of sample.alive) if (!firstAlive.has(label)) firstAlive.set(label, sample.at);
    let smallest: number | undefined;
    for (const [label, first] of firstAlive) {
      if (first < since) continue;
      let lastOther: number | undefined;
      for (const sample of this.samples) {
        if (sample.at > first) break;
        if (sample.alive.some((other) => other !== label)) lastOther = sample.at;
      }
      if (lastOther === undefined) continue;
      const margin = first - lastOther;
      smallest = smallest === undefined ? margin : Math.min(smallest, margin);
    }
    return smallest;
  }

  #isAlive(label: string, pid: number): boolean {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return false;
    }
    // pid (comm) state ppid ...; comm may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const startTime = fields[19];
    const key = `${label}:${pid}`;
    const known = this.#startTimes.get(key);
    if (known === undefined && startTime) this.#startTimes.set(key, startTime);
    else if (known !== startTime) return false;
    return state !== 'T' && state !== 't' && state !== 'Z' && state !== 'X';
  }
}

function socketInodes(pid: number): string[] {
  const inodes: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1]) inodes.push(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

const ESTABLISHED = '01';

/** Inodes of established TCP connections whose remote port is `port`. */
function establishedTo(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const remote = fields[2];
      if (!remote || fields[3] !== ESTABLISHED) continue;
      if (remote.slice(remote.indexOf(':') + 1) === hexPort && fields[9]) inodes.add(fields[9]);
    }
  }
  return inodes;
}
