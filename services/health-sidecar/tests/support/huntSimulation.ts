// Counts how many generated schedules the simulation needs to find each kind of violation:
// scripts/with-node.sh node --conditions=source --import tsx services/health-sidecar/tests/support/huntSimulation.ts RUNS SEED
import fc from 'fast-check';
import { simulate } from './ProtocolSimulation.js';
import { scheduleArbitrary } from './scheduleArbitrary.js';

const runs = Number(process.argv[2] ?? 1000);
const seed = Number(process.argv[3] ?? 1);
const started = performance.now();
const firsts = new Map<string, number>();
let events = 0;
let withGhost = 0;
let failing = 0;
const schedules = fc.sample(scheduleArbitrary, { numRuns: runs, seed });
for (const [index, schedule] of schedules.entries()) {
  const result = await simulate(schedule);
  events += result.events;
  if (result.ghostsStarted > 0) withGhost++;
  if (result.unmodeled.length > 0) throw new Error(`statements not modeled: ${result.unmodeled.join('; ')}`);
  if (result.violations.length > 0) failing++;
  for (const violation of result.violations) {
    const key = `${violation.kind}${violation.writerState ? ` (writer ${violation.writerState})` : ''}`;
    if (!firsts.has(key)) firsts.set(key, index + 1);
  }
}
process.stdout.write(
  `${JSON.stringify({ runs, seed, ms: Math.round(performance.now() - started), events, withGhost, failing, firstFoundAt: Object.fromEntries(firsts) }, null, 1)}\n`,
);
