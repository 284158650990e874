// A full crawl of a 1,000-post site with images when nothing changed: how many objects it writes
// to S3, how many it only checks, how long it takes, and what a reader of Ghost sees meanwhile,
// side by side with the same reader on an idle Ghost. Real Ghost in production mode on MariaDB,
// the health sidecar's gate in front of it (the refresher and the reader both read through it, as
// in a task), moto S3 behind a recording proxy (every S3 request the build sends is counted), and
// the build command (services/cache-invalidator/src/buildMirror.ts) as a separate process at its
// default concurrency: once into the empty bucket, then again with nothing changed.
//
//   node --conditions=source --import tsx bench/mirror/unchangedCrawl.ts
//   POSTS=1000 IMAGES=5 IDLE_MS=30000 BUILD_TIMEOUT_MS=420000 node --conditions=source --import tsx bench/mirror/unchangedCrawl.ts
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { type GhostAdminClient, ghostAdminToken } from '@ghost-ha/core';
import {
  freePort,
  GhostServer,
  healthSidecarEnv,
  healthSidecarProcess,
  type ManagedProcess,
  MariaDbServer,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  MotoServer,
  REPO_ROOT,
  waitFor,
} from '@ghost-ha/testbed';
import { PNG } from 'pngjs';
import { RecordingProxy } from '../../services/cache-invalidator/tests/support/RecordingProxy.js';
import { type Probe, probeFor, probeOnce } from './readerProbe.js';

const POSTS = Number(process.env.POSTS ?? 1000);
const IMAGES = Number(process.env.IMAGES ?? 5);
const IDLE_MS = Number(process.env.IDLE_MS ?? 30_000);
/** A build still running after this is stopped (SIGINT) and the run fails: bounded runtime. */
const BUILD_TIMEOUT_MS = Number(process.env.BUILD_TIMEOUT_MS ?? 420_000);
const SEED_CONCURRENCY = 8;
const PROBE_EVERY_MS = 100;
const BUCKET = 'bench-mirror';
const PREFIX = 'site';
const CLOCK_TICKS = 100;

interface S3Counts {
  putObject: number;
  multipart: number;
  head: number;
  get: number;
  delete: number;
  written: string[];
}

const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const mariadb = await MariaDbServer.start();
const moto = await MotoServer.start();
const work = await mkdtemp(join(tmpdir(), 'ghost-ha-bench-unchanged-'));
let ghost: GhostServer | undefined;
let sidecar: ManagedProcess | undefined;
let s3Proxy: RecordingProxy | undefined;
try {
  const database = await mariadb.database('bench_unchanged');
  ghost = await GhostServer.start({ database });
  const s3 = new S3Client({
    region: MOTO_REGION,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: { ...MOTO_CREDENTIALS },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3Proxy = await RecordingProxy.start(moto.endpoint);
  const gateUrl = await startGate(ghost, database);

  const seedStart = performance.now();
  const images: string[] = [];
  for (let i = 0; i < IMAGES; i++) images.push(await uploadImage(ghost, gradientPng(1200, 800, (i * 53) % 256)));
  await seed(ghost.admin, POSTS, images);
  console.log(
    `seeded ${POSTS} posts (${IMAGES} uploaded images as feature and inline images) in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );
  const { items } = await ghost.admin.browse('posts', { limit: 100, fields: 'url' });
  const probePaths = ['/', ...items.map((post) => new URL(post.url as string).pathname)];

  const first = await crawl('first build (empty bucket)', ghost, gateUrl, probePaths, s3Proxy);
  const idle = await probeFor(gateUrl, probePaths, IDLE_MS, PROBE_EVERY_MS);
  const second = await crawl('full crawl, nothing changed', ghost, gateUrl, probePaths, s3Proxy);
  const loadAtEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  console.log(
    '\n| crawl | s | paths | PutObject | multipart uploads | HEAD | refresher: written / unchanged / present | Ghost CPU (of one core) | reader through the gate during it |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of [first, second]) console.log(row.row);
  console.log(`| idle Ghost (no crawl, ${IDLE_MS / 1000} s) | — | — | — | — | — | — | — | ${summary(idle)} |`);
  const ratio = (q: number) => (quantile(second.probe, q) / Math.max(1, quantile(idle, q))).toFixed(2);
  console.log(
    `\nreader during the unchanged crawl / idle: p50 ${ratio(0.5)}×, p95 ${ratio(0.95)}×, p99 ${ratio(0.99)}×`,
  );
  console.log(`objects written by the unchanged crawl: ${JSON.stringify(second.s3.written.slice(0, 40))}`);
  console.log(
    `load average (1, 5, 15 min): ${loadAtStart} at start, ${loadAtEnd} at end; ${
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('processor')).length
    } CPUs`,
  );
} finally {
  await sidecar?.stop(5_000);
  await s3Proxy?.close();
  await ghost?.destroy();
  await Promise.all([mariadb.destroy(), moto.destroy()]);
  await rm(work, { recursive: true, force: true });
}

async function crawl(
  name: string,
  ghost: GhostServer,
  gateUrl: string,
  probePaths: string[],
  proxy: RecordingProxy,
): Promise<{ row: string; probe: Probe; s3: S3Counts }> {
  const pid = ghost.pid ?? 0;
  const cpuBefore = cpuSeconds(pid);
  const from = proxy.requests.length;
  const started = performance.now();
  const probe: Probe = { latencies: [], failures: 0 };
  let building = true;
  const prober = (async () => {
    for (let i = 0; building; i++) {
      await probeOnce(gateUrl, probePaths[i % probePaths.length] ?? '/', probe);
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  })();
  let built: Record<string, number>;
  try {
    built = await runBuild(ghost.url, gateUrl);
  } finally {
    building = false;
    await prober;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  const s3 = countS3(proxy.requests.slice(from));
  const row = `| ${name} | ${seconds.toFixed(1)} | ${built.paths} | ${s3.putObject} | ${s3.multipart} | ${s3.head} | ${built.written ?? 0} / ${built.unchanged ?? 0} / ${built.present ?? 0} | ${((cpu / seconds) * 100).toFixed(0)} % | ${summary(probe)} |`;
  console.log(row);
  return { row, probe, s3 };
}

/** S3 requests as the SDK sends them (path style): PUT without `uploadId` is PutObject, POST `?uploads` starts a multipart upload. */
function countS3(requests: { method: string; path: string }[]): S3Counts {
  const counts: S3Counts = { putObject: 0, multipart: 0, head: 0, get: 0, delete: 0, written: [] };
  for (const { method, path } of requests) {
    const [pathname = '', query = ''] = path.split('?');
    const key = decodeURIComponent(pathname.replace(`/${BUCKET}/`, ''));
    if (method === 'PUT' && !/(^|&)uploadId=/.test(query) && !query.includes('x-id=UploadPart')) {
      counts.putObject++;
      counts.written.push(key);
    } else if (method === 'POST' && /(^|&)uploads(=|&|$)/.test(query)) {
      counts.multipart++;
      counts.written.push(key);
    } else if (method === 'HEAD') counts.head++;
    else if (method === 'GET') counts.get++;
    else if (method === 'DELETE') counts.delete++;
  }
  return counts;
}

async function startGate(
  ghost: GhostServer,
  database: Awaited<ReturnType<MariaDbServer['database']>>,
): Promise<string> {
  const [gatePort, healthPort] = [await freePort(), await freePort()];
  sidecar = healthSidecarProcess({
    name: 'health-sidecar',
    env: healthSidecarEnv(
      { ghostUrl: ghost.url, contentPath: ghost.contentDir, database },
      {
        HEALTH_PORT: String(healthPort),
        GATE_PORT: String(gatePort),
        SITE_URL: ghost.url,
        DISK_FREE_WARN_MB: '0',
      },
    ),
    logFile: join(work, 'sidecar.log'),
  });
  sidecar.start();
  await waitFor(
    async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/health/ready`).catch(() => undefined))?.status === 200
        ? true
        : undefined,
    { what: 'the gate to be ready', timeoutMs: 60_000, intervalMs: 250 },
  );
  return `http://127.0.0.1:${gatePort}`;
}

async function runBuild(siteUrl: string, originUrl: string): Promise<Record<string, number>> {
  const journalDir = await mkdtemp(join(work, 'journal-'));
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'services/cache-invalidator/src/buildMirror.ts'],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        ...moto.awsEnv(),
        AWS_ENDPOINT_URL: s3Proxy?.url ?? moto.endpoint,
        SITE_URL: siteUrl,
        CLOUDFRONT_DISTRIBUTION_IDS: 'E2QWRUHAPOMQZL',
        WEBHOOK_SECRET: 'bench',
        JOURNAL_DIR: journalDir,
        MIRROR_BUCKET: BUCKET,
        MIRROR_PREFIX: PREFIX,
        MIRROR_ORIGIN_URL: originUrl,
        LOG_LEVEL: 'info',
      },
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGINT'), BUILD_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const built = output
    .split('\n')
    .filter((line) => line.includes('"mirror built"'))
    .map((line) => JSON.parse(line) as Record<string, number>)[0];
  if (code !== 0 || !built) throw new Error(`the build exited ${code}:\n${output.slice(-2000)}`);
  return built;
}

function quantile(probe: Probe, q: number): number {
  const sorted = [...probe.latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function summary(probe: Probe): string {
  const at = (q: number) => quantile(probe, q).toFixed(0);
  return `${probe.latencies.length} reads, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${Math.max(0, ...probe.latencies).toFixed(0)} ms, ${probe.failures} failed`;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Uploads an image through Ghost's Admin API (as the editor does) and returns its URL. */
async function uploadImage(ghost: GhostServer, png: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'bench.png');
  form.append('purpose', 'image');
  const response = await fetch(`${ghost.url}/ghost/api/admin/images/upload/`, {
    method: 'POST',
    headers: { Authorization: `Ghost ${ghostAdminToken(ghost.adminApiKey)}` },
    body: form,
  });
  const body = (await response.json()) as { images?: { url: string }[] };
  const url = body.images?.[0]?.url;
  if (response.status !== 201 || !url) throw new Error(`Image upload: HTTP ${response.status} ${JSON.stringify(body)}`);
  return url;
}

/** An RGB gradient as a PNG, large enough for Ghost to make its responsive sizes. */
function gradientPng(width: number, height: number, blue: number): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = (y * width + x) * 4;
      png.data[at] = Math.round((x / width) * 255);
      png.data[at + 1] = Math.round((y / height) * 255);
      png.data[at + 2] = blue;
      png.data[at + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

async function seed(admin: GhostAdminClient, count: number, images: string[]): Promise<void> {
  const body = [
    `<figure><img src="${images[0]}" alt="An inline image"></figure>`,
    ...Array.from(
      { length: 8 },
      (_, i) =>
        `<p>Paragraph ${i + 1} with <strong>bold</strong> text and <a href="https://example.com/">a link</a>, as a real post has.</p>`,
    ),
  ].join('');
  const post = (i: number): Record<string, unknown> => ({
    title: `Bench post ${i}`,
    status: 'published',
    feature_image: images[i % images.length],
    tags: [{ name: `Topic ${i % 5}` }, { name: 'Bench' }],
  });
  const first = await admin.add('posts', { ...post(1), html: body }, { source: 'html' });
  const { items } = await admin.browse('posts', { filter: `id:${first.id}`, formats: 'lexical' });
  const lexical = items[0]?.lexical;
  if (typeof lexical !== 'string') throw new Error('Ghost returned no lexical for the first seeded post');
  if (!lexical.includes(images[0] ?? '')) throw new Error('the first seeded post lost its inline image');
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
