import { join } from 'node:path';
import type { Env } from '@ghost-ha/core';
import { ManagedProcess } from './ManagedProcess.js';
import { REPO_ROOT } from './tools.js';

export interface HealthSidecarProcessOptions {
  readonly name: string;
  /** The sidecar's variables (see healthSidecarEnv); PATH is added. */
  readonly env: Env;
  readonly logFile: string;
}

/** The health-sidecar's real entry point as its own process, from source; not started yet. */
export function healthSidecarProcess(options: HealthSidecarProcessOptions): ManagedProcess {
  return new ManagedProcess({
    name: options.name,
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', join(REPO_ROOT, 'services/health-sidecar/src/main.ts')],
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    logFile: options.logFile,
  });
}
