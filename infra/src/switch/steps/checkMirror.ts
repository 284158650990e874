import type { _Object } from '@aws-sdk/client-s3';
import { awsCall } from '../AwsCall.js';
import type { RegionSite } from '../Deployment.js';
import type { Mode } from '../SwitchRequest.js';
import type { SwitchStep } from '../SwitchStep.js';
import { sendCall } from '../sendCall.js';

/** The edge stack's MirrorPrefix default, the cache-invalidator's MIRROR_PREFIX. */
export const MIRROR_PREFIX = 'site';
/** Keys the mirror must hold to be worth falling back on: the home page and Ghost's own 404 page. */
export const MIRROR_REQUIRED_KEYS = [`${MIRROR_PREFIX}/index.html`, `${MIRROR_PREFIX}/.ghost-404.html`] as const;
/** Two nightly reconciles missed: the mirror's newest write is older than this, a warning. */
export const MIRROR_MAX_AGE_MS = 48 * 60 * 60_000;
/** Listing pages read at most (1,000 keys each): the check stays bounded on a large mirror. */
const MAX_PAGES = 50;

/** The data stack's bucket name: `<project>-mirror-<account>-<region>`; the account from the cluster ARN. */
export function mirrorBucketOf(project: string, site: RegionSite): string {
  const account = site.clusterArn.split(':')[4] ?? '';
  return `${project}-mirror-${account}-${site.region}`;
}

/**
 * Reads the static mirror bucket of the region Ghost moves to before anything changes: it holds the
 * home page and the 404 page, and its newest object is recent. Planned: a missing page refuses the
 * switch (both regions still answer; build the mirror first), unless `warnOnly` (--accept-mirror).
 * Disaster: it only warns, as readers are better served by the new region without a mirror than by
 * none at all. A stale mirror only warns: a quiet site legitimately changes nothing for days.
 */
export function checkMirror(project: string, to: RegionSite, mode: Mode, warnOnly = mode === 'disaster'): SwitchStep {
  const bucket = mirrorBucketOf(project, to);
  const call = awsCall('s3:ListObjectsV2', to.region, { Bucket: bucket, Prefix: `${MIRROR_PREFIX}/` }, true);
  return {
    id: 'check-mirror',
    title: `Check the static mirror in ${to.region} (s3://${bucket}/${MIRROR_PREFIX}/)`,
    why: 'Once Ghost serves from there, the mirror is what readers get whenever Ghost fails; an empty or old mirror would serve 404s or old pages.',
    calls: [call],
    verify: `The prefix holds ${MIRROR_REQUIRED_KEYS.join(' and ')}, and its newest object is younger than ${MIRROR_MAX_AGE_MS / 3_600_000} h (older: a warning).`,
    ifFailed: warnOnly
      ? 'Only a warning here. After the switch the cache-invalidator crawls the whole site on its start (reconcile); check the mirror again afterwards.'
      : `Build the mirror in ${to.region} first (services/cache-invalidator buildMirror.ts with MIRROR_BUCKET=${bucket}, or its replication from the other region), then run again; or run with --accept-mirror to switch anyway.`,
    expected: { seconds: 5, basis: `one ListObjectsV2 page per 1,000 keys (at most ${MAX_PAGES})` },
    async run(context) {
      const objects: _Object[] = [];
      let token: string | undefined;
      let truncated = false;
      try {
        for (let page = 0; page < MAX_PAGES; page++) {
          const out = await sendCall(context.clients, {
            ...call,
            input: { ...call.input, ...(token ? { ContinuationToken: token } : {}) },
          });
          objects.push(...(out.Contents ?? []));
          token = out.IsTruncated ? out.NextContinuationToken : undefined;
          if (!token) break;
          truncated = page === MAX_PAGES - 1;
        }
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchBucket') {
          return `no bucket ${bucket} in ${to.region}: a deployment without a static mirror there, nothing to check`;
        }
        throw error;
      }
      const keys = new Set(objects.map((o) => o.Key));
      const missing = MIRROR_REQUIRED_KEYS.filter((key) => !keys.has(key));
      const newest = Math.max(0, ...objects.map((o) => o.LastModified?.getTime() ?? 0));
      const ageMs = context.pacing.now() - newest;
      const summary = `${objects.length}${truncated ? '+' : ''} objects, newest ${newest ? `${new Date(newest).toISOString()} (${(ageMs / 3_600_000).toFixed(1)} h ago)` : 'none'}`;
      const problems = [
        ...(objects.length === 0 ? ['the mirror is empty'] : missing.map((key) => `${key} is missing`)),
      ];
      if (problems.length > 0) {
        const message = `The mirror in ${to.region} is not ready: ${problems.join(', ')} (${summary})`;
        if (!warnOnly) throw new Error(message);
        return `WARNING ${message}; going on (${mode === 'disaster' ? 'disaster' : '--accept-mirror'})`;
      }
      if (ageMs > MIRROR_MAX_AGE_MS) {
        return `WARNING the mirror's newest object is older than ${MIRROR_MAX_AGE_MS / 3_600_000} h (${summary}); the reconcile after the switch refreshes it`;
      }
      return summary;
    },
  };
}
