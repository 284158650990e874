/**
 * Signed webhooks accepted per second with the journal on (every 202 is on disk), side by side with
 * the bare limit of the same HTTP stack (verify the signature, answer, no journal) and with one
 * fsync per event (a journal without group commit).
 *
 *   node --conditions=source --import tsx bench/cache-invalidator/acceptThroughput.ts
 */
import { open, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createDistribution, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import type { CacheInvalidator } from '../../services/cache-invalidator/src/CacheInvalidator.js';
import { signGhostPayload, verifyGhostSignature } from '../../services/cache-invalidator/src/verifyGhostSignature.js';
import { newJournalDir, startInvalidator } from '../../services/cache-invalidator/tests/support/startInvalidator.js';
import { captured, percentile, postPayload } from './payloads.js';

const SECRET = 'bench-secret';
const REQUESTS = Number(process.env.REQUESTS ?? 4000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const RUNS = Number(process.env.RUNS ?? 3);

const bodies = Array.from({ length: 200 }, (_, n) => postPayload(captured.siteUrl, n, n % 2 ? 'edited' : 'published'));

/**
 * The load generator runs in a worker thread, so the server under test has the main thread to
 * itself (two cores: one for the client, one for the server).
 */
const CLIENT = `
const { workerData, parentPort } = require('node:worker_threads');
const { createHmac } = require('node:crypto');
const { url, bodies, secret, requests, concurrency } = workerData;
let next = 0, accepted = 0;
const latencies = [];
const started = performance.now();
Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < requests) {
    const body = bodies[next++ % bodies.length];
    const t = String(Date.now());
    const signature = 'sha256=' + createHmac('sha256', secret).update(body).update(t).digest('hex') + ', t=' + t;
    const sent = performance.now();
    const response = await fetch(url + '/webhooks/ghost/post.published.edited', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Ghost-Signature': signature }, body,
    });
    await response.arrayBuffer();
    latencies.push(performance.now() - sent);
    if (response.status === 202) accepted++;
  }
})).then(() => parentPort.postMessage({ accepted, seconds: (performance.now() - started) / 1000, latencies }));
`;

/** Fires REQUESTS signed post.published.edited webhooks with CONCURRENCY in flight; returns accepted/s. */
async function load(url: string): Promise<{ perSecond: number; p99Ms: number }> {
  const worker = new Worker(CLIENT, {
    eval: true,
    workerData: { url, bodies, secret: SECRET, requests: REQUESTS, concurrency: CONCURRENCY },
  });
  const result = await new Promise<{ accepted: number; seconds: number; latencies: number[] }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  if (result.accepted !== REQUESTS) throw new Error(`only ${result.accepted} of ${REQUESTS} accepted`);
  return {
    perSecond: result.accepted / result.seconds,
    p99Ms: percentile(
      result.latencies.sort((a, b) => a - b),
      99,
    ),
  };
}

/** The service's own work without HTTP: verify, parse, plan, journal (fdatasync), CONCURRENCY in flight. */
async function direct(service: CacheInvalidator): Promise<number> {
  const raw = bodies.map((body) => Buffer.from(body));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const rawBody = raw[next++ % raw.length] ?? Buffer.alloc(0);
        await service.receiveWebhook({
          event: 'post.published.edited',
          rawBody,
          signature: signGhostPayload(SECRET, rawBody, Date.now()),
        });
      }
    }),
  );
  return REQUESTS / ((performance.now() - started) / 1000);
}

/** The bare limit: same Node HTTP, body read and signature verified, no planning, no journal. */
async function bareServer(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      verifyGhostSignature({
        rawBody: Buffer.concat(chunks),
        header: req.headers['x-ghost-signature'] as string,
        secret: SECRET,
        nowMs: Date.now(),
        toleranceMs: 300_000,
      });
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** One write + fdatasync per event, one after another: what a journal without group commit can do. */
async function fsyncPerEvent(count: number): Promise<number> {
  const dir = await newJournalDir();
  const file = await open(join(dir, 'serial.log'), 'a');
  const line = `${JSON.stringify({ type: 'event', id: 'x'.repeat(36), paths: Array(11).fill('/tag/topic/*') })}\n`;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await file.write(line);
    await file.datasync();
  }
  const perSecond = count / ((performance.now() - started) / 1000);
  await file.close();
  await rm(dir, { recursive: true, force: true });
  return perSecond;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const moto = await MotoServer.start();
try {
  const cloudFront = motoCloudFront(moto);
  const distributionId = await createDistribution(cloudFront, 'bench-throughput');
  const service = await startInvalidator(
    {
      SITE_URL: captured.siteUrl,
      CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
      WEBHOOK_SECRET: SECRET,
      INVALIDATION_WINDOW_MS: '5000',
      INVALIDATION_MAX_WAIT_MS: '30000',
      // The readiness checks at their production pace, not the tests' fast one.
      CHECK_INTERVAL_MS: '2000',
      CHECK_TIMEOUT_MS: '1000',
    },
    cloudFront,
  );
  const bare = await bareServer();
  const ours: number[] = [];
  const oursP99: number[] = [];
  const bareRates: number[] = [];
  const serial: number[] = [];
  const directRates: number[] = [];
  await load(service.url); // warm-up
  for (let run = 0; run < RUNS; run++) {
    const a = await load(service.url);
    ours.push(a.perSecond);
    oursP99.push(a.p99Ms);
    bareRates.push((await load(bare.url)).perSecond);
    serial.push(await fsyncPerEvent(500));
    directRates.push(await direct(service));
  }
  await service.stop();
  bare.close();
  const m = { ours: median(ours), bare: median(bareRates), serial: median(serial), direct: median(directRates) };
  console.log(
    `\nSigned webhooks accepted per second (${REQUESTS} requests, ${CONCURRENCY} in flight, median of ${RUNS} runs)`,
  );
  console.log(`| variant | accepted/s | ratio to ours |`);
  console.log(`| --- | ---: | ---: |`);
  console.log(
    `| cache-invalidator, journal on (fdatasync before every 202, group commit) | ${m.ours.toFixed(0)} | 1.00 |`,
  );
  console.log(
    `| bare limit: same HTTP, signature check, no journal | ${m.bare.toFixed(0)} | ${(m.bare / m.ours).toFixed(2)} |`,
  );
  console.log(
    `| the service's own work without HTTP (verify, plan, journal with fdatasync) | ${m.direct.toFixed(0)} | ${(m.direct / m.ours).toFixed(2)} |`,
  );
  console.log(
    `| one write+fdatasync per event, serial (journal without group commit) | ${m.serial.toFixed(0)} | ${(m.serial / m.ours).toFixed(2)} |`,
  );
  console.log(
    `\nours: p99 answer time ${median(oursP99).toFixed(1)} ms (Ghost gives up after 2000 ms); goal >= 1000/s: ${m.ours >= 1000 ? 'met' : 'NOT met'}`,
  );
  console.log(
    `runs: ours ${ours.map((v) => v.toFixed(0)).join(', ')}; bare ${bareRates.map((v) => v.toFixed(0)).join(', ')}; serial fsync ${serial.map((v) => v.toFixed(0)).join(', ')}; without HTTP ${directRates.map((v) => v.toFixed(0)).join(', ')}`,
  );
  const loadAverage = await readFile('/proc/loadavg', 'utf8').catch(() => 'n/a');
  console.log(`load average at the end (2 cores, shared): ${loadAverage.trim()}`);
} finally {
  await moto.destroy();
}
