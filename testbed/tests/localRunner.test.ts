// @module-tag ghost
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/tools.js';
import { waitFor } from '../src/waitFor.js';

/** Every process below `root` (children, theirs, ...), from /proc. */
function descendantsOf(root: number): Map<number, string> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      // The command name is in parentheses and may hold spaces; the parent pid follows it.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), pid]);
    } catch {
      // Gone while listing.
    }
  }
  const found = new Map<number, string>();
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.set(child, commandLine(child));
      visit(child);
    }
  };
  visit(root);
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 1000);
  } catch {
    return '(gone)';
  }
}

/** Alive and not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('npm run local', () => {
  let runner: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    // Only if an assertion failed before the runner stopped: stop it as a person would, so it still
    // removes what it started; SIGKILL only if that does not end it.
    const running = runner;
    if (running?.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 60_000))]);
    if (running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  }, 90_000);

  it('stops every process it started, and removes its data, on SIGTERM', async () => {
    runner = spawn('npm', ['run', 'local'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = runner;
    const exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    started.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(async () => (output.includes('Press Ctrl-C to stop') ? true : undefined), {
      what: 'npm run local to print its URLs',
      timeoutMs: 360_000,
      intervalMs: 500,
      abortIf: () => (started.exitCode === null ? undefined : `npm run local exited:\n${output}`),
    });
    const ghostUrl = /Ghost site\s+(\S+)/.exec(output)?.[1] ?? '';
    const [, dataDir = ''] = /Data lives under (\S+) and is removed/.exec(output) ?? [];
    expect(dataDir).not.toBe('');
    expect((await fetch(ghostUrl)).ok).toBe(true);
    // moto, MariaDB, Ghost and both services, each with the watchdog the test bed gives it. On a
    // loaded machine the service model may be replacing a task just then: wait for all of them.
    const parts = ['moto_server', 'mariadbd', 'current/index.js', 'health-sidecar', 'cache-invalidator'];
    let processes = descendantsOf(started.pid ?? 0);
    await waitFor(
      async () => {
        processes = descendantsOf(started.pid ?? 0);
        const commands = [...processes.values()].join('\n');
        return parts.every((part) => commands.includes(part)) ? true : undefined;
      },
      { what: `every part of npm run local to run (${parts.join(', ')})`, timeoutMs: 60_000, intervalMs: 500 },
    );

    started.kill('SIGTERM');
    await exited;
    // The services' graceful stop (10 s grace), then Ghost, MariaDB and moto one after another, and
    // each watchdog's next poll: more than 15 s on a loaded two-core machine.
    await waitFor(async () => ([...processes.keys()].some(isRunning) ? undefined : true), {
      what: 'every process npm run local started to end',
      timeoutMs: 60_000,
      intervalMs: 250,
    }).catch(() => undefined);
    const survivors = [...processes].filter(([pid]) => isRunning(pid)).map(([pid, command]) => `${pid} ${command}`);
    expect(survivors).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
    await expect(fetch(ghostUrl)).rejects.toThrow();
  }, 420_000);
});
