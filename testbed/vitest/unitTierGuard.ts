// Setup file of the `unit` Vitest project: a unit test starts no process. Each way of starting one
// throws, naming the tag that moves the file to the `integration` project.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const STARTERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

for (const name of STARTERS) {
  Object.defineProperty(childProcess, name, {
    configurable: true,
    writable: true,
    value: () => {
      throw new Error(
        `child_process.${name}: unit tests start no processes. Put '// @module-tag integration' (or 'ghost' when it talks to Ghost) at the top of the test file.`,
      );
    },
  });
}
// Named imports (`import { spawn } from 'node:child_process'`) see the replaced functions too.
syncBuiltinESMExports();
