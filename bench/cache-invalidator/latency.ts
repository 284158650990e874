/**
 * Webhook → CreateInvalidation latency, p50/p99: a publish (post.published + site.changed, as Ghost
 * sends them) is timed from the moment the webhook is sent to the moment CreateInvalidation reaches
 * a pass-through proxy in front of moto. Side by side: the coalescing window (1 s here) and the
 * same pipeline with no window (the bare limit: HTTP, journal, sender, moto).
 *
 *   node --conditions=source --import tsx bench/cache-invalidator/latency.ts
 */
import { createDistribution, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import { createCloudFrontClient } from '../../services/cache-invalidator/src/createCloudFrontClient.js';
import { signGhostPayload } from '../../services/cache-invalidator/src/verifyGhostSignature.js';
import { FaultProxy } from '../../services/cache-invalidator/tests/support/FaultProxy.js';
import { startInvalidator } from '../../services/cache-invalidator/tests/support/startInvalidator.js';
import { captured, percentile, postPayload } from './payloads.js';

const SECRET = 'bench-secret';
const SAMPLES = Number(process.env.SAMPLES ?? 40);
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 1000);

async function measure(windowMs: number, moto: MotoServer, proxy: FaultProxy, offset: number): Promise<number[]> {
  const distributionId = await createDistribution(motoCloudFront(moto), `bench-latency-${windowMs}`);
  const service = await startInvalidator(
    {
      SITE_URL: captured.siteUrl,
      CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
      WEBHOOK_SECRET: SECRET,
      INVALIDATION_WINDOW_MS: String(windowMs),
      INVALIDATION_MAX_WAIT_MS: String(Math.max(windowMs * 6, 1)),
      SITE_CHANGED_ECHO_WINDOW_MS: '1000',
    },
    createCloudFrontClient({ ...moto.awsEnv(), AWS_ENDPOINT_URL: proxy.url }),
  );
  const deliver = async (event: string, body: string) => {
    const response = await fetch(`${service.url}/webhooks/ghost/${event}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now()) },
      body,
    });
    if (response.status !== 202) throw new Error(`HTTP ${response.status}`);
  };
  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const post = offset + i;
    const sent = Date.now();
    await deliver('post.published', postPayload(captured.siteUrl, post, 'published'));
    await deliver('site.changed', '{}');
    const marker = `<Path>/story-${post}/</Path>`;
    for (;;) {
      const hit = proxy.requests.find((request) => request.body.includes(marker));
      if (hit) {
        latencies.push(hit.at - sent);
        break;
      }
      if (Date.now() - sent > 30_000) throw new Error(`no invalidation for post ${post}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await service.stop();
  return latencies.sort((a, b) => a - b);
}

const moto = await MotoServer.start();
const proxy = await FaultProxy.start(moto.endpoint);
try {
  const restore = moto.useInThisProcess();
  const windowed = await measure(WINDOW_MS, moto, proxy, 0);
  const bare = await measure(0, moto, proxy, 10_000);
  restore();
  const p = (values: number[], q: number) => percentile(values, q).toFixed(0);
  console.log(
    `\nWebhook → CreateInvalidation latency, ${SAMPLES} isolated publishes each (post.published + site.changed)`,
  );
  console.log('| pipeline | p50 ms | p99 ms | p50 minus window ms |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(
    `| window ${WINDOW_MS} ms (coalescing) | ${p(windowed, 50)} | ${p(windowed, 99)} | ${(percentile(windowed, 50) - WINDOW_MS).toFixed(0)} |`,
  );
  console.log(`| no window (bare limit of the pipeline) | ${p(bare, 50)} | ${p(bare, 99)} | ${p(bare, 50)} |`);
  const goal = percentile(windowed, 50) <= WINDOW_MS + 100;
  console.log(`\ngoal p50 <= window + 100 ms (${WINDOW_MS + 100} ms): ${goal ? 'met' : 'NOT met'}`);
} finally {
  await proxy.close();
  await moto.destroy();
}
