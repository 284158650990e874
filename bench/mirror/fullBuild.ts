// Side by side: the static mirror's full build of a 1,000-post site at 1, 2 and 4 pages in flight,
// with a reader probing Ghost throughout. Real Ghost 5.130.6 in production mode on MariaDB, moto S3,
// the build command (services/cache-invalidator/src/buildMirror.ts) as a separate process, as an
// operator runs it. Each build writes a fresh prefix of the same bucket.
//
//   node --conditions=source --import tsx bench/mirror/fullBuild.ts
//   POSTS=1000 CONCURRENCY=1,2,4 node --conditions=source --import tsx bench/mirror/fullBuild.ts
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { GhostAdminClient } from '@ghost-ha/core';
import { GhostServer, MariaDbServer, MOTO_CREDENTIALS, MOTO_REGION, MotoServer, REPO_ROOT } from '@ghost-ha/testbed';
import { type Probe, probeFor, probeOnce } from './readerProbe.js';

const POSTS = Number(process.env.POSTS ?? 1000);
const CONCURRENCY = (process.env.CONCURRENCY ?? '1,2,4').split(',').map(Number);
const SEED_CONCURRENCY = 8;
const PROBE_EVERY_MS = 250;
const BUCKET = 'bench-mirror';
const CLOCK_TICKS = 100;

const mariadb = await MariaDbServer.start();
const moto = await MotoServer.start();
const work = await mkdtemp(join(tmpdir(), 'ghost-ha-bench-mirror-'));
let ghost: GhostServer | undefined;
try {
  ghost = await GhostServer.start({ database: await mariadb.database('bench_mirror') });
  const s3 = new S3Client({
    region: MOTO_REGION,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: { ...MOTO_CREDENTIALS },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const seedStart = performance.now();
  await seed(ghost.admin, POSTS);
  console.log(`seeded ${POSTS} posts in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  const { items } = await ghost.admin.browse('posts', { limit: 100, fields: 'url' });
  const probePaths = ['/', ...items.map((post) => new URL(post.url as string).pathname)];

  const idle = await probeFor(ghost.url, probePaths, 10_000, PROBE_EVERY_MS);
  console.log(`idle reader: ${summary(idle)}`);
  const rows: string[] = [];
  for (const concurrency of CONCURRENCY) {
    const pid = ghost.pid ?? 0;
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    const probe: Probe = { latencies: [], failures: 0 };
    let building = true;
    const prober = (async () => {
      let i = 0;
      while (building) {
        await probeOnce(ghost.url, probePaths[i++ % probePaths.length] ?? '/', probe);
        await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
      }
    })();
    const result = await runBuild(ghost.url, concurrency);
    building = false;
    await prober;
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(pid) - cpuBefore;
    const row = `| ${concurrency} | ${seconds.toFixed(1)} | ${result.paths} | ${(result.paths / seconds).toFixed(1)} | ${((cpu / seconds) * 100).toFixed(0)} % | ${summary(probe)} |`;
    console.log(row);
    rows.push(row);
  }
  console.log('\n| pages in flight | build s | paths | paths/s | Ghost CPU (of one core) | reader during the build |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(`idle reader: ${summary(idle)}`);
} finally {
  await ghost?.destroy();
  await Promise.all([mariadb.destroy(), moto.destroy()]);
  await rm(work, { recursive: true, force: true });
}

async function runBuild(siteUrl: string, concurrency: number): Promise<{ paths: number }> {
  const journalDir = await mkdtemp(join(work, 'journal-'));
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      'tsx',
      'services/cache-invalidator/src/buildMirror.ts',
      '--concurrency',
      String(concurrency),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        ...moto.awsEnv(),
        SITE_URL: siteUrl,
        CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
        WEBHOOK_SECRET: 'bench',
        JOURNAL_DIR: journalDir,
        MIRROR_BUCKET: BUCKET,
        MIRROR_PREFIX: `c${concurrency}`,
        MIRROR_ORIGIN_URL: siteUrl,
        LOG_LEVEL: 'info',
      },
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const built = output
    .split('\n')
    .filter((line) => line.includes('"mirror built"'))
    .map((line) => JSON.parse(line) as { paths: number })[0];
  if (code !== 0 || !built) throw new Error(`the build exited ${code}:\n${output.slice(-2000)}`);
  return built;
}

function summary(probe: Probe): string {
  const sorted = [...probe.latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `${sorted.length} reads, median ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms, ${probe.failures} failed`;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function seed(admin: GhostAdminClient, count: number): Promise<void> {
  const body = Array.from(
    { length: 8 },
    (_, i) =>
      `<p>Paragraph ${i + 1} with <strong>bold</strong> text and <a href="https://example.com/">a link</a>, as a real post has.</p>`,
  ).join('');
  const post = (i: number): Record<string, unknown> => ({
    title: `Bench post ${i}`,
    status: 'published',
    tags: [{ name: `Topic ${i % 5}` }, { name: 'Bench' }],
  });
  const first = await admin.add('posts', { ...post(1), html: body }, { source: 'html' });
  const { items } = await admin.browse('posts', { filter: `id:${first.id}`, formats: 'lexical' });
  const lexical = items[0]?.lexical;
  if (typeof lexical !== 'string') throw new Error('Ghost returned no lexical for the first seeded post');
  // Every tag exists before the concurrent adds: on MySQL two adds creating the same tag collide.
  for (let i = 2; i <= 5; i++) await admin.add('posts', { ...post(i), lexical });
  let next = 5;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = ++next;
      await admin.add('posts', { ...post(i), lexical });
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}
