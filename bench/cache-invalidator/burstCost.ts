/**
 * A burst of 1,000 publish/edit events over a minute (each with the site.changed Ghost sends
 * beside it): CreateInvalidation calls and billed paths of the coalescing service, side by side
 * with a naive purger that invalidates each event's targeted paths at once, and one that purges
 * everything on each site.changed. The minute is compressed (TIME_SCALE, default 5: 12 s) with
 * the production window and maximum wait scaled by the same factor (5 s / 30 s → 1 s / 6 s), so
 * the number of windows in the burst is the same as in real time.
 *
 *   node --conditions=source --import tsx bench/cache-invalidator/burstCost.ts
 */
import { createDistribution, invalidationsIn, MotoServer, motoCloudFront } from '@ghost-ha/testbed';
import { signGhostPayload } from '../../services/cache-invalidator/src/verifyGhostSignature.js';
import { startInvalidator } from '../../services/cache-invalidator/tests/support/startInvalidator.js';
import { captured, postPayload } from './payloads.js';

const SECRET = 'bench-secret';
const EVENTS = 1000;
const POSTS = Number(process.env.POSTS ?? 100);
const TIME_SCALE = Number(process.env.TIME_SCALE ?? 5);
const BURST_MS = 60_000 / TIME_SCALE;
const WINDOW_MS = 5000 / TIME_SCALE;
const MAX_WAIT_MS = 30_000 / TIME_SCALE;

const moto = await MotoServer.start();
try {
  const cloudFront = motoCloudFront(moto);
  const distributionId = await createDistribution(cloudFront, 'bench-burst');
  const service = await startInvalidator(
    {
      SITE_URL: captured.siteUrl,
      CLOUDFRONT_DISTRIBUTION_IDS: distributionId,
      WEBHOOK_SECRET: SECRET,
      INVALIDATION_WINDOW_MS: String(WINDOW_MS),
      INVALIDATION_MAX_WAIT_MS: String(MAX_WAIT_MS),
      SITE_CHANGED_ECHO_WINDOW_MS: String(Math.min(1000, WINDOW_MS)),
    },
    cloudFront,
  );
  const deliver = async (event: string, body: string): Promise<string[]> => {
    const response = await fetch(`${service.url}/webhooks/ghost/${event}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Ghost-Signature': signGhostPayload(SECRET, body, Date.now()) },
      body,
    });
    if (response.status !== 202) throw new Error(`${event}: HTTP ${response.status}`);
    return ((await response.json()) as { paths: string[] }).paths;
  };

  let naiveTargetedPaths = 0;
  const started = Date.now();
  for (let i = 0; i < EVENTS; i++) {
    // Publish each post once, then edits land on random posts, as editors fix typos after a launch.
    const post = i < POSTS ? i : Math.floor(Math.random() * POSTS);
    const kind = i < POSTS ? 'published' : 'edited';
    const paths = await deliver(
      `post.${kind === 'published' ? 'published' : 'published.edited'}`,
      postPayload(captured.siteUrl, post, kind),
    );
    await deliver('site.changed', '{}');
    naiveTargetedPaths += paths.length;
    const due = started + ((i + 1) * BURST_MS) / EVENTS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
  }
  const burstSeconds = (Date.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, MAX_WAIT_MS + 2000));
  const ours = await invalidationsIn(cloudFront, distributionId);
  await service.stop();

  const ourPaths = ours.reduce((sum, invalidation) => sum + invalidation.paths.length, 0);
  const purges = ours.filter((invalidation) => invalidation.paths.includes('/*')).length;
  const windows = (burstSeconds * 1000) / WINDOW_MS;
  const row = (name: string, calls: number, paths: number, note: string) =>
    `| ${name} | ${calls} | ${paths} | ${((100 * paths) / naiveTargetedPaths).toFixed(1)} % | ${(calls / windows).toFixed(2)} | ${note} |`;
  console.log(
    `\n${EVENTS} publish/edit events on ${POSTS} posts (+ ${EVENTS} site.changed) in ${burstSeconds.toFixed(1)} s ` +
      `(one minute compressed ${TIME_SCALE}x; window ${WINDOW_MS} ms, max wait ${MAX_WAIT_MS} ms = 5 s / 30 s in real time)`,
  );
  console.log('| strategy | CreateInvalidation calls | billed paths | paths vs naive targeted | calls per window | |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  console.log(
    row('cache-invalidator (coalesced, compacted)', ours.length, ourPaths, `${purges} of its batches were /*`),
  );
  console.log(row('naive: targeted paths per event', EVENTS, naiveTargetedPaths, 'one call per event'));
  console.log(row('naive: /* per site.changed', EVENTS, EVENTS, 'evicts the whole cache 1,000 times'));
  console.log(
    `\ngoals: paths <= 5 % of naive targeted: ${ourPaths <= 0.05 * naiveTargetedPaths ? 'met' : 'NOT met'}; ` +
      `<= 1 call per window: ${ours.length <= windows ? 'met' : 'NOT met'}`,
  );
  console.log(`batches (paths each): ${ours.map((i) => i.paths.length).join(', ')}`);
} finally {
  await moto.destroy();
}
