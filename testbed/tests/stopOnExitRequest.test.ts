// @module-tag integration
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTemporaryDirectory } from '../src/temporaryDirectories.js';
import { REPO_ROOT } from '../src/tools.js';
import { waitFor } from '../src/waitFor.js';

const PROBE = join(REPO_ROOT, 'testbed', 'tests', 'fixtures', 'exitRequestProbe.ts');
const started: ChildProcess[] = [];
const probes: number[] = [];

afterEach(() => {
  for (const pid of probes.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npm run local`'s chain: npm (here a bash) → `sh -c` → the runner. The trailing `:` keeps each shell
 * from exec-ing its command, so, as with npm's shell, the middle one outlives a killed top.
 */
async function startChain(record: string) {
  const runner = `'${process.execPath}' --conditions=source --import tsx '${PROBE}' '${record}'`;
  const top = spawn('bash', ['-c', `sh -c "${runner}; :"; :`], { cwd: REPO_ROOT, stdio: 'ignore' });
  started.push(top);
  const probePid = await waitFor(
    async () => (existsSync(`${record}.started`) ? Number(readFileSync(`${record}.started`, 'utf8')) : undefined),
    { what: 'the runner to start', timeoutMs: 15_000, intervalMs: 50 },
  );
  probes.push(probePid);
  return { top, probePid };
}

describe('stopOnExitRequest', () => {
  it('stops when a process that started it is killed, though its own parent shell lives on', async () => {
    const record = join(await makeTemporaryDirectory('exit-request-'), 'request');
    const { top, probePid } = await startChain(record);
    // Polled every 50 ms: a healthy chain asks nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(record)).toBe(false);

    top.kill('SIGKILL');
    await waitFor(async () => (existsSync(record) ? true : undefined), {
      what: 'the runner to notice',
      timeoutMs: 3_000,
      intervalMs: 20,
    });
    expect(readFileSync(record, 'utf8')).toBe('parent gone');
    await waitFor(async () => (isRunning(probePid) ? undefined : true), {
      what: 'the runner to exit',
      timeoutMs: 3_000,
      intervalMs: 20,
    });
  });

  it('stops on SIGTERM with the signal as the reason', async () => {
    const record = join(await makeTemporaryDirectory('exit-request-'), 'request');
    const { probePid } = await startChain(record);
    process.kill(probePid, 'SIGTERM');
    await waitFor(async () => (existsSync(record) ? true : undefined), {
      what: 'the runner to stop',
      timeoutMs: 3_000,
      intervalMs: 20,
    });
    expect(readFileSync(record, 'utf8')).toBe('SIGTERM');
  });
});
