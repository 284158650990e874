import { runMain } from '@ghost-ha/core';
import { runDeployCheck } from './runDeployCheck.js';

// Entry point of the reads scripts/deploy.sh makes: the active region and the images' presence.
void runMain({
  name: 'deploy-check',
  failure: 'the deployment check failed',
  main: () =>
    runDeployCheck(process.argv.slice(2), {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    }),
});
