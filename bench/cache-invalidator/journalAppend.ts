/**
 * The journal alone: durable appends of real event records (about 400 bytes), 32 in flight (group
 * commit) and one at a time (one write and sync each), with wall time and the process's CPU per
 * append. BASELINE_JOURNAL names another Journal.ts (e.g. the same file from an older checkout) to
 * measure side by side in the same run, in rotating order.
 *
 *   node --conditions=source --import tsx bench/cache-invalidator/journalAppend.ts
 *   BASELINE_JOURNAL=../other-checkout/services/cache-invalidator/src/Journal.ts node ... journalAppend.ts
 */
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { HandledEvent } from '../../services/cache-invalidator/src/ghostEvents.js';
import { Journal } from '../../services/cache-invalidator/src/Journal.js';
import type { JournalRecord } from '../../services/cache-invalidator/src/JournalRecord.js';
import { planEventPaths } from '../../services/cache-invalidator/src/planEventPaths.js';
import { SitePaths } from '../../services/cache-invalidator/src/sitePaths.js';
import { webhookOf } from '../../services/cache-invalidator/tests/support/fixtures.js';
import { newJournalDir } from '../../services/cache-invalidator/tests/support/startInvalidator.js';
import { captured, percentile } from './payloads.js';

const APPENDS = Number(process.env.APPENDS ?? 4000);
const SERIAL_APPENDS = Number(process.env.SERIAL_APPENDS ?? 400);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

interface JournalLike {
  append(record: JournalRecord): Promise<void>;
  close(): Promise<void>;
}
type Opener = (dir: string) => Promise<{ journal: JournalLike }>;

const hook = webhookOf('publish post with tags', 'post.published');
const plan = planEventPaths(hook.event as HandledEvent, hook.body, new SitePaths(captured.siteUrl));
const recordOf = (n: number): JournalRecord => ({
  type: 'event',
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  event: hook.event,
  receivedAt: Date.now(),
  plan,
});

/** Appends `count` records with `inFlight` waiting at once; returns appends/s and CPU µs per append. */
async function measure(open: Opener, count: number, inFlight: number): Promise<{ perSecond: number; cpuUs: number }> {
  const dir = await newJournalDir();
  const { journal } = await open(dir);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await journal.append(recordOf(next++));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await journal.close();
  await rm(dir, { recursive: true, force: true });
  return { perSecond: count / seconds, cpuUs: (used.user + used.system) / count };
}

const variants: [string, Opener][] = [['this checkout', (dir) => Journal.open<JournalRecord>(dir)]];
if (process.env.BASELINE_JOURNAL) {
  const module = (await import(resolve(process.env.BASELINE_JOURNAL))) as {
    Journal: { open(dir: string): Promise<{ journal: JournalLike }> };
  };
  variants.push(['baseline', (dir) => module.Journal.open(dir)]);
}

const results = new Map(
  variants.map(([name]) => [
    name,
    { group: [] as number[], groupCpu: [] as number[], serial: [] as number[], serialCpu: [] as number[] },
  ]),
);
await measure(variants[0]?.[1] ?? ((dir) => Journal.open(dir)), 500, 32); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const [name, open] of order) {
    const result = results.get(name);
    if (!result) continue;
    const group = await measure(open, APPENDS, 32);
    result.group.push(group.perSecond);
    result.groupCpu.push(group.cpuUs);
    const serial = await measure(open, SERIAL_APPENDS, 1);
    result.serial.push(serial.perSecond);
    result.serialCpu.push(serial.cpuUs);
  }
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const first = results.get('this checkout');
console.log(
  `\nJournal appends (event records of ${Buffer.byteLength(JSON.stringify(recordOf(0)))} bytes), median of ${ROUNDS} rounds`,
);
console.log('| journal | appends/s, 32 in flight | CPU µs per append | appends/s, one at a time | CPU µs per append |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, result] of results) {
  const ratio = (values: number[], of: number[] | undefined) =>
    of && name !== 'this checkout' ? ` (${(median(values) / median(of)).toFixed(2)}×)` : '';
  console.log(
    `| ${name} | ${median(result.group).toFixed(0)}${ratio(result.group, first?.group)} | ${median(result.groupCpu).toFixed(0)}${ratio(result.groupCpu, first?.groupCpu)} | ${median(result.serial).toFixed(0)}${ratio(result.serial, first?.serial)} | ${median(result.serialCpu).toFixed(0)}${ratio(result.serialCpu, first?.serialCpu)} |`,
  );
}
for (const [name, result] of results) {
  console.log(
    `runs ${name}: group ${result.group.map((v) => v.toFixed(0)).join(', ')}; one at a time ${result.serial.map((v) => v.toFixed(0)).join(', ')}`,
  );
}
console.log(`load average at the end: ${(await readFile('/proc/loadavg', 'utf8')).trim()}`);
