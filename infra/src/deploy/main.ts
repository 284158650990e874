import { runMain } from '@ghost-ha/core';
import { runDeployCheck } from './runDeployCheck.js';

// Entry point of the image check scripts/deploy.sh makes before each app stack.
void runMain({
  name: 'deploy-check',
  failure: 'the deployment check failed',
  main: () =>
    runDeployCheck(process.argv.slice(2), {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    }),
});
