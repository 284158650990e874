import { runMain } from '@ghost-ha/core';
import { runSwitch } from './runSwitch.js';

// Entry point of scripts/failover.sh and scripts/failback.sh. runSwitch reports its own failures
// to the operator; runMain adds the shared handling of what escapes it and of signals (Ctrl-C
// ends the command at once: every step is safe to run again).
void runMain({
  name: 'switch',
  failure: 'the switch failed',
  main: () =>
    runSwitch(process.argv.slice(2), {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    }),
});
