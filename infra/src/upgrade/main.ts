import { runMain } from '@ghost-ha/core';
import { runUpgrade } from './runUpgrade.js';

/** Longer than any upgrade or rollback: the bound on finishing one after a signal. */
const FINISH_BOUND_MS = 6 * 60 * 60_000;
const CHANGES_PRODUCTION = new Set(['apply', 'rollback']);

// Entry point of scripts/upgrade.sh. runUpgrade reports its own failures to the operator; runMain
// adds the shared handling of what escapes it and of signals. plan and preflight change nothing and
// stop at a signal; apply and rollback do not stop half way (Ghost stopped, the maintenance answer
// up, the lock held): they finish, or roll back, and exit with their own code.
void runMain({
  name: 'upgrade',
  failure: 'the upgrade command failed',
  main: (context) => {
    const argv = process.argv.slice(2);
    const running = runUpgrade(argv, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
    if (CHANGES_PRODUCTION.has(argv[0] ?? '')) {
      context.onStop(
        async (signal) => {
          process.stderr.write(
            `upgrade: ${signal} received; ${argv[0]} does not stop half way: it finishes (or rolls back) first. ` +
              'To abandon it anyway: SIGKILL, delete the lock object it took (s3://<report bucket>/upgrade-lock/<project>.json), ' +
              'then upgrade.sh rollback --backup-point <the label it printed>.\n',
          );
          await running;
        },
        { timeoutMs: FINISH_BOUND_MS },
      );
    }
    return running;
  },
});
