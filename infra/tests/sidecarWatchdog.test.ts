// @module-tag integration
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTemplate } from '../src/parseTemplate.js';

// biome-ignore lint/suspicious/noExplicitAny: container definitions are template JSON.
type Json = any;

const app = loadTemplate('app');
const sidecar = ((app.Resources.TaskDefinition as Json).Properties.ContainerDefinitions as Json[]).find(
  (c) => c?.Name === 'health-sidecar',
);
/** The health check command exactly as the template gives it to ECS (`CMD`, then argv). */
const command: string[] = sidecar.HealthCheck.Command.slice(1);

/** Runs the template's health check with WATCHDOG_FILE; resolves with its exit code. */
function runCheck(file: string): Promise<number | null> {
  const [bin, ...args] = command;
  const child = spawn(bin === 'node' ? process.execPath : String(bin), args, {
    env: { WATCHDOG_FILE: file },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * The watchdog half of the sidecar's container health check, run for real: it kills the process
 * named in the file once the deadline there has passed, and leaves it alone otherwise.
 */
describe('the sidecar health check as a watchdog', () => {
  const victims: ChildProcess[] = [];
  // Made in a hook, not while the file is collected: a run that skips these tests (the Ghost 5 pass
  // collects every file) runs no hook and would leave it behind.
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'watchdog-'));
    file = join(dir, 'watchdog.json');
  });
  const victim = () => {
    // Stands for a hung sidecar: alive, and answering nothing.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    victims.push(child);
    return child;
  };
  const exited = (child: ChildProcess) =>
    new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));

  afterEach(() => {
    for (const child of victims.splice(0)) child.kill('SIGKILL');
    rmSync(file, { force: true });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kills the sidecar once its deadline has passed', async () => {
    const hung = victim();
    writeFileSync(file, JSON.stringify({ pid: hung.pid, deadline: Date.now() - 1 }));
    const signal = exited(hung);
    expect(await runCheck(file)).toBe(1);
    expect(await signal).toBe('SIGKILL');
  });

  it('leaves it alone before its deadline, and while no Ghost of its task may run (no deadline)', async () => {
    const alive = victim();
    for (const deadline of [Date.now() + 60_000, null]) {
      writeFileSync(file, JSON.stringify({ pid: alive.pid, deadline }));
      await runCheck(file);
      expect(alive.exitCode).toBe(null);
      expect(alive.signalCode).toBe(null);
    }
  });
});
