import { runSwitch } from './runSwitch.js';

// Entry point of scripts/failover.sh and scripts/failback.sh.
process.exitCode = await runSwitch(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
