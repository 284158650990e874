import { runMain } from '@ghost-ha/core';
import { runUpgrade } from './runUpgrade.js';

// Entry point of scripts/upgrade.sh. runUpgrade reports its own failures to the operator; runMain
// adds the shared handling of what escapes it and of signals (plan and preflight change nothing).
void runMain({
  name: 'upgrade',
  failure: 'the upgrade command failed',
  main: () =>
    runUpgrade(process.argv.slice(2), {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    }),
});
